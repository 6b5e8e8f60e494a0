"""The storage seam: one engine per process (PostgreSQL or the embedded SQLite file) and the
one helper that opens every write transaction.

Services never commit: the boundary (a Litestar dependency, the job runner, a CLI command) opens
``write_transaction()``; everything inside runs on that transaction through Piccolo's context
variable. Jobs deferred inside it are written to the outbox in the same transaction and handed to
the queue only after the commit succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from api.settings import DatabaseSettings
from sync.rows import get_row, insert_rows

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]


class DatabaseConnectionLost(ConnectionError):
    """The database connection died under a transaction (terminated, failover, restart): nothing of
    it was committed, and whatever error the driver happened to raise is its ``__cause__``."""


class _PostgresTransaction(PostgresTransaction):
    """Piccolo's transaction, made safe for connections that die under it.

    When PostgreSQL drops the connection mid-transaction (``pg_terminate_backend``, a failover, a
    restart), Piccolo's ROLLBACK fails too and then it neither releases the connection nor resets
    its "current transaction": the error that caused the rollback is replaced by the rollback's, and
    later queries of the same task join the dead transaction. Here the connection is always given
    back (or terminated), the current transaction is always reset, and an error on a connection that
    is now closed comes out as ``DatabaseConnectionLost`` (whatever the driver said, as its cause).
    """

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()  # type: ignore[no-untyped-call]
        try:
            self.transaction = self.connection.transaction()
            await self.begin()  # type: ignore[no-untyped-call]
        except Exception as exc:
            lost = _closed(self.connection)
            await self._give_back()
            if lost:
                raise DatabaseConnectionLost(f"database connection lost at BEGIN: {exc!r}") from exc
            raise
        except BaseException:
            await self._give_back()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        failure: BaseException | None = exception
        try:
            if exception is None:
                if not self._committed and not self._rolled_back:
                    await self.commit()  # type: ignore[no-untyped-call]
            elif not self._rolled_back:
                try:
                    await self.rollback()  # type: ignore[no-untyped-call]
                except Exception:  # the connection is gone, and its transaction with it
                    log.warning("rollback failed after %r", exception, exc_info=True)
        except Exception as exc:  # COMMIT failed
            failure = exc
        lost = failure is not None and _closed(self.connection)
        await self._give_back()
        self.engine.current_transaction.reset(self.context)
        if lost and not isinstance(failure, DatabaseConnectionLost):
            raise DatabaseConnectionLost(f"database connection lost: {failure!r}") from failure
        if failure is not exception and failure is not None:
            raise failure
        return exception is None

    async def _give_back(self) -> None:
        try:
            if self.engine.pool:
                await self.engine.pool.release(self.connection)
            else:
                await self.connection.close()
        except Exception:
            log.warning("a broken database connection was dropped", exc_info=True)
            with contextlib.suppress(Exception):
                self.connection.terminate()


def _closed(connection: Any) -> bool:
    try:
        return bool(connection.is_closed())
    except asyncpg.InterfaceError:  # a pool proxy whose connection the pool already took back
        return True


def is_connection_lost(exc: BaseException) -> bool:
    """True when ``exc`` (or an error that led to it) says the database connection failed, not the query:
    terminated by an administrator, the server shutting down or refusing connections, a dead socket."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _CONNECTION_LOST):
            return True
        if isinstance(current, asyncpg.InterfaceError) and "connection" in str(current):
            return True  # "connection is closed", "... has been released back to the pool"
        current = current.__cause__ or current.__context__
    return False


_CONNECTION_LOST = (
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, and a connection that no longer exists
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    ConnectionError,  # reset, refused, broken pipe
)


class _PostgresEngine(PostgresEngine):
    """PostgreSQL engine whose transactions survive connections that die under them."""

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _PostgresTransaction(engine=self, allow_nested=allow_nested)


def make_engine(settings: DatabaseSettings) -> Engine[Any]:
    """Build the Piccolo engine the settings ask for (used by ``piccolo_conf.py``)."""
    if settings.url is not None:
        return _PostgresEngine(config={"dsn": settings.url})
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteEngine(path=str(settings.sqlite_path), timeout=settings.sqlite_busy_timeout_s)


def get_engine() -> Engine[Any]:
    """The process-wide engine declared in ``piccolo_conf.py``."""
    engine = engine_finder()
    if engine is None:  # pragma: no cover - piccolo_conf always defines DB
        raise RuntimeError("piccolo_conf.py defines no DB engine")
    return engine


def is_sqlite() -> bool:
    """True on the embedded default."""
    return isinstance(get_engine(), SQLiteEngine)


