"""The SQLite write connection of ``api.db``: one long-lived connection for write transactions,
never left inside a transaction, reopened when the file is replaced. Each test runs its own engine
on its own file, so it holds on PostgreSQL runs too."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from piccolo.querystring import QueryString

from api.db import _SQLiteEngine, prepare_sqlite_file

pytestmark = pytest.mark.embedded
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[_SQLiteEngine]:
    path = tmp_path / "db.sqlite3"
    prepare_sqlite_file(path)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    engine = _SQLiteEngine(path=str(path), timeout=5)
    yield engine
    await engine.close_writer()


async def insert(engine: _SQLiteEngine, text: str) -> None:
    await engine.run_querystring(QueryString("INSERT INTO note (text) VALUES ({})", text))


def stored(engine: _SQLiteEngine) -> list[str]:
    """What another connection sees: only committed rows."""
    with sqlite3.connect(engine.path) as connection:
        return [row[0] for row in connection.execute("SELECT text FROM note ORDER BY id")]


async def test_write_transactions_share_one_connection_and_commit(engine):
    async with engine.write_transaction() as first:
        await insert(engine, "a")
    async with engine.write_transaction() as second:
        await insert(engine, "b")
        assert stored(engine) == ["a"]  # not visible before its commit
    assert first.connection is second.connection
    assert stored(engine) == ["a", "b"]


async def synchronous_at_commit(engine: _SQLiteEngine, durable: bool) -> int:
    async with engine.write_transaction(durable) as transaction:
        await insert(engine, "x")
        rows = await transaction.connection.execute_fetchall("PRAGMA synchronous")
    return int(next(iter(next(iter(rows)).values())))


async def test_only_a_transaction_asked_not_to_be_durable_commits_without_waiting_for_the_disk(engine):
    # 2 is FULL (the WAL is synced at every commit), 1 NORMAL (synced at the next durable commit or checkpoint).
    assert await synchronous_at_commit(engine, durable=True) == 2
    assert await synchronous_at_commit(engine, durable=False) == 1
    assert await synchronous_at_commit(engine, durable=True) == 2  # never inherited from the one before


async def test_failed_transaction_rolls_back_and_the_connection_goes_on(engine):
    async def refused() -> None:
        async with engine.write_transaction():
            await insert(engine, "lost")
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError, match="refused"):
        await refused()
    async with engine.write_transaction():
        await insert(engine, "kept")
    assert stored(engine) == ["kept"]


async def test_foreign_keys_are_enforced_on_the_write_connection(engine):
    with sqlite3.connect(engine.path) as connection:
        connection.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, note_id INTEGER NOT NULL REFERENCES note(id))")
    with pytest.raises(sqlite3.IntegrityError):
        async with engine.write_transaction():
            await engine.run_querystring(QueryString("INSERT INTO child (note_id) VALUES ({})", 42))


async def test_cancelled_transaction_start_never_leaves_the_writer_in_a_transaction(engine):
    await engine.writer()
    blocker = sqlite3.connect(engine.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock: BEGIN waits on it

    async def write() -> None:
        async with engine.write_transaction():
            await insert(engine, "never")

    task = asyncio.create_task(write())
    for _ in range(20):  # let it get as far as it can; wherever it is cancelled, the outcome must hold
        await asyncio.sleep(0)
    task.cancel()
    blocker.execute("COMMIT")  # a BEGIN still queued in the connection's thread now succeeds
    blocker.close()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with engine.write_transaction():
        await insert(engine, "after")
    assert stored(engine) == ["after"]


async def test_replaced_file_gets_a_new_write_connection(tmp_path):
    # Rollback-journal files here: replacing a WAL file under an open connection is unsafe anyway.
    path, fresh = tmp_path / "db.sqlite3", tmp_path / "fresh.sqlite3"
    for each in (path, fresh):
        with sqlite3.connect(each) as connection:
            connection.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    engine = _SQLiteEngine(path=str(path), timeout=5)
    try:
        async with engine.write_transaction() as before:
            await insert(engine, "old file")
        fresh.replace(path)
        async with engine.write_transaction() as after:
            await insert(engine, "new file")
        assert after.connection is not before.connection
        assert stored(engine) == ["new file"]
    finally:
        await engine.close_writer()


async def test_closed_writer_is_reopened_on_next_use(engine):
    async with engine.write_transaction():
        await insert(engine, "one")
    await engine.close_writer()
    async with engine.write_transaction():
        await insert(engine, "two")
    assert stored(engine) == ["one", "two"]


def test_a_process_that_never_stops_the_engine_still_exits(tmp_path):
    script = f"""
import asyncio
from pathlib import Path
from api.db import _SQLiteEngine, prepare_sqlite_file
from piccolo.querystring import QueryString
prepare_sqlite_file(Path({str(tmp_path / "x.sqlite3")!r}))
engine = _SQLiteEngine(path={str(tmp_path / "x.sqlite3")!r})
async def main():
    async with engine.write_transaction():
        await engine.run_querystring(QueryString("CREATE TABLE t (id INTEGER)"))
asyncio.run(main())
print("done")
"""
    finished = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "done"


async def test_the_server_is_checked_for_autovacuum(db):
    """``fieldvisit db upgrade`` warns when PostgreSQL will never refresh statistics or remove dead rows."""
    from api.db import get_engine, is_sqlite
    from api.migrations import server_warnings

    warnings = await server_warnings()
    if is_sqlite():
        assert warnings == []
        return
    setting = (await get_engine().run_ddl("SHOW autovacuum"))[0]["autovacuum"]
    assert bool(warnings) == (setting == "off")
    assert all("autovacuum off" in warning for warning in warnings)
