"""The two engines behind the storage seam (``api.db``): Piccolo's PostgreSQL and SQLite engines, made
safe for connections that die under a transaction (PostgreSQL) and fast for a serialised writer
(SQLite, one long-lived write connection)."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString

from api.settings import DatabaseSettings
from sync.rows import flush_updates_in

log = logging.getLogger(__name__)


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
    """PostgreSQL engine whose transactions survive connections that die under them, and whose queries
    see the row changes a sync push deferred (``sync.rows.update_row``)."""

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _PostgresTransaction(engine=self, allow_nested=allow_nested)

    async def run_querystring(self, querystring: QueryString, in_pool: bool = True) -> Any:
        await flush_updates_in(self)
        return await super().run_querystring(querystring, in_pool)


class _WriterConnection(aiosqlite.Connection):
    """The long-lived connection of :class:`_SQLiteEngine`'s write transactions.

    Its worker thread is a daemon: a process that never calls ``stop_engine`` (a test session, a
    script) must still be able to exit, and nothing is lost if it does (an open transaction was
    never acknowledged, and SQLite rolls it back)."""

    def __init__(self, kwargs: dict[str, Any]) -> None:
        super().__init__(lambda: sqlite3.connect(**kwargs), iter_chunk_size=64)
        self._thread.daemon = True


class _SQLiteEngine(SQLiteEngine):
    """SQLite engine whose write transactions reuse one open connection.

    Piccolo opens a connection (a thread, the file, the schema parsed again) per transaction and
    re-sends ``PRAGMA foreign_keys`` before every statement: milliseconds per transaction, which a
    job or a request with two short transactions pays twice. Write transactions are serialised in
    this process anyway (``write_transaction``), so they share one connection, opened on first use,
    reopened when the file was replaced, and dropped after any failure that may leave it inside a
    transaction. Reads outside a write transaction keep Piccolo's own connections (they run in
    parallel with the writer under WAL). Durability is unchanged: ``synchronous=FULL``, except for
    the transactions opened with ``durable=False`` (see ``write_transaction``)."""

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._writer: _WriterConnection | None = None
        self._writer_identity: tuple[int, int] | None = None
        self.writer_synchronous = "FULL"  # what the open write connection commits with

    async def writer(self) -> _WriterConnection:
        """The open write connection (opened, or reopened on a replaced file, as needed)."""
        if self._writer is not None and _file_identity(Path(self.path)) == self._writer_identity:
            return self._writer
        await self.close_writer()
        connection = _WriterConnection(self.connection_kwargs)
        await connection  # starts its thread and opens the file
        try:
            connection.row_factory = dict_factory  # type: ignore[assignment]  # Piccolo's rows
            await connection.execute("PRAGMA foreign_keys = 1")
            await connection.execute("PRAGMA synchronous = FULL")  # a commit is on disk when it returns
        except BaseException:
            await connection.close()
            raise
        self._writer, self._writer_identity = connection, _file_identity(Path(self.path))
        self.writer_synchronous = "FULL"
        return connection

    async def close_writer(self) -> None:
        """Close the write connection (rolling back whatever it may still hold); reopened on next use."""
        connection, self._writer, self._writer_identity = self._writer, None, None
        if connection is not None:
            try:
                await connection.close()
            except Exception:
                log.warning("closing the SQLite write connection failed", exc_info=True)

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        await flush_updates_in(self)  # queries see the row changes a sync push deferred
        return await super().run_querystring(querystring, in_pool)

    def write_transaction(self, durable: bool = True) -> SQLiteTransaction:
        """A ``BEGIN IMMEDIATE`` transaction on the write connection (callers serialise them)."""
        transaction = _SQLiteWriteTransaction(engine=self, transaction_type=TransactionType.immediate)
        transaction.synchronous = "FULL" if durable else "NORMAL"
        return transaction

    async def _run_in_existing_connection(  # type: ignore[no-untyped-def]
        self, connection, query: str, args: list[Any] | None = None, query_type: str = "generic", table=None
    ):
        if not isinstance(connection, _WriterConnection) or self.get_version_sync() < 3.35:
            return await super()._run_in_existing_connection(connection, query, args, query_type, table)
        # Its pragmas were set once, at open; execute and fetch in one trip to the connection's thread
        # (Piccolo takes three: execute, fetch, close), which counts when the machine is busy.
        return list(await connection.execute_fetchall(query, args or []))


class _SQLiteWriteTransaction(SQLiteTransaction):
    """Piccolo's SQLite transaction on the engine's write connection, which it leaves open."""

    engine: _SQLiteEngine
    synchronous = "FULL"

    async def begin(self) -> None:
        """Set how the commit reaches the disk (when it changes), then take the write lock."""
        if self.engine.writer_synchronous != self.synchronous:
            await self.connection.execute(f"PRAGMA synchronous = {self.synchronous}")
            self.engine.writer_synchronous = self.synchronous
        await self.connection.execute("BEGIN IMMEDIATE")

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.engine.writer()
        try:
            await self.begin()
        except BaseException:
            # A cancelled BEGIN may still run in the connection's thread and leave it in a transaction.
            await self.engine.close_writer()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]
        except BaseException:
            await self.engine.close_writer()  # its state is unknown: closing rolls back what is left
            if exception is None:
                raise
            log.warning("rollback failed after %r", exception, exc_info=True)
        finally:
            self.engine.current_transaction.reset(self.context)
        return exception is None


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_dev, stat.st_ino)


def make_engine(settings: DatabaseSettings) -> Engine[Any]:
    """Build the Piccolo engine the settings ask for (used by ``piccolo_conf.py``)."""
    if settings.url is not None:
        return _PostgresEngine(config={"dsn": settings.url})
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return _SQLiteEngine(path=str(settings.sqlite_path), timeout=settings.sqlite_busy_timeout_s)
