"""The push bench's second baseline: every row the push wrote, inserted again by plain asyncpg.

The first baseline (``bench/sync_push.py``) inserts one mutation-log row per mutation. A push
writes more than that: the visit's new version, its timeline, check-ins, notes, outcomes, promises,
follow-up visits, the case's status and events, the sync feed, the device's health. Here the bench
takes every row version the push's transactions left in PostgreSQL (``xmin`` at or after a mark
taken as the devices start; an updated row counts once, as the new version PostgreSQL wrote) and
plain asyncpg inserts the same rows into copies of their tables (``LIKE ... INCLUDING ALL``: the
same columns, defaults, checks and indexes; no foreign keys), one transaction per device, all
devices at once, as the pushes ran. That is the database's ceiling for storing what the push
stores: the server's extra is deciding what to store.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

_COPY = "bench_copy_"


@dataclass(frozen=True)
class Written:
    """The rows of one table written since the mark: column names and values."""

    table: str
    columns: list[str]
    rows: list[tuple[Any, ...]]


async def mark(url: str) -> int:
    """A transaction id: rows whose ``xmin`` is at or after it were written after this call."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT pg_current_xact_id()::text::bigint")) & 0xFFFFFFFF
    finally:
        await connection.close()


async def written_since(url: str, xid: int) -> list[Written]:
    """Every public table's rows written by transactions from ``xid`` on (the bench's own tables aside)."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'bench%' "
            "ORDER BY tablename"
        )
        out = []
        for (table,) in tables:
            rows = await connection.fetch(f'SELECT * FROM "{table}" WHERE xmin::text::bigint >= $1', xid)  # noqa: S608
            if rows:
                out.append(Written(table, list(rows[0].keys()), [tuple(row) for row in rows]))
        return out
    finally:
        await connection.close()


async def insert_again(url: str, written: list[Written], transactions: int, pool_size: int = 20) -> float:
    """Seconds for plain asyncpg to insert ``written`` into copies of the tables, spread over
    ``transactions`` concurrent transactions (row i of every table goes to transaction i mod n)."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        for part in written:
            copy = f'"{_COPY}{part.table}"'
            await connection.execute(f"DROP TABLE IF EXISTS {copy}")
            await connection.execute(f'CREATE TABLE {copy} (LIKE "{part.table}" INCLUDING ALL)')
    finally:
        await connection.close()
    statements = {part.table: _insert(part) for part in written}
    shares: list[list[tuple[str, list[tuple[Any, ...]]]]] = [
        [(part.table, part.rows[i::transactions]) for part in written if part.rows[i::transactions]]
        for i in range(transactions)
    ]
    pool = await asyncpg.create_pool(url, min_size=pool_size, max_size=pool_size)

    async def insert(share: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        async with pool.acquire() as connection, connection.transaction():
            for table, rows in share:
                await connection.executemany(statements[table], rows)

    try:
        began = time.perf_counter()
        await asyncio.gather(*(insert(share) for share in shares))
        return time.perf_counter() - began
    finally:
        await pool.close()


def _insert(part: Written) -> str:
    columns = ", ".join(f'"{column}"' for column in part.columns)
    values = ", ".join(f"${i}" for i in range(1, len(part.columns) + 1))
    return f'INSERT INTO "{_COPY}{part.table}" ({columns}) VALUES ({values})'  # noqa: S608 - catalogue names


def rows_per_table(written: list[Written]) -> str:
    """``table n`` for each table, most rows first."""
    return ", ".join(f"{w.table} {len(w.rows)}" for w in sorted(written, key=lambda w: -len(w.rows)))
