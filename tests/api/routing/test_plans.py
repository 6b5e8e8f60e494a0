"""Route plans over HTTP on the real stack: request (a job), read as JSON/GeoJSON/SVG, publish, re-plan."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import pytest

from api.cases.tables import Address
from api.db import write_transaction
from api.people.roles import Role
from tests.builders import Actor, make_case, make_collector, make_collector_profile, make_staff, make_team, make_visit
from tests.fixtures import DrainJobs

pytestmark = pytest.mark.embedded

DAY = date.today() + timedelta(days=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def near(dx_m: float, dy_m: float) -> tuple[float, float]:
    lat = 31.23 + dy_m / 111_195.0
    return lat, 121.47 + dx_m / (111_195.0 * math.cos(math.radians(31.23)))


async def visit_at(team: UUID, dx_m: float, dy_m: float, **kw: object) -> UUID:
    lat, lon = near(dx_m, dy_m)
    case_id, address_id = await make_case(team, lat=lat, lon=lon)
    return await make_visit(case_id, address_id, team, **kw)  # type: ignore[arg-type]


async def planned(client: httpx.AsyncClient, drain: DrainJobs, who: Actor, body: dict[str, object]) -> dict:  # type: ignore[type-arg]
    answer = await client.post("/v1/routing/plans", json=body, headers=who.headers)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "pending"
    await drain()
    detail = await client.get(f"/v1/routing/plans/{answer.json()['id']}", headers=who.headers)
    assert detail.status_code == 200, detail.text
    assert detail.json()["summary"]["status"] == "ready", detail.json()["summary"]
    return detail.json()  # type: ignore[no-any-return]


async def _team_day() -> tuple[UUID, Actor, list[Actor], list[UUID]]:
    team = await make_team()
    dispatcher = await make_staff(Role.DISPATCHER, team)
    anna, ben = await make_collector(team), await make_collector(team)
    home_a, home_b = near(-2000, 0), near(2000, 0)
    await make_collector_profile(anna.user_id, lat=home_a[0], lon=home_a[1])
    await make_collector_profile(ben.user_id, lat=home_b[0], lon=home_b[1])
    visits = [await visit_at(team, dx, dy) for dx, dy in [(-2500, 300), (-1800, -400), (1900, 500), (2600, -200)]]
    lat, lon = near(300, 300)
    for _ in range(2):  # two debtors in one building: one stop
        case_id, address_id = await make_case(team, lat=lat, lon=lon)
        visits.append(await make_visit(case_id, address_id, team))
    return team, dispatcher, [anna, ben], visits


async def test_a_plan_is_computed_published_and_reaches_the_visits(client, drain_jobs):
    _team, dispatcher, (_anna, _ben), visits = await _team_day()
    detail = await planned(client, drain_jobs, dispatcher, {"day": DAY.isoformat()})
    plan = detail["plan"]
    routed = [v["visit_id"] for r in plan["routes"] for s in r["stops"] for v in s["visits"]]
    assert sorted(routed) == sorted(str(v) for v in visits)
    assert plan["unplaced"] == []
    building = [s for r in plan["routes"] for s in r["stops"] if len(s["visits"]) == 2]
    assert len(building) == 1
    for route in plan["routes"]:
        assert route["hull"]
        for stop in route["stops"]:
            local = datetime.fromisoformat(stop["eta"]).astimezone(SHANGHAI)
            assert time(8) <= local.time() <= time(22)
    assert plan["regions"][0]["hull"]

    geo = await client.get(f"/v1/routing/plans/{detail['summary']['id']}.geojson", headers=dispatcher.headers)
    assert geo.status_code == 200
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert {f["properties"]["kind"] for f in geo.json()["features"]} >= {"region", "route", "stop", "collector_area"}
    svg = await client.get(f"/v1/routing/plans/{detail['summary']['id']}.svg", headers=dispatcher.headers)
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg")

    published = await client.post(f"/v1/routing/plans/{detail['summary']['id']}/publish", headers=dispatcher.headers)
    assert published.status_code == 200, published.text
    assert published.json()["summary"]["status"] == "published"
    assert {v["result"] for v in published.json()["visits"]} == {"routed"}
    for route in plan["routes"]:
        ordered = [v for s in route["stops"] for v in s["visits"]]
        for order, planned_visit in enumerate(ordered, start=1):
            visit = (await client.get(f"/v1/visits/{planned_visit['visit_id']}", headers=dispatcher.headers)).json()
            assert visit["visit"]["assigned_to"] == route["collector_id"]
            assert visit["visit"]["stop_order"] == order
            assert datetime.fromisoformat(visit["visit"]["eta"]) == datetime.fromisoformat(planned_visit["eta"])
            assert visit["visit"]["plan_id"] == detail["summary"]["id"]
            assert visit["visit"]["status"] == "assigned"
            assert "routed" in [e["kind"] for e in visit["timeline"]]
    again = await client.post(f"/v1/routing/plans/{detail['summary']['id']}/publish", headers=dispatcher.headers)
    assert (again.status_code, again.json()["code"]) == (409, "409.101")


async def test_replanning_one_collector_leaves_the_others_unchanged(client, drain_jobs):
    team, dispatcher, (anna, ben), _visits = await _team_day()
    first = await planned(client, drain_jobs, dispatcher, {"day": DAY.isoformat()})
    first_id = first["summary"]["id"]
    assert (await client.post(f"/v1/routing/plans/{first_id}/publish", headers=dispatcher.headers)).status_code == 200
    routes = {r["collector_id"]: r for r in first["plan"]["routes"]}
    target = str(anna.user_id) if str(anna.user_id) in routes else str(ben.user_id)
    other = next(c for c in routes if c != target)
    mine = [v["visit_id"] for s in routes[target]["stops"] for v in s["visits"]]
    theirs = [v["visit_id"] for s in routes[other]["stops"] for v in s["visits"]]
    versions = {
        v: (await client.get(f"/v1/visits/{v}", headers=dispatcher.headers)).json()["visit"]["version"] for v in theirs
    }
    cancel = {"actions": [{"visit_id": mine[0], "action": "cancel", "reason": "paid by phone"}]}
    assert (await client.post("/v1/visits/dispatch", json=cancel, headers=dispatcher.headers)).status_code == 200
    added = await visit_at(team, -2200, 100)

    answer = await client.post(
        f"/v1/routing/plans/{first_id}/replan",
        json={"collector_id": target, "add_visit_ids": [str(added)]},
        headers=dispatcher.headers,
    )
    assert answer.status_code == 202, answer.text
    await drain_jobs()
    second = (await client.get(f"/v1/routing/plans/{answer.json()['id']}", headers=dispatcher.headers)).json()
    assert second["summary"]["status"] == "ready", second["summary"]
    assert second["summary"]["parent_id"] == first_id
    after = {r["collector_id"]: r for r in second["plan"]["routes"]}
    assert after[other] == routes[other]
    new_mine = [v["visit_id"] for s in after[target]["stops"] for v in s["visits"]]
    assert str(added) in new_mine
    assert mine[0] not in new_mine

    published = await client.post(f"/v1/routing/plans/{answer.json()['id']}/publish", headers=dispatcher.headers)
    assert published.status_code == 200, published.text
    results = {v["visit_id"]: v["result"] for v in published.json()["visits"]}
    assert all(results[v] == "unchanged" for v in theirs)
    assert results[str(added)] == "routed"
    for v in theirs:
        assert (await client.get(f"/v1/visits/{v}", headers=dispatcher.headers)).json()["visit"]["version"] == versions[
            v
        ]
    listed = (await client.get(f"/v1/routing/plans?day={DAY.isoformat()}", headers=dispatcher.headers)).json()
    assert {p["id"]: p["status"] for p in listed} == {first_id: "superseded", answer.json()["id"]: "published"}


async def test_unplaceable_visits_carry_their_reason(client, drain_jobs):
    team, dispatcher, _, _visits = await _team_day()
    night = datetime.combine(DAY, time(22, 30), tzinfo=SHANGHAI)
    case_id, address_id = await make_case(team)
    late = await make_visit(case_id, address_id, team)
    lost_case, lost_address = await make_case(team)
    lost = await make_visit(lost_case, lost_address, team)
    async with write_transaction():
        from api.cases.tables import Visit

        await Visit.update({Visit.appointment_start: night, Visit.appointment_end: night + timedelta(hours=1)}).where(
            Visit.id == late
        )
        await Address.update({Address.lat: None, Address.lon: None}).where(Address.id == lost_address)
    far = await visit_at(team, 600_000, 0)
    detail = await planned(client, drain_jobs, dispatcher, {"day": DAY.isoformat()})
    reasons = {u["visit_id"]: u["reason"] for u in detail["plan"]["unplaced"]}
    assert reasons == {
        str(late): "outside_every_window",
        str(lost): "address_not_located",
        str(far): "no_collector_in_reach",
    }


async def test_collectors_and_other_teams_cannot_plan(client, drain_jobs):
    team, dispatcher, (anna, _), _ = await _team_day()
    outsider = await make_staff(Role.DISPATCHER, await make_team())
    body = {"day": DAY.isoformat()}
    refused = await client.post("/v1/routing/plans", json=body, headers=anna.headers)
    assert (refused.status_code, refused.json()["error"]) == (403, "RoleNotAllowed")
    detail = await planned(client, drain_jobs, dispatcher, body)
    plan_id = detail["summary"]["id"]
    for path in (f"/v1/routing/plans/{plan_id}", f"/v1/routing/plans/{plan_id}.svg"):
        answer = await client.get(path, headers=outsider.headers)
        assert (answer.status_code, answer.json()["error"]) == (403, "NotYourData")
    stolen = await client.post(f"/v1/routing/plans/{plan_id}/publish", headers=outsider.headers)
    assert stolen.status_code == 403
    other_team = await client.post("/v1/routing/plans", json={**body, "team_id": str(team)}, headers=outsider.headers)
    assert (other_team.status_code, other_team.json()["error"]) == (403, "NotYourData")
    supervisor = await make_staff(Role.SUPERVISOR, team)
    assert (await client.get(f"/v1/routing/plans/{plan_id}", headers=supervisor.headers)).status_code == 200


async def test_bad_input_gets_a_coded_4xx(client, drain_jobs):
    _team, dispatcher, (anna, _), _ = await _team_day()
    h = dispatcher.headers
    cases = [
        (await client.post("/v1/routing/plans", json={"day": "tomorrow"}, headers=h), 400, "400.1"),
        (await client.post("/v1/routing/plans", json={"day": DAY.isoformat(), "x": 1}, headers=h), 400, "400.1"),
        (
            await client.post(
                "/v1/routing/plans",
                json={"day": DAY.isoformat(), "collector_ids": [str(dispatcher.user_id)]},
                headers=h,
            ),
            422,
            "422.100",
        ),
        (await client.post("/v1/routing/plans", json={"day": "9999-12-31"}, headers=h), 422, "422.100"),
        (await client.get("/v1/routing/plans/not-a-plan", headers=h), 404, "404.100"),
        (await client.get(f"/v1/routing/plans/{UUID(int=5)}", headers=h), 404, "404.100"),
        (await client.get(f"/v1/routing/plans/{UUID(int=5)}.pdf", headers=h), 404, "404.100"),
        (
            await client.put(
                f"/v1/routing/collectors/{anna.user_id}",
                json={"home_lat": 31.2, "home_lon": 121.4, "timezone": "Mars/Base"},
                headers=h,
            ),
            422,
            "422.101",
        ),
        (
            await client.put(
                f"/v1/routing/collectors/{anna.user_id}",
                json={"home_lat": 91, "home_lon": 121.4, "timezone": "Asia/Shanghai"},
                headers=h,
            ),
            400,
            "400.1",
        ),
        (await client.get(f"/v1/routing/collectors/{dispatcher.user_id}", headers=h), 404, "404.101"),
    ]
    pending = await client.post("/v1/routing/plans", json={"day": DAY.isoformat()}, headers=h)
    plan_id = pending.json()["id"]
    cases.append((await client.get(f"/v1/routing/plans/{plan_id}.svg", headers=h), 409, "409.100"))
    cases.append((await client.post(f"/v1/routing/plans/{plan_id}/publish", headers=h), 409, "409.100"))
    await drain_jobs()
    both = {"collector_id": str(anna.user_id), "region_id": "x"}
    cases.append((await client.post(f"/v1/routing/plans/{plan_id}/replan", json=both, headers=h), 422, "422.100"))
    nobody = {"collector_id": str(UUID(int=7))}
    cases.append((await client.post(f"/v1/routing/plans/{plan_id}/replan", json=nobody, headers=h), 422, "422.102"))
    for answer, status, code in cases:
        assert (answer.status_code, answer.json().get("code")) == (status, code), answer.text


async def test_a_dispatcher_sets_a_collector_profile(client):
    team = await make_team()
    dispatcher = await make_staff(Role.DISPATCHER, team)
    anna = await make_collector(team)
    body = {
        "home_lat": 31.2,
        "home_lon": 121.4,
        "timezone": "Asia/Shanghai",
        "shift_start": "14:00:00",
        "shift_end": "22:00:00",
        "capacity": 12,
    }
    saved = await client.put(f"/v1/routing/collectors/{anna.user_id}", json=body, headers=dispatcher.headers)
    assert saved.status_code == 200, saved.text
    read = await client.get(f"/v1/routing/collectors/{anna.user_id}", headers=dispatcher.headers)
    assert read.json() == saved.json()
    assert (read.json()["shift_start"], read.json()["capacity"]) == ("14:00:00", 12)
    body["capacity"] = 20
    again = await client.put(f"/v1/routing/collectors/{anna.user_id}", json=body, headers=dispatcher.headers)
    assert again.json()["capacity"] == 20