def prepare_sqlite_file(path: Path) -> None:
    """Put the SQLite file in WAL mode so readers never block the (single) writer.

    WAL is a property of the file, so this is done once, synchronously, before the app starts.
    ``synchronous=FULL`` stays: an acknowledged write must survive a power cut.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


class _PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pool connection released without the reset query (unlock advisory locks, close cursors, unlisten,
    reset settings): the application leaves no session state behind (advisory locks are transaction-level,
    settings are ``SET TRANSACTION``, no LISTEN, no cursors outside transactions), and Piccolo releases the
    connection after every query outside a transaction, so the reset was one extra round trip per query.
    An open transaction is still rolled back on release by asyncpg itself."""

    def get_reset_query(self) -> str:
        return ""


async def start_engine(settings: DatabaseSettings) -> bool:
    """Open the PostgreSQL pool (SQLite opens one connection per query and needs only WAL mode).

    Returns True when this call opened the pool, so the caller knows it must close it: a test
    suite, a CLI command and an in-process worker may share one pool.
    """
    engine = get_engine()
    if isinstance(engine, PostgresEngine):
        if engine.pool is None:
            await engine.start_connection_pool(
                min_size=settings.pool_min, max_size=settings.pool_max, connection_class=_PooledConnection
            )
            return True
        return False
    prepare_sqlite_file(settings.sqlite_path)
    return True


async def stop_engine() -> None:
    """Close the PostgreSQL pool if one is open."""
    engine = get_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()


class UnitOfWork:
    """What one write transaction did besides its queries: callbacks to run after it commits.

    The job queue registers its dispatch here, so a rolled-back request enqueues nothing.
    """

    __slots__ = ("_after_commit", "_once", "deferred_jobs")

    def __init__(self) -> None:
        self._after_commit: list[AfterCommit] = []
        self._once: set[str] = set()
        self.deferred_jobs: list[int] = []  # outbox ids written in this transaction

    def after_commit(self, callback: AfterCommit) -> None:
        """Run ``callback`` once the transaction has committed (never if it rolls back)."""
        self._after_commit.append(callback)

    def once(self, key: str, callback: AfterCommit) -> None:
        """Like ``after_commit``, but a second registration under the same key is ignored."""
        if key not in self._once:
            self._once.add(key)
            self._after_commit.append(callback)

    async def _committed(self) -> None:
        for callback in self._after_commit:
            try:
                await callback()
            except Exception:
                # The data is committed; a failed hand-off (e.g. Redis down) is repaired by the
                # outbox sweeper, so it must not turn a successful request into an error.
                log.exception("after-commit callback failed; the outbox sweeper will retry it")


# SQLite allows one writer at a time. Serialising writers in-process (plus BEGIN IMMEDIATE and a
# busy timeout against other processes) is what keeps "database is locked" away from requests.
_sqlite_write_lock: asyncio.Lock | None = None


def _write_lock() -> asyncio.Lock:
    global _sqlite_write_lock
    if _sqlite_write_lock is None:
        _sqlite_write_lock = asyncio.Lock()
    return _sqlite_write_lock


_current_uow: ContextVar[UnitOfWork | None] = ContextVar("fieldvisit_uow", default=None)


@asynccontextmanager
async def write_transaction() -> AsyncIterator[UnitOfWork]:
    """Open the write transaction of a request, job or command; commit on success.

    Nested calls join the outer transaction and share its unit of work.
    """
    outer = _current_uow.get()
    if outer is not None:
        yield outer
        return
    engine = get_engine()
    uow = UnitOfWork()
    token = _current_uow.set(uow)
    try:
        if isinstance(engine, SQLiteEngine):
            async with _write_lock(), engine.transaction(transaction_type=TransactionType.immediate):
                yield uow
        else:
            async with engine.transaction():
                yield uow
    finally:
        _current_uow.reset(token)
    await uow._committed()


def current_unit_of_work() -> UnitOfWork | None:
    """The unit of work of the write transaction in progress, if any."""
    return _current_uow.get()


@asynccontextmanager
async def read_transaction() -> AsyncIterator[None]:
    """A consistent snapshot for reads that span several queries (no writer lock on SQLite)."""
    engine = get_engine()
    if engine.current_transaction.get() is not None:
        yield
        return
    async with engine.transaction():
        if isinstance(engine, PostgresEngine):
            await engine.run_ddl("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def json_value(value: Any, default: Any = None) -> Any:
    """A JSON column's value: PostgreSQL gives it parsed, SQLite as text."""
    if isinstance(value, str | bytes):
        return json.loads(value) if value else default
    return default if value is None else value


@asynccontextmanager
async def savepoint() -> AsyncIterator[None]:
    """Run a block inside the open transaction so that its failure undoes only the block.

    Used where one request applies many independent changes (bulk dispatch, a sync push): a
    refused item must not roll back the others.
    """
    engine = get_engine()
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("savepoint() needs an open write_transaction()")
    point = await transaction.savepoint()
    try:
        yield
    except BaseException:
        await point.rollback_to()
        raise
    else:
        await point.release()


__all__ = ["get_row", "insert_rows"]  # re-exported: the application reaches them through its storage seam
