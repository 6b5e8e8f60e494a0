"""The device protocol over the real app stack: pull scope, idempotent push, merge rules, conflicts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from api.cases.tables import Visit, VisitEvent, VisitFlag
from api.outcomes.tables import VisitOutcome
from api.people.roles import Role
from sync.tables import SyncConflict, SyncMutation
from tests.api.sync.conftest import near
from tests.builders import make_case, make_collector, make_staff, make_team, make_visit

pytestmark = pytest.mark.embedded


async def _team_with_visits(count: int, **case_args):
    team = await make_team()
    dispatcher = await make_staff(Role.DISPATCHER, team)
    anna, ben = await make_collector(team), await make_collector(team)
    visits = []
    for _ in range(count):
        case_id, address_id = await make_case(team, **case_args)
        visits.append(await make_visit(case_id, address_id, team, assigned_to=anna.user_id))
    return team, dispatcher, anna, ben, visits


async def test_pull_gives_the_collector_their_visits_with_door_data_only(phones):
    team, _, anna, ben, visits = await _team_with_visits(3)
    other_case, other_address = await make_case(team)
    bens = await make_visit(other_case, other_address, team, assigned_to=ben.user_id)
    phone = phones(anna)
    assert await phone.pull(limit=2) == 3  # paged: 2 + 1
    on_phone = phone.store.visits()
    assert set(on_phone) == {str(v) for v in visits}
    assert str(bens) not in on_phone
    door = on_phone[str(visits[0])]
    assert door["case"]["national_id_last4"] == "1234"
    assert set(door["case"]).isdisjoint({"national_id", "source_ref", "team", "external_ref"})
    assert door["address"]["lat"] == pytest.approx(31.2304)
    assert await phone.pull() == 0  # nothing new after the cursor


async def test_unknown_protocol_version_is_told_to_upgrade(client, phones):
    _, _, anna, _, visits = await _team_with_visits(1)
    pulled = await client.get("/v1/sync/pull", params={"protocol": 99}, headers=anna.headers)
    assert (pulled.status_code, pulled.json()["code"]) == (426, "426.50")
    assert "update the app" in pulled.json()["detail"]
    mutation = {
        "id": "0b7f5f5e-6f43-4f7a-9d3e-2c1a8f1c0001",
        "seq": 1,
        "type": "visit.add_note",
        "target": str(visits[0]),
        "device_time": datetime.now(UTC).isoformat(),
        "payload": {"text": "x"},
    }
    pushed = await client.post("/v1/sync/push", json={"protocol": 0, "mutations": [mutation]}, headers=anna.headers)
    assert (pushed.status_code, pushed.json()["code"]) == (426, "426.50")


async def test_staff_tokens_and_revoked_devices_cannot_sync(client):
    team = await make_team()
    dispatcher = await make_staff(Role.DISPATCHER, team)
    anna = await make_collector(team)
    staff = await client.get("/v1/sync/pull", params={"protocol": 1}, headers=dispatcher.headers)
    assert staff.status_code == 403
    await client.post(f"/v1/devices/{anna.device_id}/revoke", headers=dispatcher.headers)
    revoked = await client.get("/v1/sync/pull", params={"protocol": 1}, headers=anna.headers)
    assert (revoked.status_code, revoked.json()["code"]) == (401, "401.10")


async def test_a_collector_cannot_push_on_another_collectors_visit(phones):
    team, _, anna, ben, _ = await _team_with_visits(0)
    case_id, address_id = await make_case(team)
    bens = await make_visit(case_id, address_id, team, assigned_to=ben.user_id)
    phone = phones(anna)
    phone.enqueue("visit.add_note", bens, {"text": "snooping"})
    phone.enqueue("visit.record_outcome", bens, {"code": "NOH"})
    results = await phone.push()
    assert [(r["status"], r["error"]["code"]) for r in results] == [("rejected", "403.2"), ("rejected", "403.2")]
    assert await VisitEvent.count().where(VisitEvent.kind == "note") == 0
    assert await VisitOutcome.count() == 0


async def test_every_push_replayed_three_times_leaves_the_state_of_one(phones):
    _, _, anna, _, visits = await _team_with_visits(5)
    phone = phones(anna)
    await phone.pull()
    for visit in visits:
        version = phone.visit_version(visit)
        phone.enqueue("visit.check_in", visit, {}, base_version=version, location=near())
        phone.enqueue("visit.add_note", visit, {"text": "spoke to the neighbour"})
        phone.enqueue("visit.record_outcome", visit, {"code": "NOH"}, base_version=version)
        phone.enqueue("visit.check_out", visit, {})
    batch = phone.store.pending(100)
    first = await phone.push()
    assert {r["status"] for r in first} == {"applied"}

    async def counts():
        return (
            await SyncMutation.count(),
            await VisitEvent.count(),
            await VisitOutcome.count(),
            await Visit.count(),
            await VisitFlag.count(),
        )

    after_one = await counts()
    for _ in range(3):
        for mutation in batch:  # the same mutations again, as a phone that never got the answer
            phone.store.db.execute(
                "INSERT INTO outbox (seq, id, body) VALUES (?, ?, ?)",
                (mutation["seq"], mutation["id"], json.dumps(mutation)),
            )
        again = await phone.push()
        assert all(r["replay"] for r in again)
        assert [(r["id"], r["status"]) for r in again] == [(r["id"], r["status"]) for r in first]
        assert await counts() == after_one


async def test_one_bad_mutation_does_not_block_the_rest(phones):
    _, _, anna, _, visits = await _team_with_visits(1)
    phone = phones(anna)
    phone.enqueue("visit.add_note", visits[0], {"text": "first"})
    phone.enqueue("visit.teleport", visits[0], {})
    phone.enqueue("visit.add_note", visits[0], {"text": ""})
    phone.enqueue("visit.record_outcome", visits[0], {"code": "PTP", "amount": "-1"})
    phone.enqueue("visit.add_note", "00000000-0000-4000-8000-000000000000", {"text": "nowhere"})
    phone.enqueue("visit.record_outcome", visits[0], {"code": "NOH", "note": 5})
    phone.enqueue("visit.add_note", visits[0], {"text": "last"})
    results = await phone.push()
    assert [r["status"] for r in results] == ["applied"] + ["rejected"] * 5 + ["applied"]
    assert [r["error"]["code"] for r in results[1:6]] == ["422.50", "422.51", "422.51", "404.21", "422.51"]
    # the payload's own fields are named, as the device sent them
    assert results[3]["error"]["detail"] == "visit.record_outcome: Object missing required field `promised_date`"
    assert results[5]["error"]["detail"] == "visit.record_outcome: Expected `str`, got `int` - at `$.note`"
    assert phone.store.pending_count() == 0


async def test_check_in_flags_distance_hours_and_mock_location(phones):
    _, _, anna, _, visits = await _team_with_visits(2)
    phone = phones(anna)
    await phone.pull()
    night = datetime(2026, 11, 20, 23, 30, tzinfo=UTC) + timedelta(hours=-8)  # 23:30 in Shanghai
    phone.enqueue("visit.check_in", visits[0], {}, location=near(lat=31.25), device_time=night)
    noon = datetime(2026, 11, 20, 12, 0, tzinfo=UTC) + timedelta(hours=-8)  # 12:00 in Shanghai
    phone.enqueue("visit.check_in", visits[1], {}, location=near(mock=True), device_time=noon)
    far, mocked = await phone.push()
    assert set(far["data"]["flags"]) == {"outside_geofence", "outside_legal_hours"}
    assert mocked["data"]["flags"] == ["mock_location"]
    assert far["status"] == mocked["status"] == "applied"  # accepted, and flagged
    kinds = {r["kind"] for r in await VisitFlag.select(VisitFlag.kind)}
    assert kinds == {"outside_geofence", "outside_legal_hours", "mock_location"}
    await phone.pull()
    assert phone.store.visits()[str(visits[0])]["status"] == "checked_in"


async def test_reassigned_while_offline_then_outcome_pushed_is_kept_as_a_conflict(client, phones):
    _, dispatcher, anna, ben, visits = await _team_with_visits(1)
    phone = phones(anna)
    await phone.pull()
    visit = visits[0]
    base = phone.visit_version(visit)
    await client.post(
        "/v1/visits/dispatch",
        headers=dispatcher.headers,
        json={"actions": [{"visit_id": str(visit), "action": "reassign", "collector_id": str(ben.user_id)}]},
    )
    phone.enqueue("visit.check_in", visit, {}, base_version=base, location=near())
    phone.enqueue("visit.add_note", visit, {"text": "debtor promised to call"})
    phone.enqueue("visit.record_outcome", visit, {"code": "REF"}, base_version=base)
    checked_in, note, outcome = await phone.push()
    assert (checked_in["status"], note["status"]) == ("merged", "merged")
    assert "superseded" in note["detail"]
    assert outcome["status"] == "conflict"
    conflict = await SyncConflict.select().where(SyncConflict.id == outcome["conflict_id"]).first()
    assert (conflict["kind"], conflict["reason"], conflict["status"]) == ("hard", "visit_reassigned", "open")
    timeline = [e["kind"] for e in await VisitEvent.select(VisitEvent.kind).where(VisitEvent.visit == visit)]
    assert {"checked_in", "note", "outcome_held_for_review"} <= set(timeline)
    await phone.pull()
    assert str(visit) not in phone.store.visits()  # a removal, reason reassigned
    bens_phone = phones(ben)
    await bens_phone.pull()
    assert bens_phone.store.visits()[str(visit)]["status"] == "assigned"


async def test_cancelled_while_offline_keeps_the_work_and_holds_the_outcome(client, phones):
    _, dispatcher, anna, _, visits = await _team_with_visits(1)
    phone = phones(anna)
    await phone.pull()
    await client.post(
        "/v1/visits/dispatch",
        headers=dispatcher.headers,
        json={"actions": [{"visit_id": str(visits[0]), "action": "cancel", "reason": "paid by bank"}]},
    )
    phone.enqueue("visit.add_note", visits[0], {"text": "nobody answered"})
    phone.enqueue("visit.record_outcome", visits[0], {"code": "NOH"})
    note, outcome = await phone.push()
    assert note["status"] == "merged"
    assert outcome["status"] == "conflict"
    assert (await SyncConflict.select(SyncConflict.reason).first())["reason"] == "visit_closed"
    page = await client.get("/v1/sync/pull", params={"protocol": 1}, headers=anna.headers)
    assert {"entity": "visit", "id": str(visits[0]), "reason": "cancelled"} in page.json()["removals"]


async def test_two_devices_record_different_outcomes_and_the_dispatcher_decides(client, phones):
    team, dispatcher, anna, ben, _ = await _team_with_visits(0)
    case_id, address_id = await make_case(team)
    visit = await make_visit(case_id, address_id, team, assigned_to=anna.user_id)
    await client.post(
        "/v1/visits/dispatch",
        headers=dispatcher.headers,
        json={
            "actions": [
                {
                    "visit_id": str(visit),
                    "action": "assign",
                    "collector_id": str(anna.user_id),
                    "partner_id": str(ben.user_id),
                }
            ]
        },
    )
    annas, bens = phones(anna), phones(ben)
    await annas.pull()
    await bens.pull()
    annas.enqueue("visit.record_outcome", visit, {"code": "NOH"})
    when = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    bens.enqueue(
        "visit.record_outcome", visit, {"code": "PTP", "promised_date": when, "amount": "900.00", "currency": "CNY"}
    )
    assert (await annas.push())[0]["status"] == "applied"
    held = (await bens.push())[0]
    assert held["status"] == "conflict"
    conflict = (await client.get(f"/v1/sync/conflicts/{held['conflict_id']}", headers=dispatcher.headers)).json()
    assert conflict["reason"] == "different_outcome"
    assert conflict["device_side"]["outcome"]["code"] == "PTP"
    assert conflict["server_side"]["outcome"]["code"] == "NOH"

    resolved = await client.post(
        f"/v1/sync/conflicts/{held['conflict_id']}/resolve",
        json={"resolution": "take_device", "note": "ben spoke to the debtor"},
        headers=dispatcher.headers,
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    states = {r["code"]: r["state"] for r in await VisitOutcome.select(VisitOutcome.code, VisitOutcome.state)}
    assert states == {"NOH": "superseded", "PTP": "accepted"}
    await bens.pull()
    assert bens.store.conflicts()[held["conflict_id"]]["resolution"] == "take_device"
    await annas.pull()
    assert annas.store.visits()[str(visit)]["outcome"] == "PTP"
    again = await client.post(
        f"/v1/sync/conflicts/{held['conflict_id']}/resolve",
        json={"resolution": "keep_server"},
        headers=dispatcher.headers,
    )
    assert again.json()["code"] == "409.50"


async def test_outcome_on_a_closed_visit(client, phones):
    _, dispatcher, anna, _, visits = await _team_with_visits(2)
    phone = phones(anna)
    await phone.pull()
    for visit in visits:  # recorded by the dispatcher meanwhile
        await client.post(f"/v1/visits/{visit}/outcome", json={"outcome": {"code": "NOH"}}, headers=dispatcher.headers)
    phone.enqueue("visit.record_outcome", visits[0], {"code": "NOH"})
    phone.enqueue("visit.record_outcome", visits[1], {"code": "REF"})
    same, different = await phone.push()
    assert same["status"] == "duplicate"
    assert different["status"] == "conflict"


async def test_stale_base_merges_without_overlap_and_conflicts_with_it(client, phones):
    _, dispatcher, anna, ben, visits = await _team_with_visits(1)
    case_id = (await Visit.select(Visit.case).where(Visit.id == visits[0]).first())["case"]
    await client.post(
        "/v1/visits/dispatch",
        headers=dispatcher.headers,
        json={
            "actions": [
                {
                    "visit_id": str(visits[0]),
                    "action": "assign",
                    "collector_id": str(anna.user_id),
                    "partner_id": str(ben.user_id),
                }
            ]
        },
    )
    annas, bens = phones(anna), phones(ben)
    await annas.pull()
    await bens.pull()
    base = annas.store.visits()[str(visits[0])]["case"]["version"]
    bens.enqueue("case.update_contact", case_id, {"phones_add": ["+86 139 0000 1111"]}, base_version=base)
    assert (await bens.push())[0]["status"] == "applied"
    annas.enqueue("case.update_contact", case_id, {"preferred_phone": "+86 138 0000 0000"}, base_version=base)
    no_overlap = (await annas.push())[0]
    assert no_overlap["status"] == "merged"
    bens.enqueue(
        "case.update_contact",
        case_id,
        {"preferred_phone": "+86 139 0000 1111", "phones_add": ["+86 137 2222 3333"]},
        base_version=base,
    )
    overlap = (await bens.push())[0]
    assert overlap["status"] == "conflict"
    assert overlap["data"]["phones"][-1] == "+86 137 2222 3333"  # the rest of the update still applied
    conflict = (await client.get(f"/v1/sync/conflicts/{overlap['conflict_id']}", headers=dispatcher.headers)).json()
    assert (conflict["kind"], conflict["fields"]) == ("soft", ["preferred_phone"])
    merged = await client.post(
        f"/v1/sync/conflicts/{overlap['conflict_id']}/resolve",
        headers=dispatcher.headers,
        json={"resolution": "merged", "value": {"preferred_phone": "+86 136 4444 5555"}},
    )
    assert merged.json()["resolved_value"] == {"preferred_phone": "+86 136 4444 5555"}
    await annas.pull()
    assert annas.store.visits()[str(visits[0])]["case"]["preferred_phone"] == "+86 136 4444 5555"


async def test_device_health_shows_pull_push_cursor_and_pending_conflicts(client, phones):
    _, dispatcher, anna, _, visits = await _team_with_visits(1)
    phone = phones(anna)
    await phone.pull()
    await client.post(
        "/v1/visits/dispatch",
        headers=dispatcher.headers,
        json={"actions": [{"visit_id": str(visits[0]), "action": "cancel"}]},
    )
    phone.enqueue("visit.record_outcome", visits[0], {"code": "NOH"}, location=near())
    await phone.push()
    health = (await client.get("/v1/sync/devices", headers=dispatcher.headers)).json()
    mine = next(h for h in health if h["device_id"] == str(anna.device_id))
    assert None not in (mine["last_pull_at"], mine["last_push_at"])
    assert mine["cursor"] != ""
    assert (mine["pending_conflicts"], mine["last_seq"]) == (1, 1)
    assert mine["last_fix_at"] is not None
    assert (await client.get("/v1/sync/devices", headers=anna.headers)).status_code == 403
