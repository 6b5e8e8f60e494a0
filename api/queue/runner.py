"""Deferring, claiming and running outbox jobs; the same code serves arq and the in-process backend."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Protocol

from api.db import UnitOfWork, current_unit_of_work, json_value, write_transaction
from api.queue.registry import UnknownJob, get_job
from api.queue.tables import Job
from api.settings import Settings, get_settings
from sync.rows import insert_returning

log = logging.getLogger(__name__)

JobArg = str | int


class Dispatcher(Protocol):
    """What a backend offers the outbox: hand job ids to whatever runs them."""

    async def dispatch(self, job_ids: list[int], *, delay_s: float = 0.0) -> None: ...

    async def redeliver(self, jobs: list[tuple[int, str]]) -> None:
        """Hand over again jobs whose earlier delivery went to a worker that died; each (id, tag)
        names a delivery of its own, so it cannot be mistaken for the dead one."""


class NoTransactionForJob(RuntimeError):
    """``defer`` was called outside a write transaction: the job could not be tied to a commit."""


_dispatcher: Dispatcher | None = None


def set_dispatcher(dispatcher: Dispatcher | None) -> None:
    """Install the backend of this process (done by the app lifespan, the worker and the CLI)."""
    global _dispatcher
    _dispatcher = dispatcher


def get_dispatcher() -> Dispatcher | None:
    """The backend of this process, if one is running."""
    return _dispatcher


def _now() -> datetime:
    return datetime.now(UTC)


async def defer(name: str, *args: JobArg, uow: UnitOfWork | None = None) -> int:
    """Write a job to the outbox in the current transaction; it is dispatched after commit.

    Returns the outbox id. Raises ``NoTransactionForJob`` outside a write transaction, because a
    job enqueued before (or without) a commit could run on data that never existed.
    """
    get_job(name)  # fail fast on typos, inside the transaction
    uow = uow or current_unit_of_work()
    if uow is None:
        raise NoTransactionForJob(f"defer({name!r}) needs an open write_transaction()")
    job_id = int(await insert_returning(Job, {"name": name, "args": list(args)}, Job.id))
    if not uow.deferred_jobs:
        uow.after_commit(lambda: _dispatch_after_commit(uow))
    uow.deferred_jobs.append(job_id)
    return job_id


async def _dispatch_after_commit(uow: UnitOfWork) -> None:
    dispatcher = _dispatcher
    if dispatcher is not None and uow.deferred_jobs:
        await dispatcher.dispatch(list(uow.deferred_jobs))


class Outcome(Enum):
    """What happened when a job ran."""

    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"  # already done, failed, or running elsewhere


@dataclass
class JobContext:
    """What a job function receives besides its ids."""

    settings: Settings
    job_id: int | None
    attempt: int
    finished: bool = False  # the job's final transaction marked it done

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """Open the job's own write transaction."""
        async with write_transaction() as uow:
            yield uow

    @asynccontextmanager
    async def final_transaction(self) -> AsyncIterator[UnitOfWork]:
        """The job's last write transaction: it also marks the outbox row done, so the runner
        needs no transaction of its own afterwards. Only for the last thing a job does; if the job
        still raises after it, the runner records the failure over it and the job runs again."""
        async with write_transaction() as uow:
            yield uow
            if self.job_id is not None:
                await Job.update({Job.state: "done", Job.updated_at: _now()}).where(
                    (Job.id == self.job_id) & (Job.state == "running")
                )
        self.finished = self.job_id is not None

    async def defer(self, name: str, *args: JobArg) -> int:
        """Defer a follow-up job inside the job's open transaction."""
        return await defer(name, *args)


@dataclass(frozen=True)
class RunResult:
    """The outcome of one attempt and, for a retry, when to try again."""

    outcome: Outcome
    retry_in_s: float = 0.0


def backoff_s(attempt: int, base_s: float = 2.0, cap_s: float = 300.0) -> float:
    """Exponential backoff: base, 2*base, 4*base, ... capped."""
    return float(min(cap_s, base_s * (2 ** max(0, attempt - 1))))


async def _claim(job_id: int, stale_after_s: float) -> dict[str, Any] | str | None:
    """Mark the job running (the job's name, args and attempt) in one transaction. None if it is not
    there or not due; the name alone if no such job is registered. A job still "running" whose
    heartbeat is older than ``stale_after_s`` belongs to a worker that died: it is taken over."""
    now = _now()
    async with write_transaction(durable=False):  # a claim lost to a power cut only means the job runs again
        found = await Job.select(Job.name).where(Job.id == job_id).first()
        if found is None:
            return None
        try:
            get_job(str(found["name"]))
        except UnknownJob:
            return str(found["name"])
        rows = (
            await Job.update({Job.state: "running", Job.attempts: Job.attempts + 1, Job.updated_at: now})
            .where(
                (Job.id == job_id)
                & (
                    (Job.state == "pending")
                    | ((Job.state == "running") & (Job.updated_at < now - timedelta(seconds=stale_after_s)))
                )
            )
            .returning(Job.name, Job.args, Job.attempts)
        )
    return rows[0] if rows else None


async def _finish(job_id: int, state: str, error: str = "", run_after: datetime | None = None) -> None:
    values: dict[Any, Any] = {Job.state: state, Job.updated_at: _now()}
    if error:  # a success keeps the last failure's message for whoever investigates the retries
        values[Job.last_error] = error[:4000]
    if run_after is not None:
        values[Job.run_after] = run_after
    async with write_transaction():
        await Job.update(values).where(Job.id == job_id)


