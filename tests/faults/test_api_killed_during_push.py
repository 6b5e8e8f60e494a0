"""Issue 4 / issue 7: the API process SIGKILLed while a push transaction is open, restarted on the same
database, and the reference client's retried push loses nothing and duplicates nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from sync.client import DeviceClient, LocalStore, SyncUnavailable
from tests.faults.conftest import a_collectors_day, assert_every_job_ran, assert_exactly_once, work_offline
from tests.faults.procs import API_APP, backends_in_transaction, running_server, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

VISITS = 16


async def test_server_killed_mid_push_then_retried_push_loses_and_duplicates_nothing(db, tmp_path, drain_jobs):
    collector, visits = await a_collectors_day(VISITS)
    with running_server(tmp_path, _redis_url()) as server:
        await server.restart()
        statuses: list[int] = []

        async def seen(response: httpx.Response) -> None:
            statuses.append(response.status_code)

        http = httpx.AsyncClient(base_url=server.url, timeout=60, event_hooks={"response": [seen]})
        phone = DeviceClient(server.url, collector.token, LocalStore(tmp_path / "phone.sqlite3"), http=http)
        phone.attempts, phone.backoff_s = 12, 0.1
        assert await phone.pull() == VISITS
        expected = work_offline(phone, visits, notes_per_visit=8)
        queued = phone.store.pending(100_000)
        assert len(queued) == VISITS * 12

        pushing = asyncio.create_task(phone.push(batch_size=40))
        # Strike while a later batch is inside its transaction: one batch acknowledged, the next one open.
        await wait_for(lambda: _acked_some(phone), "the first batch to be acknowledged", every=0.01)
        await wait_for(lambda: _push_transaction_open(pushing), "a push transaction to be open", every=0.005)
        acked_before_kill = len(phone.store.results())
        server.kill()
        assert not pushing.done()  # the push was cut off, not finished
        await server.restart()
        try:
            await pushing
        except SyncUnavailable:  # the server took longer to come back than the client waited: sync again
            await phone.push(batch_size=40)
        await phone.close()

        assert 0 < acked_before_kill < len(queued)
        assert 500 not in statuses
        await assert_exactly_once(phone, queued, expected)
        await drain_jobs()
        await assert_every_job_ran()
        phone.store.close()


async def _push_transaction_open(pushing: asyncio.Task[object]) -> bool:
    if pushing.done():
        raise AssertionError(f"the push ended before the server was killed: {pushing.result()}")
    return bool(await backends_in_transaction(API_APP))


async def _acked_some(phone: DeviceClient) -> bool:
    return len(phone.store.results()) > 0


def _redis_url() -> str:
    import os

    return os.environ["FIELDVISIT_REDIS_URL"]
