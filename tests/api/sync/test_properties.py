"""Property tests over random interleavings of device work and dispatcher actions (seeded, many seeds):

- every mutation the server acknowledged is present exactly once (its note, its outcome, or its conflict);
- after a final push and pull, the device holds exactly the server's view of its scope;
- the sync feed delivers each change once: concurrent readers walking their cursor see every visit
  change of their scope exactly once, reassignment as a removal for one and an addition for the other.
"""

from __future__ import annotations

import asyncio
import random
import uuid

import pytest

from api.cases import service as cases
from api.cases.tables import Visit, VisitEvent
from api.db import json_value, write_transaction
from api.dispatch import service as dispatch
from api.outcomes.tables import VisitOutcome
from api.people.roles import Role
from sync import changes
from sync.feed import Cursor
from sync.tables import SyncChange, SyncConflict, SyncMutation
from tests.api.sync.conftest import near
from tests.builders import make_case, make_collector, make_staff, make_team, make_visit

pytestmark = pytest.mark.embedded


async def _dispatcher_acts(rng: random.Random, visits: list[str], collectors, headers, client) -> None:
    visit = rng.choice(visits)
    action = rng.choice(["reassign", "reassign", "cancel", "unassign"])
    body: dict[str, object] = {"visit_id": visit, "action": "assign" if action == "reassign" else action}
    if action == "reassign":
        body["collector_id"] = str(rng.choice(collectors).user_id)
    await client.post("/v1/visits/dispatch", headers=headers, json={"actions": [body]})  # may be refused: fine


def _device_works(rng: random.Random, phone, visits: list[str]) -> None:
    visit = rng.choice(list(phone.store.visits()) or visits)
    kind = rng.choice(["note", "note", "check_in", "outcome"])
    if kind == "note":
        phone.enqueue("visit.add_note", visit, {"text": f"note {uuid.uuid4()}"})
    elif kind == "check_in":
        phone.enqueue("visit.check_in", visit, {}, base_version=phone.visit_version(visit), location=near())
    else:
        phone.enqueue(
            "visit.record_outcome",
            visit,
            {"code": rng.choice(["NOH", "REF", "NFD"])},
            base_version=phone.visit_version(visit),
        )


async def _scope_of(user_id) -> set[str]:
    rows = await Visit.select(Visit.id).where(
        ((Visit.assigned_to == user_id) | (Visit.partner == user_id)) & (Visit.status != "cancelled")
    )
    return {str(r["id"]) for r in rows}


@pytest.mark.parametrize("seed", range(8))
async def test_random_interleavings_lose_nothing_and_the_device_converges(client, phones, seed):
    rng = random.Random(seed)
    team = await make_team()
    dispatcher = await make_staff(Role.DISPATCHER, team)
    anna, ben = await make_collector(team), await make_collector(team)
    visits = []
    for _ in range(6):
        case_id, address_id = await make_case(team)
        visits.append(str(await make_visit(case_id, address_id, team, assigned_to=anna.user_id)))
    phone = phones(anna)
    await phone.pull()
    for _ in range(rng.randint(15, 30)):
        step = rng.random()
        if step < 0.55:
            _device_works(rng, phone, visits)
        elif step < 0.75:
            await _dispatcher_acts(rng, visits, [anna, ben], dispatcher.headers, client)
        elif step < 0.9:
            await phone.push()
        else:
            await phone.pull()
    await phone.push()
    await phone.pull()

    accepted = {mid: r for mid, r in phone.store.results().items() if r["status"] != "rejected"}
    assert await SyncMutation.count() == len(phone.store.results())
    for mutation_id, result in accepted.items():
        stored = await SyncMutation.select(SyncMutation.type).where(SyncMutation.id == mutation_id).first()
        assert stored is not None, result
        if stored["type"] == "visit.add_note":
            events = await VisitEvent.select(VisitEvent.data).where(VisitEvent.kind == "note")
            assert sum(json_value(e["data"], {}).get("mutation_id") == mutation_id for e in events) == 1
        if stored["type"] == "visit.record_outcome":
            kept = await VisitOutcome.count().where(VisitOutcome.id == mutation_id)
            held = await SyncConflict.count().where(SyncConflict.mutation_id == mutation_id)
            assert kept + held == 1 or result["status"] == "duplicate", result
    assert set(phone.store.visits()) == await _scope_of(anna.user_id)


async def _reassign_many(visit_ids: list[uuid.UUID], users: list[uuid.UUID], rng: random.Random) -> int:
    moves = 0
    for _ in range(10):
        async with write_transaction():
            visit = await cases.get_visit_or_raise(rng.choice(visit_ids), for_update=True)
            target = rng.choice([u for u in users if u != visit["assigned_to"]])
            await dispatch.assign(visit, target, None, None)
            await asyncio.sleep(rng.uniform(0, 0.02))  # commit late, after others took later feed ids
            moves += 1
    return moves


async def _walk(user: uuid.UUID, done: asyncio.Event) -> list[int]:
    seqs: list[int] = []
    cursor = Cursor()
    while True:
        finished = done.is_set()  # read before the page: a page fetched after this saw every commit
        page = await changes.read(user, cursor, 5)
        seqs += page.seqs
        cursor = page.cursor
        if not (page.has_more or page.held_back):
            if finished:
                return seqs
            await asyncio.sleep(0.005)


async def _phone_follows(phone, done: asyncio.Event) -> None:
    while not done.is_set():
        await phone.pull(limit=5)
        await asyncio.sleep(0.005)
    await phone.pull(limit=5)


async def test_concurrent_reassignments_reach_every_reader_exactly_once(app, phones):
    """Feed entries of one visit can be committed out of order by concurrent transactions; every entry is
    still delivered once, and phones pulling all along end with exactly the visits they hold now."""
    team = await make_team()
    collectors = [await make_collector(team) for _ in range(3)]
    users = [c.user_id for c in collectors]
    visit_ids = []
    for _ in range(6):
        case_id, address_id = await make_case(team)
        visit_ids.append(await make_visit(case_id, address_id, team, assigned_to=users[0]))
    done = asyncio.Event()
    walkers = {user: asyncio.create_task(_walk(user, done)) for user in users}
    devices = [phones(c) for c in collectors]
    followers = [asyncio.create_task(_phone_follows(phone, done)) for phone in devices]
    rng = random.Random(11)
    await asyncio.gather(*(_reassign_many(visit_ids, users, random.Random(rng.random())) for _ in range(4)))
    done.set()
    await asyncio.gather(*followers)
    for user, task in walkers.items():
        seqs = await task
        feed = [r["id"] for r in await SyncChange.select(SyncChange.id).where(SyncChange.scope == user)]
        assert len(seqs) == len(set(seqs)), "a change was delivered twice"
        assert sorted(seqs) == sorted(feed), "a change was skipped"
    for user, phone in zip(users, devices, strict=True):
        assert set(phone.store.visits()) == await _scope_of(user)
