"""What a pull reads and writes. On PostgreSQL it reads its feed page and the door data of its visits in
one statement (``api.sync.door.page_at_door``), which must give exactly what the portable path gives
(``sync.changes.read`` + ``api.sync.door.visits_at_door``, which SQLite runs), page by page. Its
device-health write is coalesced while the cursor stays the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from api.people.roles import Role
from api.settings import get_settings
from api.sync import door, service
from sync import changes
from sync.feed import Cursor
from sync.tables import DeviceSyncState
from tests.api.sync.conftest import near
from tests.builders import make_case, make_collector, make_staff, make_team, make_visit


async def _portable(scope, cursor, limit):
    page = await changes.read(scope, cursor, limit)
    return page, await door.visits_at_door([c.entity_id for c in page.changes if c.entity == "visit"])


async def _busy_day(client, phones):
    """A collector's feed with every kind of entry: visits with earlier outcomes on their case and an open
    promise, a partner visit, a reassignment, a cancellation, a resolved conflict."""
    team = await make_team()
    dispatcher = await make_staff(Role.DISPATCHER, team)
    anna, ben = await make_collector(team), await make_collector(team)
    case_id, address_id = await make_case(team)
    first = await make_visit(case_id, address_id, team, assigned_to=anna.user_id)
    second = await make_visit(case_id, address_id, team, assigned_to=anna.user_id)
    others = [await make_visit(*await make_case(team), team, assigned_to=anna.user_id) for _ in range(4)]
    shared = await make_visit(*await make_case(team), team)
    pair = {"collector_id": str(ben.user_id), "partner_id": str(anna.user_id)}
    actions = [
        {"visit_id": str(shared), "action": "assign", **pair},
        {"visit_id": str(others[0]), "action": "reassign", "collector_id": str(ben.user_id)},
        {"visit_id": str(others[1]), "action": "cancel", "reason": "paid by bank"},
    ]
    phone = phones(anna)
    await phone.pull()
    phone.enqueue("visit.record_outcome", first, {"code": "NOH"}, location=near())
    when = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    promise = {"code": "PTP", "promised_date": when, "amount": "900.00", "currency": "CNY"}
    phone.enqueue("visit.record_outcome", others[2], promise, location=near())
    assert [r["status"] for r in await phone.push()] == ["applied", "applied"]
    answer = await client.post("/v1/visits/dispatch", headers=dispatcher.headers, json={"actions": actions})
    assert answer.status_code == 200, answer.text
    phone.enqueue("visit.record_outcome", others[0], {"code": "NOH"}, location=near())
    held = (await phone.push())[0]
    assert held["status"] == "conflict"
    resolved = await client.post(
        f"/v1/sync/conflicts/{held['conflict_id']}/resolve",
        headers=dispatcher.headers,
        json={"resolution": "keep_server"},
    )
    assert resolved.status_code == 200, resolved.text
    return anna, first, second, shared


@pytest.mark.parametrize("limit", [1, 3, 200])
async def test_one_statement_pull_gives_what_the_portable_path_gives(client, phones, limit):
    if not changes.postgres():
        pytest.skip("the one-statement pull is PostgreSQL's")
    anna, first, second, shared = await _busy_day(client, phones)
    cursor, pages, seen = Cursor(), 0, set()
    while True:
        page, at_door = await door.page_at_door(anna.user_id, cursor, limit)
        expected_page, expected_at_door = await _portable(anna.user_id, cursor, limit)
        assert page == expected_page
        assert at_door == expected_at_door
        seen |= set(at_door)
        pages += 1
        cursor = page.cursor
        if not page.has_more:
            break
    assert pages > 1 or limit == 200
    assert {first, second, shared} <= seen
    day, _ = await door.page_at_door(anna.user_id, Cursor(), 200)
    full = (await door.page_at_door(anna.user_id, Cursor(), 200))[1]
    assert [p.code for p in full[second][0].previous_outcomes] == ["NOH"]  # the case's earlier outcome
    assert full[first][0].previous_outcomes == []  # a visit's own outcome is not an earlier one
    assert anna.user_id in full[shared][1]  # the partner's visit
    assert any(v.promise is not None for v, _ in full.values())
    assert any(c.entity == "conflict" for c in day.changes)
    empty, nothing = await door.page_at_door(anna.user_id, day.cursor, 200)
    assert (empty.changes, empty.cursor, empty.has_more, nothing) == ([], day.cursor, False, {})


async def _pull_state(device_id):
    rows = await DeviceSyncState.select().where(DeviceSyncState.device_id == device_id)
    return rows[0]["last_pull_at"], rows[0]["cursor"]


def _pull_resolution(monkeypatch, seconds: float) -> None:
    settings = get_settings()
    changed = msgspec.structs.replace(
        settings, auth=msgspec.structs.replace(settings.auth, device_pull_resolution_s=seconds)
    )
    monkeypatch.setattr(service, "get_settings", lambda: changed)


@pytest.mark.embedded
async def test_device_health_writes_a_new_cursor_at_once_and_the_same_one_at_most_every_resolution(
    client, phones, monkeypatch
):
    team = await make_team()
    anna = await make_collector(team)
    case_id, address_id = await make_case(team)
    await make_visit(case_id, address_id, team, assigned_to=anna.user_id)
    phone = phones(anna)
    _pull_resolution(monkeypatch, 3600)
    await phone.pull()
    first = await _pull_state(anna.device_id)
    await phone.pull()  # the same cursor again: telemetry only, not written again within the resolution
    assert await _pull_state(anna.device_id) == first
    await make_visit(case_id, address_id, team, assigned_to=anna.user_id)
    await phone.pull()  # a new cursor is written at once
    moved = await _pull_state(anna.device_id)
    assert moved[1] != first[1]
    assert moved[0] > first[0]
    _pull_resolution(monkeypatch, 0)
    await phone.pull()  # past the resolution: the pull time is written again
    again = await _pull_state(anna.device_id)
    assert (again[0] > moved[0], again[1]) == (True, moved[1])
