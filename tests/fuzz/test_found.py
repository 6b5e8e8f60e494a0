"""What the fuzzer found, pinned as plain tests (in-process, both databases): each of these inputs
used to answer 500 and now gets a coded 4xx."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from api.people.roles import Role
from tests.builders import make_case, make_collector, make_staff, make_team, make_visit

pytestmark = pytest.mark.embedded

HUGE = 2**63 + 5  # past every 64-bit integer column


def _coded_4xx(answer: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert body["code"].startswith(f"{status}.")
    return body


async def test_huge_offsets_are_refused(client: httpx.AsyncClient):
    admin = await make_staff(Role.ADMIN)
    for path in ("/v1/cases", "/v1/visits", "/v1/agreements", "/v1/qc/reviews", "/v1/sync/conflicts"):
        _coded_4xx(await client.get(path, params={"offset": HUGE}, headers=admin.headers))
    assert (await client.get("/v1/cases", params={"offset": 10**9}, headers=admin.headers)).status_code == 200


async def test_text_with_nul_is_refused_in_queries_paths_and_bodies(client: httpx.AsyncClient):
    admin = await make_staff(Role.ADMIN)
    body = _coded_4xx(await client.get("/v1/cases", params={"stage": "late\x00"}, headers=admin.headers))
    assert "NUL" in body["detail"]
    _coded_4xx(await client.get("/v1/routing/plans/plan%00.svg", headers=admin.headers))
    _coded_4xx(await client.post("/v1/teams", json={"name": "north\x00"}, headers=admin.headers))
    _coded_4xx(await client.post("/v1/teams", json={"na\x00me": "north"}, headers=admin.headers))
    msgpack = {**admin.headers, "Content-Type": "application/msgpack"}
    _coded_4xx(await client.post("/v1/teams", content=b"\x81\xa4name\xa3a\x00b", headers=msgpack))
    assert (await client.post("/v1/teams", json={"name": "a\\u0000b"}, headers=admin.headers)).status_code == 201


async def test_qc_month_outside_the_calendar_is_refused(client: httpx.AsyncClient):
    supervisor = await make_staff(Role.SUPERVISOR, await make_team())
    for month in ("0000-01", "9999-12"):
        _coded_4xx(await client.post("/v1/qc/samples", json={"month": month}, headers=supervisor.headers))


async def test_counters_past_64_bits_are_refused(client: httpx.AsyncClient):
    team = await make_team()
    collector = await make_collector(team)
    case_id, address_id = await make_case(team)
    visit = await make_visit(case_id, address_id, team, assigned_to=collector.user_id)
    for field in ("seq", "base_version", "elapsed_ms"):
        mutation = {
            "id": str(uuid.uuid4()),
            "seq": 1,
            "type": "visit.add_note",
            "device_time": datetime.now(UTC).isoformat(),
            "target": str(visit),
            "payload": {"text": "x"},
            field: HUGE,
        }
        push = {"protocol": 1, "mutations": [mutation]}
        _coded_4xx(await client.post("/v1/sync/push", json=push, headers=collector.headers))
    item = {"id": str(uuid.uuid4()), "visit_id": str(visit), "kind": "photo", "sha256": "ab" * 32, "size": HUGE}
    _coded_4xx(await client.post("/v1/evidence/items", json=item, headers=collector.headers))


async def test_options_on_a_guarded_controller_is_not_a_server_error(client: httpx.AsyncClient):
    for path in ("/v1/webhooks", "/v1/legal/exports", "/v1/routing/plans"):
        answer = await client.options(path)
        assert answer.status_code == 204, (path, answer.text)
        assert "OPTIONS" in answer.headers["allow"]
