"""Health checks: can we reach the database, and how is the job queue doing."""

from __future__ import annotations

import msgspec
from piccolo.querystring import QueryString

from api.db import get_engine, is_sqlite
from api.queue.runner import get_dispatcher
from api.queue.tables import Job


class DatabaseHealth(msgspec.Struct):
    """Whether the database answers."""

    ok: bool
    engine: str
    detail: str = ""


class QueueHealth(msgspec.Struct):
    """Whether jobs can run, and how many wait or failed."""

    ok: bool
    backend: str
    pending_jobs: int = 0
    failed_jobs: int = 0
    detail: str = ""


class Health(msgspec.Struct):
    """The server's health: ``ok`` only when the database and the queue both are."""

    status: str
    database: DatabaseHealth
    queue: QueueHealth


async def check_database() -> DatabaseHealth:
    """Run a trivial query."""
    engine_name = "sqlite" if is_sqlite() else "postgresql"
    try:
        await get_engine().run_querystring(QueryString("SELECT 1"))
    except Exception as exc:
        return DatabaseHealth(ok=False, engine=engine_name, detail=f"{type(exc).__name__}: {exc}")
    return DatabaseHealth(ok=True, engine=engine_name)


async def check_queue(database_ok: bool) -> QueueHealth:
    """Ping Redis when arq is the backend; count pending and failed jobs in the outbox."""
    from api.queue.backends import ArqBackend

    dispatcher = get_dispatcher()
    backend = "arq" if isinstance(dispatcher, ArqBackend) else "inline"
    ok, detail = dispatcher is not None, "" if dispatcher is not None else "no job backend running"
    if isinstance(dispatcher, ArqBackend):
        try:
            await dispatcher.redis.ping()
        except Exception as exc:
            ok, detail = False, f"redis: {type(exc).__name__}: {exc}"
    pending = failed = 0
    if database_ok:
        pending = await Job.count().where(Job.state == "pending")
        failed = await Job.count().where(Job.state == "failed")
    return QueueHealth(ok=ok, backend=backend, pending_jobs=pending, failed_jobs=failed, detail=detail)


async def check() -> Health:
    """The whole health report."""
    database = await check_database()
    queue = await check_queue(database.ok)
    return Health(status="ok" if database.ok and queue.ok else "degraded", database=database, queue=queue)
