"""Personal data sent to phones: a pull carries only what is needed at the door (a whitelist of
fields per record), never the full national id, and nothing of another collector's scope."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.world import World, make_world

pytestmark = pytest.mark.embedded

FULL_NATIONAL_ID = "11010119900307661X"

# What a collector's phone may hold of each record (DESIGN: only the personal data needed at the
# door). Upstream bookkeeping (source refs, team, last contact/payment, refusals, legal flag,
# pending confirmations, per-field contact versions, import digests, normalised addresses) stays
# on the server; so do other addresses' and other visits' data.
PULL_FIELDS = {"protocol", "server_time", "cursor", "has_more", "visits", "removals", "conflicts"}
VISIT_FIELDS = {
    "id",
    "version",
    "status",
    "type",
    "due_date",
    "priority",
    "attempt",
    "outcome",
    "stop_order",
    "eta",
    "plan_id",
    "appointment_start",
    "appointment_end",
    "address",
    "case",
    "previous_outcomes",
    "promise",
}
ADDRESS_FIELDS = {"id", "kind", "text", "lat", "lon", "timezone", "valid"}
CASE_FIELDS = {
    "id",
    "debtor_name",
    "national_id_last4",
    "phones",
    "preferred_phone",
    "amount_owed",
    "currency",
    "days_past_due",
    "stage",
    "status",
    "contact_state",
    "version",
}
PREVIOUS_OUTCOME_FIELDS = {"visit_id", "code", "at"}
PROMISE_FIELDS = {"amount", "currency", "due_date"}
REMOVAL_FIELDS = {"entity", "id", "reason"}


async def _imported_visit(client: httpx.AsyncClient, w: World) -> str:
    """A case imported with a full national id, visited by team a's collector."""
    csv = (
        "source,external_ref,debtor_name,amount_owed,currency,days_past_due,national_id,phones,team,"
        "home_address,home_lat,home_lon\n"
        f"core,min-1,Wang Min,5000.00,CNY,40,{FULL_NATIONAL_ID},+86 139 1111 2222,north,1 Door Street,31.2,121.4\n"
    )
    report = await client.post(
        "/v1/cases/import", content=csv.encode(), headers={**w.admin.headers, "Content-Type": "text/csv"}
    )
    assert report.status_code == 200, report.text
    assert report.json()["created"] == 1, report.text
    cases = (await client.get("/v1/cases", headers=w.admin.headers, params={"team_id": str(w.a.team_id)})).json()
    case_id = next(c["id"] for c in cases if c["debtor_name"] == "Wang Min")
    visit = await client.post(
        "/v1/visits",
        json={"case_id": case_id, "type": "pressure", "assign_to": str(w.a.collector.user_id)},
        headers=w.a.dispatcher.headers,
    )
    assert visit.status_code == 201, visit.text
    return str(visit.json()["id"])


async def _pull_all(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    pages, cursor = [], None
    for _ in range(20):
        params: dict[str, Any] = {"protocol": 1, **({"cursor": cursor} if cursor else {})}
        answer = await client.get("/v1/sync/pull", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        cursor = answer.json()["cursor"]
        if not answer.json()["has_more"]:
            break
    return pages


def _only(record: dict[str, Any], allowed: set[str], what: str) -> None:
    extra = set(record) - allowed
    assert not extra, f"{what} sent to the phone carries fields that stay on the server: {sorted(extra)}"


async def test_pull_carries_only_what_is_needed_at_the_door(client: httpx.AsyncClient, drain_jobs: Any):
    w = await make_world(client, drain_jobs)
    visit_id = await _imported_visit(client, w)
    pages = await _pull_all(client, w.a.collector.headers)

    raw = json.dumps(pages)
    assert FULL_NATIONAL_ID not in raw
    assert FULL_NATIONAL_ID[:-4] not in raw
    visits = {v["id"]: v for page in pages for v in page["visits"]}
    assert visit_id in visits
    assert visits[visit_id]["case"]["national_id_last4"] == FULL_NATIONAL_ID[-4:]
    for page in pages:
        _only(page, PULL_FIELDS, "a pull page")
        for removal in page["removals"]:
            _only(removal, REMOVAL_FIELDS, "a removal")
    for visit in visits.values():
        _only(visit, VISIT_FIELDS, "a visit")
        _only(visit["address"], ADDRESS_FIELDS, "an address")
        _only(visit["case"], CASE_FIELDS, "a case")
        for previous in visit["previous_outcomes"]:
            _only(previous, PREVIOUS_OUTCOME_FIELDS, "a previous outcome")
        if visit["promise"] is not None:
            _only(visit["promise"], PROMISE_FIELDS, "a promise")


async def test_a_phone_never_receives_another_collectors_visits(client: httpx.AsyncClient, drain_jobs: Any):
    w = await make_world(client, drain_jobs)
    await _imported_visit(client, w)
    theirs = json.dumps(await _pull_all(client, w.b.collector.headers))
    for record in (w.a.case_id, w.a.open_visit, w.a.done_visit, "Wang Min", "139 1111 2222"):
        assert str(record) not in theirs
    mine = json.dumps(await _pull_all(client, w.a.collector.headers))
    assert str(w.a.open_visit) in mine
    assert "Wang Min" in mine
