"""The arq worker: ``fieldvisit worker`` runs outbox jobs and the periodic jobs on Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.worker import Function, Worker, func
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.db import start_engine, stop_engine
from api.queue.backends import ARQ_FUNCTION, ArqBackend, arq_job_id, run_cron
from api.queue.registry import CronSpec, all_crons, all_jobs
from api.queue.runner import Outcome, get_dispatcher, run_job, set_dispatcher, sweep
from api.settings import Settings

log = logging.getLogger(__name__)


async def _run_outbox_job(ctx: dict[str, Any], job_id: int) -> str:
    settings: Settings = ctx["fieldvisit_settings"]
    result = await run_job(job_id, settings)
    if result.outcome is Outcome.RETRY:
        backend: ArqBackend = ctx["fieldvisit_backend"]
        attempt = ctx.get("job_try", 1)
        await backend.redis.enqueue_job(
            ARQ_FUNCTION, job_id, _job_id=arq_job_id(job_id, attempt), _defer_by=result.retry_in_s
        )
    return result.outcome.value


def _cron_fields(every_s: int) -> dict[str, Any]:
    if every_s < 60:
        return {"second": set(range(0, 60, max(1, every_s)))}
    minutes = max(1, every_s // 60)
    return {"minute": set(range(0, 60, minutes)), "second": 0}


def _cron_job(spec: CronSpec) -> CronJob:
    async def run(ctx: dict[str, Any]) -> None:
        await run_cron(spec, ctx["fieldvisit_settings"])

    run.__qualname__ = spec.name
    return cron(run, name=spec.name, **_cron_fields(spec.every_s))


def build_worker(settings: Settings, *, burst: bool = False, handle_signals: bool = True) -> Worker:
    """An arq worker for every registered job, the periodic jobs and the outbox sweeper."""
    if settings.queue.redis_url is None:
        raise RuntimeError("the arq worker needs FIELDVISIT_REDIS_URL; without it jobs run in-process")

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["fieldvisit_opened_engine"] = await start_engine(settings.database)
        backend = ArqBackend(ctx["redis"])
        ctx["fieldvisit_settings"] = settings
        ctx["fieldvisit_backend"] = backend
        ctx["fieldvisit_previous_dispatcher"] = get_dispatcher()
        set_dispatcher(backend)
        await sweep(min_age_s=0.0, settings=settings)

    async def shutdown(ctx: dict[str, Any]) -> None:
        set_dispatcher(ctx.get("fieldvisit_previous_dispatcher"))
        if ctx.get("fieldvisit_opened_engine"):
            await stop_engine()

    async def sweeper(ctx: dict[str, Any]) -> None:
        await sweep(min_age_s=settings.queue.sweep_interval_s, settings=settings)

    timeout = max([spec.timeout_s for spec in all_jobs()] + [300.0])
    functions: list[Function] = [func(_run_outbox_job, name=ARQ_FUNCTION, timeout=timeout, keep_result=0, max_tries=3)]
    crons = [_cron_job(spec) for spec in all_crons()]
    crons.append(cron(sweeper, name="queue.sweep", **_cron_fields(int(settings.queue.sweep_interval_s))))
    return Worker(
        functions=functions,
        cron_jobs=crons,
        redis_settings=RedisSettings.from_dsn(settings.queue.redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        burst=burst,
        handle_signals=handle_signals,
        keep_result=0,
        max_jobs=20,
        poll_delay=0.2,
    )


REDIS_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError)


def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """``fieldvisit worker``: run until SIGINT/SIGTERM. When Redis goes away (restart, failover) the
    worker lets its running jobs finish, waits for Redis and starts again: what was queued in a Redis
    that lost its data is still pending in the outbox, and the sweeper hands it over once it is back."""
    if burst:
        build_worker(settings, burst=True).run()
        return
    asyncio.run(_run_until_stopped(settings))


async def _run_until_stopped(settings: Settings) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    delay = 1.0
    while not stopping.is_set():
        worker = build_worker(settings, handle_signals=False)
        started = loop.time()
        running = asyncio.create_task(worker.async_run())
        stop = asyncio.create_task(stopping.wait())
        await asyncio.wait({running, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if stopping.is_set():
            await _close(worker)
            await asyncio.gather(running, return_exceptions=True)
            return
        error = running.exception()
        if error is None:
            return
        if not isinstance(error, REDIS_UNREACHABLE):
            await _close(worker)
            raise error
        if loop.time() - started > 60:  # it was up for a while: a new outage, not the same one
            delay = 1.0
        log.warning("Redis is unreachable (%s); the worker starts again in %.0f s", error, delay)
        await asyncio.gather(*worker.tasks.values(), return_exceptions=True)  # jobs in flight finish
        await _close(worker)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=delay)
        delay = min(delay * 2, 30.0)


async def _close(worker: Worker) -> None:
    """Close a worker whose Redis may be gone (closing talks to Redis, and that may fail too)."""
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await worker.close()
