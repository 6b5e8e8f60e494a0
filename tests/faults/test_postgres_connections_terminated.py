"""Issue 7: PostgreSQL terminates the server's connections (``pg_terminate_backend``) again and again
while a phone pushes its day in small batches. The phone sees a coded 503 or a dropped connection,
never a 500 and never a lost acknowledgement; it retries, everything lands exactly once, and the
server recovers by itself (its pool replaces the dead connections; no restart)."""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest

from sync.client import DeviceClient, LocalStore, SyncUnavailable
from tests.faults.conftest import a_collectors_day, assert_every_job_ran, assert_exactly_once, work_offline
from tests.faults.procs import API_APP, backends_in_transaction, running_server, terminate_backends

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

STRIKES = 12


async def test_connections_terminated_mid_transaction_lose_nothing_and_the_server_recovers(db, tmp_path, drain_jobs):
    collector, visits = await a_collectors_day(12)
    with running_server(tmp_path, os.environ["FIELDVISIT_REDIS_URL"]) as server:
        await server.restart()
        statuses: list[int] = []
        bodies: list[dict[str, object]] = []

        async def seen(response: httpx.Response) -> None:
            statuses.append(response.status_code)
            if response.status_code >= 500:
                await response.aread()
                bodies.append(response.json())

        http = httpx.AsyncClient(base_url=server.url, timeout=60, event_hooks={"response": [seen]})
        phone = DeviceClient(server.url, collector.token, LocalStore(tmp_path / "phone.sqlite3"), http=http)
        phone.attempts, phone.backoff_s = 12, 0.05
        assert await phone.pull() == 12
        expected = work_offline(phone, visits, notes_per_visit=6)
        queued = phone.store.pending(100_000)

        pushing = asyncio.create_task(_push_until_empty(phone))
        terminated, mid_transaction, strikes = 0, 0, 0
        while not pushing.done() and strikes < STRIKES:  # then let it finish: the point is recovery
            if await backends_in_transaction(API_APP):
                mid_transaction += 1
                strikes += 1
                terminated += await terminate_backends(API_APP)
            await asyncio.sleep(0.02 if not strikes else 0.3)
        await pushing

        assert mid_transaction > 0  # the faults did hit open transactions
        assert terminated > 0
        assert 500 not in statuses, bodies
        assert {b["code"] for b in bodies} <= {"503.0"}, bodies
        assert server.starts == 1  # recovered without a restart
        assert server.alive()
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as plain:
            assert (await plain.get("/health")).status_code == 200
        await phone.pull()
        await phone.close()
        await assert_exactly_once(phone, queued, expected)
        await drain_jobs()
        await assert_every_job_ran()
        phone.store.close()


async def _push_until_empty(phone: DeviceClient) -> None:
    while phone.store.pending_count():
        try:
            await phone.push(batch_size=15)
        except SyncUnavailable:  # retries ran out under fire: the phone syncs again, as it would
            continue


async def test_a_transaction_whose_connection_was_terminated_leaves_nothing_behind(db):
    """The same fault in this process: the error says the connection was lost, and the next transaction
    of the same task gets a fresh connection (Piccolo alone would keep the dead one as "current")."""
    from api.db import DatabaseConnectionLost, get_engine, is_connection_lost, write_transaction
    from api.queue.tables import Job
    from tests.faults.procs import pg

    async def killed_under_a_transaction() -> None:
        async with write_transaction():
            pid = (await get_engine().run_ddl("SELECT pg_backend_pid() AS pid"))[0]["pid"]
            await pg("SELECT pg_terminate_backend($1)", pid)
            await Job.count()

    with pytest.raises(DatabaseConnectionLost) as lost:
        await killed_under_a_transaction()
    assert is_connection_lost(lost.value)
    assert get_engine().current_transaction.get() is None
    async with write_transaction():
        assert await Job.count() == 0
