"""The feed sequencer's shared passes (PostgreSQL): a writer that asks for a pass after its commit finds its
rows numbered when the call returns, and writers asking while a pass runs share the next one instead of
queueing one each on the advisory lock (each holding a pooled connection while it waits)."""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
import pytest

from api.db import write_transaction
from sync import changes, feed
from sync.tables import SyncChange


async def _wait_for_blocked_pass(probe: asyncpg.Connection) -> None:
    for _ in range(500):
        if await probe.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the first pass never reached the advisory lock")


async def test_writers_asking_during_a_pass_share_the_next_one(db, monkeypatch):
    if not changes.postgres():
        pytest.skip("the sequencer is PostgreSQL's (SQLite's row ids are commit order)")
    passes = 0
    real_sequence = feed.sequence

    async def counted(table):
        nonlocal passes
        passes += 1
        return await real_sequence(table)

    monkeypatch.setattr(feed, "sequence", counted)  # the real pass runs; it is only counted
    scope = uuid.uuid4()

    async def write() -> uuid.UUID:
        entity_id = uuid.uuid4()
        async with write_transaction():
            await changes.append(scope, "visit", entity_id, changes.UPSERT, "test")
        return entity_id

    async def numbered(entity_id: uuid.UUID) -> bool:
        row = await SyncChange.select(SyncChange.seq).where(SyncChange.entity_id == entity_id).first()
        return row is not None and row["seq"] is not None

    holder = await asyncpg.connect(os.environ["FIELDVISIT_DATABASE_URL"])  # another process's pass, holding the lock
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", feed._LOCK_KEYS["sync_change"])
        first = await write()
        running = asyncio.create_task(feed.sequence_shared(SyncChange))
        await _wait_for_blocked_pass(holder)
        later = [await write() for _ in range(10)]
        sharing = [asyncio.create_task(feed.sequence_shared(SyncChange)) for _ in later]
        await asyncio.sleep(0.05)
        assert not any(task.done() for task in [running, *sharing])
        await holder.execute("SELECT pg_advisory_unlock($1)", feed._LOCK_KEYS["sync_change"])
        await asyncio.gather(running, *sharing)
    finally:
        await holder.close()
    assert passes == 2, f"{passes} passes for 11 writers: the ten that asked during the first did not share"
    for entity_id in [first, *later]:
        assert await numbered(entity_id), "a writer's row was not numbered when its call returned"
    seqs = sorted(r["seq"] for r in await SyncChange.select(SyncChange.seq).where(SyncChange.scope == scope))
    assert seqs == list(range(seqs[0], seqs[0] + 11)), "the numbers have a gap or a repeat"
