"""The PostgreSQL pool serves connections first come first served (``api.db_pool``)."""

from __future__ import annotations

import asyncio

import pytest

from api.db import _PooledConnection, get_engine
from api.db_pool import FairPool, Line, create_pool
from api.settings import get_settings


async def _take_and_give_back(line: Line, name: str, order: list[str]) -> None:
    await line.acquire()
    order.append(name)
    await asyncio.sleep(0)
    line.release()


@pytest.mark.embedded
async def test_a_released_permit_goes_to_the_first_waiter_not_to_a_newcomer():
    line = Line(1)
    await line.acquire()
    order: list[str] = []
    waiters = []
    for name in ("first", "second"):
        waiters.append(asyncio.create_task(_take_and_give_back(line, name, order)))
        await asyncio.sleep(0)  # each is in line before the next comes
    newcomer = asyncio.create_task(_take_and_give_back(line, "newcomer", order))  # runs before the waiters wake
    line.release()  # the permit is the first waiter's, though the newcomer asks for it before that one runs
    await asyncio.gather(*waiters, newcomer)
    assert order == ["first", "second", "newcomer"]


@pytest.mark.embedded
async def test_a_cancelled_waiter_leaves_the_line_and_loses_no_permit():
    line = Line(1)
    await line.acquire()
    order: list[str] = []
    leaving = asyncio.create_task(_take_and_give_back(line, "leaving", order))
    staying = asyncio.create_task(_take_and_give_back(line, "staying", order))
    await asyncio.sleep(0)
    leaving.cancel()  # while waiting
    line.release()
    await asyncio.gather(leaving, staying, return_exceptions=True)
    assert order == ["staying"]
    assert line.waiting == 0

    handed = asyncio.create_task(_take_and_give_back(line, "handed", order))
    after = asyncio.create_task(_take_and_give_back(line, "after", order))
    await line.acquire()
    await asyncio.sleep(0)
    line.release()  # the permit is handed to "handed", which is cancelled before it runs: it passes it on
    handed.cancel()
    await asyncio.gather(handed, after, return_exceptions=True)
    assert order == ["staying", "after"]
    await asyncio.wait_for(line.acquire(), 1)  # the one permit is free again


async def test_the_application_pool_hands_connections_out_in_the_order_asked(db):
    assert isinstance(get_engine().pool, FairPool)
    pool = await create_pool(
        get_settings().database.url or "", min_size=2, max_size=2, connection_class=_PooledConnection
    )
    order: list[int] = []

    async def query(n: int) -> None:
        async with pool.acquire() as connection:
            order.append(n)
            await connection.fetchval("SELECT pg_sleep(0.01)")

    try:
        tasks = []
        for n in range(12):
            tasks.append(asyncio.create_task(query(n)))
            await asyncio.sleep(0)  # in line before the next one asks
        tasks[5].cancel()  # one gives up while waiting: its turn passes on, no connection is lost
        await asyncio.gather(*tasks, return_exceptions=True)
        assert order == [n for n in range(12) if n != 5]
        assert await asyncio.wait_for(pool.fetchval("SELECT 1"), 5) == 1
        async with pool.acquire(), pool.acquire():  # both connections are back
            pass
    finally:
        await pool.close()
