"""The storage seam: one engine per process (PostgreSQL or the embedded SQLite file) and the
one helper that opens every write transaction.

Services never commit: the boundary (a Litestar dependency, the job runner, a CLI command) opens
``write_transaction()``; everything inside runs on that transaction through Piccolo's context
variable. Jobs deferred inside it are written to the outbox in the same transaction and handed to
the queue only after the commit succeeded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString

from api.db_engines import DatabaseConnectionLost, _SQLiteEngine, is_connection_lost, make_engine
from api.db_pool import create_pool
from api.settings import DatabaseSettings
from api.sqlite_reader import sqlite_reader
from sync.deferred import deferred_mark, deferred_undo
from sync.rows import flush_updates_in, get_row, insert_rows
from sync.txstate import forget_cached

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]


_engine: Engine[Any] | None = None


def get_engine() -> Engine[Any]:
    """The process-wide engine declared in ``piccolo_conf.py`` (found once: Piccolo's finder resolves the
    conf module again on every call, which showed up on the request path; the tables are bound to the
    same engine when they are defined, so it never changes)."""
    global _engine
    if _engine is None:
        engine = engine_finder()
        if engine is None:  # pragma: no cover - piccolo_conf always defines DB
            raise RuntimeError("piccolo_conf.py defines no DB engine")
        _engine = engine
    return _engine


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
            engine.pool = await create_pool(  # as Piccolo's start_connection_pool, first come first served
                **engine.config,
                min_size=settings.pool_min,
                max_size=settings.pool_max,
                connection_class=_PooledConnection,
            )
            return True
        return False
    prepare_sqlite_file(settings.sqlite_path)
    if isinstance(engine, SQLiteEngine):
        sqlite_reader(str(engine.path)).connection()
    return True


async def stop_engine() -> None:
    """Close the PostgreSQL pool if one is open (and this process's SQLite reader and writer)."""
    engine = get_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()
    if isinstance(engine, SQLiteEngine):
        sqlite_reader(str(engine.path)).close()
    if isinstance(engine, _SQLiteEngine):
        await engine.close_writer()


@lru_cache(maxsize=64)
def _compiled(template: str, engine_type: str, arg_count: int) -> str:
    """A template's SQL for an engine, built once (Piccolo builds it again on every call: a sixth of
    the token lookup every request makes, in a profile). The arguments are plain values, as they are."""
    return QueryString(template, *([None] * arg_count)).compile_string(engine_type)[0]


async def fetch_one(template: str, *args: Any) -> dict[str, Any] | None:
    """Run a small read-only query (``{}`` placeholders) the cheapest way the engine allows.

    For the per-request lookups (tokens): outside a transaction it goes straight to the asyncpg
    pool (a prepared statement, no query building) or to this process's SQLite reader; inside a
    transaction it runs on that transaction through Piccolo, so it sees the transaction's writes.
    Rows are dicts keyed by the selected names.
    """
    engine = get_engine()
    if engine.current_transaction.get() is None:
        if isinstance(engine, PostgresEngine) and engine.pool is not None:
            record = await engine.pool.fetchrow(_compiled(template, "postgres", len(args)), *args)
            return None if record is None else dict(record)
        if isinstance(engine, SQLiteEngine):
            return sqlite_reader(str(engine.path)).fetch_one(_compiled(template, "sqlite", len(args)), list(args))
    rows = await engine.run_querystring(QueryString(template, *args))
    return dict(rows[0]) if rows else None


async def fetch_pg(sql: str, *args: Any) -> list[asyncpg.Record]:
    """Run a read-only PostgreSQL statement written with asyncpg's ``$n`` placeholders, as it is.

    For the hottest reads (a sync pull): no query building, no conversion of the records to dicts
    (they are read by column name). Runs on the open transaction's connection if there is one,
    else straight on the pool.
    """
    engine = get_engine()
    transaction = engine.current_transaction.get()
    if transaction is not None:
        await flush_updates_in(engine)  # it sees the row changes a sync push deferred
        rows: list[asyncpg.Record] = await transaction.connection.fetch(sql, *args)
        return rows
    if not isinstance(engine, PostgresEngine) or engine.pool is None:
        raise RuntimeError("fetch_pg needs the PostgreSQL pool")
    rows = await engine.pool.fetch(sql, *args)
    return rows


class UnitOfWork:
    """What one write transaction did besides its queries: callbacks to run after it commits.

    The job queue registers its dispatch here, so a rolled-back request enqueues nothing.
    """

    __slots__ = ("_after_commit", "_once", "deferred_jobs", "values")

    def __init__(self) -> None:
        self._after_commit: list[AfterCommit] = []
        self._once: set[str] = set()
        self.deferred_jobs: list[int] = []  # outbox ids written in this transaction
        self.values: dict[str, Any] = {}  # what a caller keeps for its after-commit callback

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
async def write_transaction(*, durable: bool = True) -> AsyncIterator[UnitOfWork]:
    """Open the write transaction of a request, job or command; commit on success.

    Nested calls join the outer transaction and share its unit of work.

    ``durable=False`` is only for bookkeeping that a power cut may undo harmlessly (a job's claim,
    a heartbeat: the job is then pending again and runs again, as after any crash). Its commit does
    not wait for the disk (SQLite WAL ``synchronous=NORMAL``, PostgreSQL ``synchronous_commit=off``)
    but is ordered before every later commit, which does: the WAL is one log, so once a durable
    commit is on disk, every commit before it is too. Anything a client or a later step relies on
    (accepted data, results, a job's outcome) commits durably.
    """
    outer = _current_uow.get()
    if outer is not None:
        yield outer
        return
    engine = get_engine()
    uow = UnitOfWork()
    token = _current_uow.set(uow)
    try:
        if isinstance(engine, _SQLiteEngine):
            async with _write_lock(), engine.write_transaction(durable):
                yield uow
        elif isinstance(engine, SQLiteEngine):
            async with _write_lock(), engine.transaction(transaction_type=TransactionType.immediate):
                yield uow
        else:
            async with engine.transaction():
                if not durable:
                    await engine.run_ddl("SET LOCAL synchronous_commit = off")
                yield uow
    finally:
        _current_uow.reset(token)
    await uow._committed()


@asynccontextmanager
async def single_write() -> AsyncIterator[None]:
    """For a block that writes with one statement and needs no unit of work: on PostgreSQL the statement
    is its own transaction (one round trip instead of BEGIN, statement, COMMIT); on SQLite it takes the
    writer lock like any write transaction. Inside an open transaction the statement joins it."""
    if isinstance(get_engine(), SQLiteEngine):
        async with write_transaction():
            yield
    else:
        yield


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
    refused item must not roll back the others. On PostgreSQL a savepoint that succeeded is released
    together with the next one's start (one round trip instead of two per item; until then its
    subtransaction simply stays open, which changes nothing, and COMMIT releases whatever is left).
    Row changes deferred inside the block (``sync.rows.update_row``) are written before it ends, so a
    change the database refuses fails the block, not the transaction.
    """
    engine = get_engine()
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("savepoint() needs an open write_transaction()")
    if not isinstance(transaction, PostgresTransaction):
        point = await transaction.savepoint()
        mark = deferred_mark(transaction)
        try:
            yield
            await flush_updates_in(engine)  # inside it: a change that cannot be written undoes the block
        except BaseException:
            await point.rollback_to()
            forget_cached_rows()
            deferred_undo(transaction, mark)
            raise
        else:
            await point.release()
        return
    chain: _SavepointChain | None = getattr(transaction, "_fv_savepoints", None)
    if chain is None:
        chain = _SavepointChain()
        transaction._fv_savepoints = chain  # type: ignore[attr-defined]
    name = chain.open()
    connection = transaction.connection
    await connection.execute(chain.opening_sql(name))
    mark = deferred_mark(transaction)
    try:
        yield
        await flush_updates_in(engine)  # inside it: a change that cannot be written undoes the block
    except BaseException:
        await connection.execute(f"ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}")
        chain.pending = None  # any savepoint pending release was inside this one: gone with it
        forget_cached_rows()  # rows it changed (and their locks) are back as they were
        deferred_undo(transaction, mark)  # and so are the inserts it deferred or wrote
        raise
    chain.pending = name


def forget_cached_rows() -> None:
    """Forget the rows the current transaction keeps (``get_row(..., cached=True)``)."""
    transaction = get_engine().current_transaction.get()
    if transaction is not None:
        forget_cached(transaction)


class _SavepointChain:
    """A transaction's savepoint names, and the one that succeeded but is not released yet.

    The pending one is always the latest savepoint closed, so any savepoint opened afterwards is
    logically its sibling or outside it: releasing it first keeps the nesting PostgreSQL sees equal
    to the program's."""

    __slots__ = ("count", "pending")

    def __init__(self) -> None:
        self.count = 0
        self.pending: str | None = None

    def open(self) -> str:
        self.count += 1
        return f"fv_sp_{self.count}"

    def opening_sql(self, name: str) -> str:
        pending, self.pending = self.pending, None
        return f"RELEASE SAVEPOINT {pending}; SAVEPOINT {name}" if pending else f"SAVEPOINT {name}"


# re-exported: the application reaches them through its storage seam
__all__ = ["DatabaseConnectionLost", "get_row", "insert_rows", "is_connection_lost", "make_engine"]
