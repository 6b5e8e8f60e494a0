"""The two job backends behind one seam: arq on Redis, or tasks in this process."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool

from api.queue.registry import CronSpec, all_crons
from api.queue.runner import JobContext, Outcome, get_dispatcher, run_job, set_dispatcher, sweep
from api.settings import Settings

log = logging.getLogger(__name__)

ARQ_FUNCTION = "fieldvisit.run_job"


def arq_job_id(job_id: int, attempt: int | None = None, *, tag: str | None = None) -> str:
    """Redis-side id of an outbox job (per retry attempt, so a retry never collides with its parent;
    a redelivery is tagged, so it never collides with the arq job of a worker that died, which arq
    keeps locked for the longest job timeout)."""
    if tag is not None:
        return f"fv-job-{job_id}-{tag}"
    return f"fv-job-{job_id}" if attempt is None else f"fv-job-{job_id}-r{attempt}"


class ArqBackend:
    """Hands outbox ids to arq; a worker process (``fieldvisit worker``) runs them."""

    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis

    @classmethod
    async def connect(cls, redis_url: str) -> ArqBackend:
        """Open a Redis pool for enqueueing."""
        return cls(await create_pool(RedisSettings.from_dsn(redis_url)))

    async def dispatch(self, job_ids: list[int], *, delay_s: float = 0.0) -> None:
        """Enqueue each id once (arq ignores an id already queued)."""
        for job_id in job_ids:
            await self.redis.enqueue_job(ARQ_FUNCTION, job_id, _job_id=arq_job_id(job_id), _defer_by=delay_s or None)

    async def redeliver(self, jobs: list[tuple[int, str]]) -> None:
        """Enqueue each job under its tagged id (arq ignores an id already queued)."""
        for job_id, tag in jobs:
            await self.redis.enqueue_job(ARQ_FUNCTION, job_id, _job_id=arq_job_id(job_id, tag=tag))

    async def close(self) -> None:
        """Close the Redis pool."""
        await self.redis.aclose()


class InlineBackend:
    """Runs jobs as tasks of this process: the embedded default, with the same outbox semantics."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []

    async def dispatch(self, job_ids: list[int], *, delay_s: float = 0.0) -> None:
        """Start each job in the background of this process."""
        for job_id in job_ids:
            self._spawn(job_id, delay_s)

    async def redeliver(self, jobs: list[tuple[int, str]]) -> None:
        """Run again jobs a previous run of this process left behind."""
        for job_id, _ in jobs:
            self._spawn(job_id, 0.0)

    def _spawn(self, job_id: int, delay_s: float) -> None:
        task = asyncio.create_task(self._run(job_id, delay_s), name=f"job-{job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job_id: int, delay_s: float) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        try:
            result = await run_job(job_id, self.settings)
        except Exception:  # the database itself failed: the sweeper picks the job up again
            log.exception("job %s could not be run", job_id)
            return
        if result.outcome is Outcome.RETRY:
            self._spawn(job_id, result.retry_in_s)

    def running(self) -> list[asyncio.Task[None]]:
        """The job tasks started and not finished yet (waiting for their delay, or running)."""
        return list(self._tasks)

    async def drain(self) -> None:
        """Wait until every job started so far (and the retries they spawn) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def start_schedules(self) -> None:
        """Start the periodic jobs and the outbox sweeper in this process."""
        for spec in all_crons():
            self._loops.append(asyncio.create_task(self._every(spec), name=f"cron-{spec.name}"))
        self._loops.append(asyncio.create_task(self._sweep_loop(), name="outbox-sweeper"))

    async def _every(self, spec: CronSpec) -> None:
        while True:
            await asyncio.sleep(spec.every_s)
            await run_cron(spec, self.settings)

    async def _sweep_loop(self) -> None:
        interval = self.settings.queue.sweep_interval_s
        await sweep(min_age_s=0.0, settings=self.settings)  # jobs left pending by a previous run of this process
        while True:
            await asyncio.sleep(interval)
            try:
                await sweep(min_age_s=interval, settings=self.settings)
            except Exception:
                log.exception("outbox sweep failed")

    async def close(self) -> None:
        """Stop schedules and cancel running jobs; the outbox keeps them pending for the next start."""
        for task in [*self._loops, *self._tasks]:
            task.cancel()
        await asyncio.gather(*self._loops, *self._tasks, return_exceptions=True)
        self._loops.clear()


async def run_cron(spec: CronSpec, settings: Settings) -> None:
    """Run one periodic job, logging (not raising) its failure so the schedule goes on."""
    try:
        await spec.fn(JobContext(settings=settings, job_id=None, attempt=1))
    except Exception:
        log.exception("periodic job %s failed", spec.name)


async def start_backend(settings: Settings, *, schedules: bool) -> ArqBackend | InlineBackend:
    """Create this process's backend and install it as the outbox dispatcher (until ``stop_backend``)."""
    backend: ArqBackend | InlineBackend
    if settings.queue.redis_url is not None:
        backend = await ArqBackend.connect(settings.queue.redis_url)
    else:
        backend = InlineBackend(settings)
        if schedules:
            backend.start_schedules()
    _previous[id(backend)] = get_dispatcher()
    set_dispatcher(backend)
    return backend


_previous: dict[int, Any] = {}


async def stop_backend(backend: Any) -> None:
    """Close the backend and reinstall whichever dispatcher was there before it."""
    set_dispatcher(_previous.pop(id(backend), None))
    await backend.close()
