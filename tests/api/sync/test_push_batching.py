"""How a push writes: claimed mutation-log rows, deferred timeline/feed inserts, rows kept per transaction.

These are the mechanics behind a push's speed; each must keep the contract: a mutation applied once,
a refused mutation leaving nothing behind, nothing acknowledged ever missing.
"""

from __future__ import annotations

import asyncio

import pytest

from api.cases import repository as cases_repo
from api.cases.tables import Visit, VisitEvent
from api.db import json_value, savepoint, write_transaction
from sync.rows import deferred_inserts, flush_deferred
from sync.tables import SyncMutation
from tests.api.sync.conftest import near
from tests.builders import make_case, make_collector, make_team, make_visit

pytestmark = pytest.mark.embedded


class Refused(Exception):
    pass


async def _visit() -> tuple[dict, object]:
    team = await make_team()
    anna = await make_collector(team)
    case_id, address_id = await make_case(team)
    visit_id = await make_visit(case_id, address_id, team, assigned_to=anna.user_id)
    row = await cases_repo.get_visit(visit_id)
    assert row is not None
    return row, anna


async def _kinds(visit_id: object) -> list[str]:
    rows = await VisitEvent.select(VisitEvent.kind).where(VisitEvent.visit == visit_id).order_by(VisitEvent.id)
    return [r["kind"] for r in rows]


async def test_a_rolled_back_savepoint_undoes_its_deferred_rows_and_rewrites_the_earlier_ones(db):
    visit, _ = await _visit()
    before = await _kinds(visit["id"])
    async with write_transaction(), deferred_inserts(VisitEvent):
        await cases_repo.add_visit_event(visit["id"], visit["case"], "kept-1", None, None, {})

        async def refused() -> None:
            async with savepoint():
                await cases_repo.add_visit_event(visit["id"], visit["case"], "undone", None, None, {})
                await flush_deferred(VisitEvent)  # kept-1 and undone reach the database inside the savepoint
                assert (await _kinds(visit["id"]))[len(before) :] == ["kept-1", "undone"]
                raise Refused

        with pytest.raises(Refused):
            await refused()
        async with savepoint():
            await cases_repo.add_visit_event(visit["id"], visit["case"], "kept-2", None, None, {})
    assert (await _kinds(visit["id"]))[len(before) :] == ["kept-1", "kept-2"]


async def test_a_timeline_read_sees_the_deferred_rows_of_its_own_transaction(db):
    visit, _ = await _visit()
    async with write_transaction(), deferred_inserts(VisitEvent):
        await cases_repo.add_visit_event(visit["id"], visit["case"], "fresh", None, None, {})
        events = await cases_repo.list_visit_events(visit_id=visit["id"])
        assert events[-1]["kind"] == "fresh"


async def test_a_kept_visit_row_follows_its_updates_and_is_forgotten_on_rollback(db):
    visit, _ = await _visit()
    async with write_transaction():
        locked = await cases_repo.get_visit(visit["id"], for_update=True)
        assert locked is not None
        version = await cases_repo.update_visit(visit["id"], {Visit.priority: 7})
        again = await cases_repo.get_visit(visit["id"], for_update=True)
        assert again is not None
        assert (again["priority"], again["version"]) == (7, version)

        async def refused() -> None:
            async with savepoint():
                await cases_repo.update_visit(visit["id"], {Visit.priority: 99})
                raise Refused

        with pytest.raises(Refused):
            await refused()
        after = await cases_repo.get_visit(visit["id"], for_update=True)
        assert after is not None
        assert (after["priority"], after["version"]) == (7, version)
    stored = await Visit.select(Visit.priority, Visit.version).where(Visit.id == visit["id"]).first()
    assert stored == {"priority": 7, "version": version}


async def test_the_same_batch_pushed_five_times_at_once_is_applied_once(client, phones):
    visit, anna = await _visit()
    phone = phones(anna)
    await phone.pull()
    version = phone.store.visits()[str(visit["id"])]["version"]
    phone.enqueue("visit.check_in", visit["id"], {}, base_version=version, location=near())
    for n in range(20):
        phone.enqueue("visit.add_note", visit["id"], {"text": f"note {n}"}, base_version=version)
    body = {"protocol": 1, "mutations": phone.store.pending(100)}
    answers = await asyncio.gather(*(client.post("/v1/sync/push", json=body, headers=anna.headers) for _ in range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    results = [a.json()["results"] for a in answers]
    first = [{k: v for k, v in r.items() if k != "replay"} for r in results[0]]
    for other in results[1:]:
        assert [{k: v for k, v in r.items() if k != "replay"} for r in other] == first
    fresh = [sum(not r.get("replay") for r in answer) for answer in results]
    assert sorted(fresh) == [0, 0, 0, 0, 21]  # one request applied them all, the others replayed
    assert {r["status"] for r in first} == {"applied"}
    assert await SyncMutation.count().where(SyncMutation.device_id == anna.device_id) == 21
    assert await SyncMutation.count().where(SyncMutation.status == "pending") == 0
    kinds = await _kinds(visit["id"])
    assert (kinds.count("checked_in"), kinds.count("note")) == (1, 20)


async def test_a_refused_mutation_inside_a_group_leaves_its_neighbours_applied_once(client, phones):
    visit, anna = await _visit()
    stranger_visit, _ = await _visit()
    phone = phones(anna)
    await phone.pull()
    version = phone.store.visits()[str(visit["id"])]["version"]
    for n in range(30):
        if n == 7:
            phone.enqueue("visit.add_note", visit["id"], {"text": ""}, base_version=version)  # invalid payload
        elif n == 12:
            phone.enqueue("visit.add_note", stranger_visit["id"], {"text": "not mine"})  # never assigned
        else:
            phone.enqueue("visit.add_note", visit["id"], {"text": f"note {n}"}, base_version=version)
    results = await phone.push(batch_size=100)
    statuses = [r["status"] for r in results]
    assert statuses == ["rejected" if n in (7, 12) else "applied" for n in range(30)]
    assert [results[7]["error"]["code"], results[12]["error"]["code"]] == ["422.51", "403.2"]
    notes = await VisitEvent.select(VisitEvent.data).where(VisitEvent.visit == visit["id"], VisitEvent.kind == "note")
    texts = sorted(json_value(row["data"])["text"] for row in notes)
    assert texts == sorted(f"note {n}" for n in range(30) if n not in (7, 12))  # each once
    assert await VisitEvent.count().where(VisitEvent.visit == stranger_visit["id"], VisitEvent.kind == "note") == 0
    stored = await SyncMutation.select(SyncMutation.status).where(SyncMutation.device_id == anna.device_id)
    assert sorted(r["status"] for r in stored) == ["applied"] * 28 + ["rejected"] * 2
