"""How a push writes: claimed mutation-log rows, deferred timeline/feed inserts, rows kept per transaction.

These are the mechanics behind a push's speed; each must keep the contract: a mutation applied once,
a refused mutation leaving nothing behind, nothing acknowledged ever missing.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from api.cases import repository as cases_repo
from api.cases import service as cases_service
from api.cases.tables import Visit, VisitEvent
from api.db import json_value, savepoint, write_transaction
from api.dispatch import service as dispatch
from api.outcomes.tables import Promise, VisitOutcome
from api.people.tables import User
from sync.deferred import deferred_inserts, flush_deferred
from sync.tables import SyncChange, SyncMutation
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


async def _feed(scope: object) -> list[tuple[str, str]]:
    rows = await SyncChange.select(SyncChange.entity_id, SyncChange.reason).where(SyncChange.scope == scope)
    return sorted((str(r["entity_id"]), r["reason"]) for r in rows)


async def test_a_case_change_reaches_its_open_visits_once_at_the_end_and_not_when_rolled_back(db):
    team = await make_team()
    anna, bob = await make_collector(team), await make_collector(team)
    case_id, address_id = await make_case(team)
    await make_visit(case_id, address_id, team, assigned_to=anna.user_id)
    bobs = await make_visit(case_id, address_id, team, assigned_to=bob.user_id)
    before = await _feed(bob.user_id)
    async with write_transaction(), deferred_inserts(SyncMutation):
        await cases_service.publish_case_change(case_id, "kept")
        await cases_service.publish_case_change(case_id, "kept")  # the same change twice is one row
        assert await _feed(bob.user_id) == before  # put off to the end of the push

        async def refused() -> None:
            async with savepoint():
                await cases_service.publish_case_change(case_id, "undone")
                await flush_deferred(SyncChange)  # made inside the savepoint, then rolled back with it
                assert (str(bobs), "undone") in await _feed(bob.user_id)
                raise Refused

        with pytest.raises(Refused):
            await refused()
    assert await _feed(bob.user_id) == sorted([*before, (str(bobs), "kept")])
    async with write_transaction():  # outside a push: written at once
        await cases_service.publish_case_change(case_id, "now")
        assert (str(bobs), "now") in await _feed(bob.user_id)


async def test_a_follow_up_for_a_collector_who_left_the_team_waits_for_dispatch(db):
    visit, anna = await _visit()
    async with write_transaction():
        follow = await dispatch.raise_follow_up_visit(visit, origin="revisit:test")
    assert follow is not None
    assert follow["assigned_to"] == anna.user_id
    await User.update({User.active: False}).where(User.id == anna.user_id)
    count = await Visit.count().where(Visit.case == visit["case"])
    async with write_transaction():
        follow = await dispatch.raise_follow_up_visit(visit, origin="revisit:test")
    assert follow is not None
    assert (follow["assigned_to"], follow["status"]) == (None, "requested")
    assert await Visit.count().where(Visit.case == visit["case"]) == count + 1  # one visit, nothing left over
    stored = await Visit.select(Visit.status, Visit.assigned_to, Visit.version).where(Visit.id == follow["id"]).first()
    assert stored == {"status": "requested", "assigned_to": None, "version": follow["version"]}


async def _stored(visit_id: object) -> dict:
    row = await Visit.select(Visit.priority, Visit.version).where(Visit.id == visit_id).first()
    assert row is not None
    return row


async def test_a_push_writes_a_kept_visits_changes_once_and_every_query_sees_them_first(db):
    visit, _ = await _visit()
    async with write_transaction(), deferred_inserts(SyncMutation):
        await cases_repo.lock_visits([visit["id"]])
        first = await cases_repo.update_visit(visit["id"], {Visit.priority: 5})
        second = await cases_repo.update_visit(visit["id"], {Visit.status: "checked_in"})
        assert (first, second) == (visit["version"] + 1, visit["version"] + 2)
        kept = await cases_repo.get_visit(visit["id"])
        assert kept is not None
        assert (kept["priority"], kept["status"], kept["version"]) == (5, "checked_in", second)
        # a query through Piccolo, and one through sync.rows on the table, see the changes
        assert await _stored(visit["id"]) == {"priority": 5, "version": second}
        await cases_repo.update_visit(visit["id"], {Visit.priority: 6})
        open_ = await cases_repo.open_visits_of_cases([visit["case"]])
        assert [(v["priority"], v["version"]) for v in open_ if v["id"] == visit["id"]] == [(6, second + 1)]
        await cases_repo.update_visit(visit["id"], {Visit.priority: 7})
    assert await _stored(visit["id"]) == {"priority": 7, "version": second + 2}  # the block's end writes it


async def test_a_rolled_back_savepoint_undoes_its_deferred_changes_and_keeps_the_earlier_ones(db):
    visit, _ = await _visit()
    async with write_transaction(), deferred_inserts(SyncMutation):
        await cases_repo.lock_visits([visit["id"]])
        kept = await cases_repo.update_visit(visit["id"], {Visit.priority: 3})

        async def refused(flush: bool) -> None:
            async with savepoint():
                await cases_repo.update_visit(visit["id"], {Visit.priority: 99, Visit.status: "cancelled"})
                if flush:  # written inside the savepoint: the database undoes it too
                    assert await _stored(visit["id"]) == {"priority": 99, "version": kept + 1}
                raise Refused

        for flush in (False, True):
            with pytest.raises(Refused):
                await refused(flush)
            again = await cases_repo.get_visit(visit["id"])
            assert again is not None
            assert (again["priority"], again["status"], again["version"]) == (3, visit["status"], kept)
        async with savepoint():
            last = await cases_repo.update_visit(visit["id"], {Visit.priority: 4})
    assert last == kept + 1
    stored = await Visit.select(Visit.priority, Visit.status, Visit.version).where(Visit.id == visit["id"]).first()
    assert stored == {"priority": 4, "status": visit["status"], "version": kept + 1}


async def test_a_deferred_change_the_database_refuses_fails_its_savepoint_not_the_push(db):
    visit, _ = await _visit()
    other, _ = await _visit()
    async with write_transaction(), deferred_inserts(SyncMutation):
        await cases_repo.lock_visits([visit["id"], other["id"]])
        await cases_repo.update_visit(other["id"], {Visit.priority: 8})
        with pytest.raises(Exception, match=r"(?i)foreign key"):
            async with savepoint():  # no such collector: refused when written, at the block's end
                await cases_repo.update_visit(visit["id"], {Visit.assigned_to: uuid.uuid4()})
        await cases_repo.update_visit(visit["id"], {Visit.priority: 9})
    assert (await _stored(other["id"]))["priority"] == 8
    assert (await _stored(visit["id"]))["priority"] == 9


async def test_two_promises_on_one_case_in_one_push_leave_the_newest_open(client, phones):
    team = await make_team()
    anna = await make_collector(team)
    case_id, address_id = await make_case(team)
    first = await make_visit(case_id, address_id, team, assigned_to=anna.user_id)
    second = await make_visit(case_id, address_id, team, assigned_to=anna.user_id)
    phone = phones(anna)
    await phone.pull()
    for visit_id, day in ((first, "2030-01-05"), (second, "2030-01-09")):
        version = phone.store.visits()[str(visit_id)]["version"]
        phone.enqueue("visit.check_in", visit_id, {}, base_version=version, location=near())
        outcome = {"code": "PTP", "promised_date": day, "amount": "100.00", "currency": "CNY"}
        phone.enqueue("visit.record_outcome", visit_id, outcome, base_version=version, location=near())
    results = await phone.push(batch_size=100)
    assert [r["status"] for r in results] == ["applied"] * 4
    promises = await Promise.select(Promise.due_date, Promise.status, Promise.outcome).where(Promise.case == case_id)
    by_status = {str(p["due_date"]): p["status"] for p in promises}
    assert by_status == {"2030-01-05": "superseded", "2030-01-09": "open"}
    outcomes = {r["id"] for r in await VisitOutcome.select(VisitOutcome.id).where(VisitOutcome.case == case_id)}
    assert {p["outcome"] for p in promises} <= outcomes  # each promise's outcome row was written first
