"""People, tokens, devices and role guards, over the real HTTP stack and database."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from piccolo.querystring import QueryString

from api.db import get_engine, write_transaction
from api.people import service
from api.people.roles import Role
from tests.builders import make_collector, make_staff, make_team

pytestmark = pytest.mark.embedded


async def _all_text_in(table: str) -> str:
    rows = await get_engine().run_querystring(QueryString(f'SELECT * FROM "{table}"'))  # noqa: S608
    return " ".join(str(v) for row in rows for v in row.values())


async def test_tokens_and_codes_are_stored_only_as_hashes(client):
    team = await make_team()
    admin = await make_staff(Role.ADMIN)
    dispatcher = await make_staff(Role.DISPATCHER, team)
    collector = await make_collector(team)
    issued = await client.post(
        "/v1/devices/enrolment-codes",
        json={"collector_id": str(collector.user_id)},
        headers=dispatcher.headers,
    )
    assert issued.status_code == 201, issued.text
    code = issued.json()["code"]

    stored = " ".join([await _all_text_in(t) for t in ("staff_token", "device", "enrolment_code")])
    for secret in (admin.token, dispatcher.token, collector.token, code):
        assert secret not in stored
    assert hashlib.sha256(admin.token.encode()).hexdigest() in stored


async def test_revoked_device_token_gets_401_with_code(client):
    team = await make_team()
    dispatcher = await make_staff(Role.DISPATCHER, team)
    collector = await make_collector(team)
    assert (await client.get("/v1/users/me", headers=collector.headers)).status_code == 200

    revoked = await client.post(f"/v1/devices/{collector.device_id}/revoke", headers=dispatcher.headers)
    assert revoked.status_code == 201, revoked.text
    assert revoked.json()["revoked_at"] is not None

    answer = await client.get("/v1/users/me", headers=collector.headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == "DeviceRevoked"
    assert answer.json()["code"] == "401.10"


async def test_revoked_staff_token_gets_401(client):
    admin = await make_staff(Role.ADMIN)
    other = await make_staff(Role.LEGAL)
    tokens = await client.get(f"/v1/users/{other.user_id}/tokens", headers=admin.headers)
    token_id = tokens.json()[0]["id"]
    assert (await client.post(f"/v1/tokens/{token_id}/revoke", headers=admin.headers)).status_code == 204
    answer = await client.get("/v1/users/me", headers=other.headers)
    assert (answer.status_code, answer.json()["code"]) == (401, "401.2")


async def test_collector_calling_a_dispatcher_route_gets_coded_403(client):
    team = await make_team()
    collector = await make_collector(team)
    answer = await client.get("/v1/devices", headers=collector.headers)
    assert answer.status_code == 403
    assert answer.json() == {
        "error": "RoleNotAllowed",
        "code": "403.1",
        "detail": "role 'collector' may not use this route (allowed: admin, dispatcher, supervisor)",
    }


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer fvs_not-a-real-token"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer x"},
    ],
)
async def test_missing_or_unknown_token_gets_401(client, headers):
    answer = await client.get("/v1/users/me", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["code"] == "401.1"


async def test_enrolment_code_is_one_time_and_device_gets_its_own_token(client):
    team = await make_team()
    dispatcher = await make_staff(Role.DISPATCHER, team)
    collector = await make_collector(team)
    code = (
        await client.post(
            "/v1/devices/enrolment-codes",
            json={"collector_id": str(collector.user_id)},
            headers=dispatcher.headers,
        )
    ).json()["code"]

    first = await client.post("/v1/devices/enrol", json={"code": code.lower().replace("-", " "), "app_version": "1.4"})
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["user_id"] == str(collector.user_id)
    me = await client.get("/v1/users/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["username"] == collector.username

    again = await client.post("/v1/devices/enrol", json={"code": code})
    assert (again.status_code, again.json()["error"]) == (409, "EnrolmentCodeUsed")
    unknown = await client.post("/v1/devices/enrol", json={"code": "AAAA-BBBB-CCCC"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "404.14")


async def test_expired_enrolment_code_is_refused(client):
    team = await make_team()
    collector = await make_collector(team)
    async with write_transaction():
        issued = await service.issue_enrolment_code(collector.user_id, None, timedelta(seconds=-1))
    answer = await client.post("/v1/devices/enrol", json={"code": issued.code})
    assert (answer.status_code, answer.json()["error"]) == (410, "EnrolmentCodeExpired")


async def test_dispatcher_cannot_enrol_or_revoke_another_teams_devices(client):
    team_a, team_b = await make_team(), await make_team()
    dispatcher_a = await make_staff(Role.DISPATCHER, team_a)
    collector_b = await make_collector(team_b)
    enrol = await client.post(
        "/v1/devices/enrolment-codes",
        json={"collector_id": str(collector_b.user_id)},
        headers=dispatcher_a.headers,
    )
    assert (enrol.status_code, enrol.json()["code"]) == (403, "403.2")
    revoke = await client.post(f"/v1/devices/{collector_b.device_id}/revoke", headers=dispatcher_a.headers)
    assert (revoke.status_code, revoke.json()["code"]) == (403, "403.2")
    listed = await client.get("/v1/devices", headers=dispatcher_a.headers)
    assert listed.json() == []
    assert (await client.get("/v1/users/me", headers=collector_b.headers)).status_code == 200


async def test_device_records_last_seen_and_app_version(client):
    team = await make_team()
    dispatcher = await make_staff(Role.DISPATCHER, team)
    collector = await make_collector(team)
    await client.get("/v1/users/me", headers={**collector.headers, "X-App-Version": "2.7.1"})
    device = (await client.get(f"/v1/devices/{collector.device_id}", headers=dispatcher.headers)).json()
    assert device["app_version"] == "2.7.1"
    assert device["last_seen_at"] is not None


async def test_only_admin_creates_users_and_collectors_get_no_staff_token(client):
    team = await make_team()
    admin = await make_staff(Role.ADMIN)
    supervisor = await make_staff(Role.SUPERVISOR, team)
    payload = {"username": "newbie", "role": "collector", "team_id": str(team)}
    denied = await client.post("/v1/users", json=payload, headers=supervisor.headers)
    assert denied.status_code == 403
    created = await client.post("/v1/users", json=payload, headers=admin.headers)
    assert created.status_code == 201, created.text
    token = await client.post(f"/v1/users/{created.json()['id']}/tokens", json={}, headers=admin.headers)
    assert (token.status_code, token.json()["code"]) == (403, "403.1")
    duplicate = await client.post("/v1/users", json=payload, headers=admin.headers)
    assert (duplicate.status_code, duplicate.json()["error"]) == (409, "UsernameTaken")
    no_team = await client.post("/v1/users", json={"username": "x1", "role": "dispatcher"}, headers=admin.headers)
    assert (no_team.status_code, no_team.json()["error"]) == (422, "TeamRequired")
