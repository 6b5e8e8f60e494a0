"""Visit requests and dispatch over HTTP, on the real database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.cases.tables import Address
from api.db import write_transaction
from api.people.roles import Role
from tests.builders import make_case, make_collector, make_staff, make_team, make_visit

pytestmark = pytest.mark.embedded


async def test_dispatcher_requests_a_visit_due_in_seven_days(client):
    team = await make_team()
    dispatcher = await make_staff(Role.DISPATCHER, team)
    case_id, address_id = await make_case(team)
    answer = await client.post(
        "/v1/visits", json={"case_id": str(case_id), "type": "pressure"}, headers=dispatcher.headers
    )
    assert answer.status_code == 201, answer.text
    visit = answer.json()
    assert visit["due_date"] == (date.today() + timedelta(days=7)).isoformat()
    assert visit["address_id"] == str(address_id)
    assert (visit["status"], visit["version"], visit["origin"]) == ("requested", 1, "dispatcher")
    detail = (await client.get(f"/v1/visits/{visit['id']}", headers=dispatcher.headers)).json()
    assert [e["kind"] for e in detail["timeline"]] == ["requested"]


async def test_a_visit_to_an_address_marked_invalid_is_refused(client):
    team = await make_team()
    dispatcher = await make_staff(Role.DISPATCHER, team)
    case_id, address_id = await make_case(team)
    async with write_transaction():
        await Address.update({Address.valid: False, Address.invalid_reason: "demolished"}).where(
            Address.id == address_id
        )
    explicit = await client.post(
        "/v1/visits",
        json={"case_id": str(case_id), "type": "pressure", "address_id": str(address_id)},
        headers=dispatcher.headers,
    )
    assert (explicit.status_code, explicit.json()["error"], explicit.json()["code"]) == (
        409,
        "AddressMarkedInvalid",
        "409.20",
    )
    implicit = await client.post(
        "/v1/visits", json={"case_id": str(case_id), "type": "tracing"}, headers=dispatcher.headers
    )
    assert (implicit.status_code, implicit.json()["error"]) == (409, "NoValidAddress")


async def test_bulk_dispatch_assigns_reassigns_cancels_each_with_its_own_result(client):
    team, other_team = await make_team(), await make_team()
    dispatcher = await make_staff(Role.DISPATCHER, team)
    anna, ben = await make_collector(team), await make_collector(team)
    outsider = await make_collector(other_team)
    case_id, address_id = await make_case(team)
    v1 = await make_visit(case_id, address_id, team)
    v2 = await make_visit(case_id, address_id, team, assigned_to=anna.user_id)
    v3 = await make_visit(case_id, address_id, team)
    other_case, other_address = await make_case(other_team)
    foreign = await make_visit(other_case, other_address, other_team)
    actions = [
        {"visit_id": str(v1), "action": "assign", "collector_id": str(anna.user_id)},
        {"visit_id": str(v2), "action": "reassign", "collector_id": str(ben.user_id), "base_version": 2},
        {"visit_id": str(v3), "action": "cancel", "reason": "duplicate request"},
        {"visit_id": str(v1), "action": "assign", "collector_id": str(outsider.user_id)},
        {"visit_id": str(foreign), "action": "cancel"},
        {"visit_id": str(v2), "action": "cancel", "base_version": 2},
    ]
    answer = await client.post("/v1/visits/dispatch", json={"actions": actions}, headers=dispatcher.headers)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["ok"] for r in results] == [True, True, True, False, False, False]
    assert [r.get("status") for r in results[:3]] == ["assigned", "assigned", "cancelled"]
    assert [r["version"] for r in results[:3]] == [2, 3, 2]
    assert results[3]["error"]["code"] == "422.30"  # not a collector of the visit's team
    assert results[4]["error"]["code"] == "403.2"  # another team's visit
    assert results[5]["error"]["error"] == "StaleVisitVersion"

    detail = (await client.get(f"/v1/visits/{v2}", headers=dispatcher.headers)).json()
    assert detail["visit"]["assigned_to"] == str(ben.user_id)
    assert [e["kind"] for e in detail["timeline"]] == ["assigned", "reassigned"]
    assert detail["timeline"][1]["actor_id"] == str(dispatcher.user_id)
    foreign_left = await client.get(f"/v1/visits/{foreign}", headers=(await make_staff(Role.ADMIN)).headers)
    assert foreign_left.json()["visit"]["status"] == "requested"


async def test_collectors_cannot_list_cases_or_other_collectors_visits(client):
    team = await make_team()
    anna, ben = await make_collector(team), await make_collector(team)
    case_id, address_id = await make_case(team)
    annas = await make_visit(case_id, address_id, team, assigned_to=anna.user_id)
    bens = await make_visit(case_id, address_id, team, assigned_to=ben.user_id)
    assert (await client.get("/v1/cases", headers=anna.headers)).status_code == 403
    assert (await client.get(f"/v1/cases/{case_id}", headers=anna.headers)).status_code == 403
    assert (await client.get("/v1/visits", headers=anna.headers)).status_code == 403
    assert (await client.get(f"/v1/visits/{annas}", headers=anna.headers)).status_code == 200
    other = await client.get(f"/v1/visits/{bens}", headers=anna.headers)
    assert (other.status_code, other.json()["code"]) == (403, "403.2")


async def test_dispatcher_of_team_a_cannot_touch_team_b(client):
    team_a, team_b = await make_team(), await make_team()
    dispatcher_a = await make_staff(Role.DISPATCHER, team_a)
    case_b, address_b = await make_case(team_b)
    visit_b = await make_visit(case_b, address_b, team_b)
    assert (await client.get(f"/v1/cases/{case_b}", headers=dispatcher_a.headers)).status_code == 403
    assert (await client.get(f"/v1/visits/{visit_b}", headers=dispatcher_a.headers)).status_code == 403
    requested = await client.post(
        "/v1/visits", json={"case_id": str(case_b), "type": "pressure"}, headers=dispatcher_a.headers
    )
    assert requested.status_code == 403
    listed = await client.get("/v1/visits", params={"team_id": str(team_b)}, headers=dispatcher_a.headers)
    assert listed.status_code == 403
    own = await client.get("/v1/visits", headers=dispatcher_a.headers)
    assert own.json() == []


async def test_dispatcher_queries_filter_by_status_collector_and_overdue(client):
    team = await make_team()
    dispatcher = await make_staff(Role.DISPATCHER, team)
    anna = await make_collector(team)
    case_id, address_id = await make_case(team)
    overdue = await make_visit(case_id, address_id, team, assigned_to=anna.user_id, due_in_days=-2)
    await make_visit(case_id, address_id, team, due_in_days=3)

    def ids(answer):
        return [v["id"] for v in answer.json()]

    headers = dispatcher.headers
    assert ids(await client.get("/v1/visits", params={"overdue": "true"}, headers=headers)) == [str(overdue)]
    by_collector = await client.get("/v1/visits", params={"collector_id": str(anna.user_id)}, headers=headers)
    assert ids(by_collector) == [str(overdue)]
    assert len(ids(await client.get("/v1/visits", params={"status": "requested"}, headers=headers))) == 1
    cases = await client.get("/v1/cases", params={"stage": "middle"}, headers=headers)
    assert [c["id"] for c in cases.json()] == [str(case_id)]
    detail = (await client.get(f"/v1/cases/{case_id}", headers=headers)).json()
    assert len(detail["visits"]) == 2
    assert detail["case"]["national_id_last4"] == "1234"