async def run_job(job_id: int, settings: Settings | None = None) -> RunResult:
    """Claim an outbox job, run it, record the outcome. Never raises for a job's own failure.

    A job runs for at most its ``timeout_s``: past it, it is cancelled (its open transaction rolls
    back) and the attempt counts as failed, retried with backoff like any other failure. The same on
    arq and in-process, where nothing else would stop a job that never returns."""
    settings = settings or get_settings()
    row = await _claim(job_id, settings.queue.stale_after_s)
    if row is None:
        return RunResult(Outcome.SKIPPED)
    if isinstance(row, str):
        await _finish(job_id, "failed", f"no job named {row!r} is registered")
        log.error("job %s: unknown job name %r", job_id, row)
        return RunResult(Outcome.FAILED)
    spec = get_job(str(row["name"]))
    name, args, attempt = spec.name, row["args"], int(row["attempts"])
    args = json_value(args, [])
    context = JobContext(settings=settings, job_id=job_id, attempt=attempt)
    heartbeat = asyncio.create_task(_beat(job_id, attempt, settings.queue.heartbeat_s), name=f"job-{job_id}-heartbeat")
    limit = asyncio.timeout(spec.timeout_s)  # the job's own limit, whichever backend runs it
    try:
        async with limit:
            await spec.fn(context, *args)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        if limit.expired():
            error = f"TimeoutError: the job ran past its {spec.timeout_s:g} s limit and was cancelled"
        if attempt >= settings.queue.max_attempts:
            log.exception("job %s (%s) failed for good after %s attempts", job_id, name, attempt)
            await _finish(job_id, "failed", error)
            return RunResult(Outcome.FAILED)
        delay = backoff_s(attempt, settings.queue.retry_base_s)
        log.warning("job %s (%s) attempt %s failed, retrying in %.1fs: %s", job_id, name, attempt, delay, error)
        await _finish(job_id, "pending", error, run_after=_now() + timedelta(seconds=delay))
        return RunResult(Outcome.RETRY, delay)
    finally:
        heartbeat.cancel()
        await asyncio.gather(heartbeat, return_exceptions=True)
    if not context.finished:
        await _finish(job_id, "done")
    return RunResult(Outcome.DONE)


async def _beat(job_id: int, attempt: int, every_s: float) -> None:
    """Say "still running" now and then, so that a job is taken over only when its worker is gone
    (a job's own timeout can be an hour: waiting that long after a crash is not an option)."""
    while True:
        await asyncio.sleep(every_s)
        try:
            async with write_transaction(durable=False):
                await Job.update({Job.updated_at: _now()}).where(
                    (Job.id == job_id) & (Job.state == "running") & (Job.attempts == attempt)
                )
        except Exception:  # the database is away for a moment; the next beat tries again
            log.warning("job %s: heartbeat failed", job_id, exc_info=True)


async def list_due(limit: int = 500, min_age_s: float = 0.0) -> list[int]:
    """Pending jobs to dispatch again: their time has come and nobody touched them for ``min_age_s`` seconds."""
    now = _now()
    pending = (
        await Job.select(Job.id)
        .where(
            (Job.state == "pending") & (Job.run_after <= now) & (Job.updated_at <= now - timedelta(seconds=min_age_s))
        )
        .order_by(Job.id)
        .limit(limit)
    )
    return [int(r["id"]) for r in pending]


async def list_abandoned(stale_after_s: float, limit: int = 500) -> list[tuple[int, str]]:
    """Deliveries to make again, as (id, tag): jobs marked running whose heartbeat stopped (their worker
    died mid-job), and jobs still pending long after their time (the worker that took them off the
    queue died before it could claim them, and the queue keeps that delivery locked for an hour).

    A stuck pending job is touched, so it is delivered again at most once per ``stale_after_s``; if it
    was only waiting behind a backlog, the extra delivery finds it claimed and does nothing."""
    now = _now()
    stale = now - timedelta(seconds=stale_after_s)
    running = (
        await Job.select(Job.id, Job.attempts)
        .where((Job.state == "running") & (Job.updated_at <= stale))
        .order_by(Job.id)
        .limit(limit)
    )
    found = [(int(r["id"]), f"t{r['attempts']}") for r in running]
    async with write_transaction():
        stuck = (
            await Job.update({Job.updated_at: now})
            .where((Job.state == "pending") & (Job.run_after <= stale) & (Job.updated_at <= stale))
            .returning(Job.id)
        )
    found += [(int(r["id"]), f"p{int(now.timestamp())}") for r in stuck[:limit]]
    return found


async def sweep(min_age_s: float, settings: Settings | None = None) -> int:
    """Re-dispatch pending jobs that no backend picked up (lost hand-off, Redis restart, crash), and
    hand jobs whose worker died mid-run to another one."""
    dispatcher = _dispatcher
    if dispatcher is None:
        return 0
    settings = settings or get_settings()
    ids = await list_due(min_age_s=min_age_s)
    if ids:
        log.info("sweeper re-dispatching %d pending job(s)", len(ids))
        await dispatcher.dispatch(ids)
    abandoned = await list_abandoned(settings.queue.stale_after_s)
    if abandoned:
        log.warning("sweeper taking over %d job(s) whose worker died", len(abandoned))
        await dispatcher.redeliver(abandoned)
    return len(ids) + len(abandoned)
