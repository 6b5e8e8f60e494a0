"""The case-status feed under concurrent writers: every reader's cursor walk sees each event exactly once,
even when transactions commit in a different order than their events were numbered."""

from __future__ import annotations

import asyncio
import random
import uuid

import pytest

from api.cases import service as cases
from api.db import write_transaction
from api.people.roles import Principal, Role
from tests.builders import make_case, make_team

pytestmark = pytest.mark.embedded

ADMIN = Principal(user_id=uuid.uuid4(), username="feed-reader", role=Role.ADMIN, team_id=None)


async def _writer(case_id, rounds: int, rng: random.Random) -> int:
    written = 0
    for i in range(rounds):
        async with write_transaction():
            case = await cases.get_case_or_raise(case_id, for_update=True)
            await cases.set_case_status(case, "promised" if case["status"] == "open" else "open", f"test:{i}")
            written += 1
            await asyncio.sleep(rng.uniform(0, 0.03))  # hold the event uncommitted while others commit
    return written


async def _reader(done: asyncio.Event) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        finished = done.is_set()  # read before the page: a page fetched after this saw every commit
        page = await cases.case_feed(cursor, 7, ADMIN)
        seen += [event.id for event in page.events]
        cursor = page.cursor
        if not page.has_more:
            if finished:
                return seen
            await asyncio.sleep(0.005)


async def test_concurrent_writers_and_readers_see_every_event_exactly_once(db):
    team = await make_team()
    case_ids = [(await make_case(team))[0] for _ in range(12)]
    rng = random.Random(7)
    done = asyncio.Event()
    readers = [asyncio.create_task(_reader(done)) for _ in range(3)]
    written = await asyncio.gather(*(_writer(case_id, 6, random.Random(rng.random())) for case_id in case_ids))
    done.set()
    walks = await asyncio.gather(*readers)

    everything = [event.id for event in (await cases.case_feed(None, 500, ADMIN)).events]
    assert len(everything) == sum(written) == 72
    for walk in walks:
        assert len(walk) == len(set(walk)), "an event was delivered twice"
        assert sorted(walk) == sorted(everything), "an event was skipped"


async def test_a_cursor_that_was_not_issued_is_refused(client):
    from tests.builders import make_staff

    admin = await make_staff(Role.ADMIN)
    answer = await client.get("/v1/cases/events", params={"cursor": "../../etc"}, headers=admin.headers)
    assert (answer.status_code, answer.json()["code"]) == (400, "400.50")
