"""The access matrix: every route of the app, called as each role and as the owner / a non-owner of
the data (team a's records; the ``_other`` callers belong to team b), against an explicit table of
who is allowed. A route missing from the table fails the test, so a new route needs an entry.

Allowed means the request got past authorisation: a 2xx, or the route's own business answer (409,
422, a 400 of a business rule, 403.36 above one's approval tier). Denied means a coded 401, a 403
saying the role or the record is not the caller's (403.1, 403.2, 403.35), or a 404 hiding a record
that exists. Batch routes (dispatch, sync push) answer per item: their item's error counts.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.access.requests import calls
from tests.world import World, make_world

pytestmark = pytest.mark.embedded

CALLERS = (
    "anon",
    "collector_other",
    "dispatcher_other",
    "supervisor_other",
    "legal",
    "collector",
    "dispatcher",
    "supervisor",
    "admin",
)
PUBLIC = frozenset(CALLERS)
ADMIN = frozenset({"admin"})
LEGAL = frozenset({"legal", "admin"})
OWNER = frozenset({"collector"})
MANAGERS = frozenset({"dispatcher", "supervisor", "admin"})  # of team a's data
READERS = MANAGERS | {"legal"}
ANY_TEAM_MANAGERS = MANAGERS | {"dispatcher_other", "supervisor_other"}  # lists, scoped to one's team
ANY_TEAM_READERS = ANY_TEAM_MANAGERS | {"legal"}
SUPERVISORS = frozenset({"supervisor", "admin"})

EXPECTED: dict[str, frozenset[str]] = {
    "GET /health": PUBLIC,
    "GET /schema": PUBLIC,
    "GET /schema/openapi.json": PUBLIC,
    "GET /schema/scalar": PUBLIC,
    "GET /schema/{path:str}": PUBLIC,
    "POST /v1/devices/enrol": PUBLIC,  # the code is the credential
    "OPTIONS /v1/uploads": PUBLIC,  # tus discovery
    "GET /v1/users/me": PUBLIC - {"anon"},
    # people
    "GET /v1/teams": ANY_TEAM_READERS,
    "POST /v1/teams": ADMIN,
    "GET /v1/users": ANY_TEAM_MANAGERS,
    "POST /v1/users": ADMIN,
    "GET /v1/users/{user_id:uuid}": MANAGERS,
    "PATCH /v1/users/{user_id:uuid}": ADMIN,
    "GET /v1/users/{user_id:uuid}/tokens": ADMIN,
    "POST /v1/users/{user_id:uuid}/tokens": ADMIN,
    "POST /v1/tokens/{token_id:uuid}/revoke": ADMIN,
    "GET /v1/devices": ANY_TEAM_MANAGERS,
    "GET /v1/devices/{device_id:uuid}": MANAGERS,
    "POST /v1/devices/enrolment-codes": MANAGERS,
    "POST /v1/devices/{device_id:uuid}/revoke": MANAGERS,
    # cases and visits
    "GET /v1/cases": ANY_TEAM_READERS,
    "GET /v1/cases/{case_id:uuid}": READERS,
    "GET /v1/cases/events": frozenset({"supervisor", "supervisor_other", "admin"}),  # the upstream feed
    "POST /v1/cases/import": frozenset({"supervisor", "supervisor_other", "admin"}),  # upstream cases
    "POST /v1/cases/{case_id:uuid}/confirmations": SUPERVISORS,
    "GET /v1/visits": ANY_TEAM_READERS,
    "POST /v1/visits": MANAGERS,
    "GET /v1/visits/{visit_id:uuid}": READERS | OWNER,
    "POST /v1/visits/dispatch": MANAGERS,
    "POST /v1/visits/{visit_id:uuid}/outcome": MANAGERS | OWNER,
    # outcomes, QC, webhooks
    "GET /v1/agreements": ANY_TEAM_READERS,
    "GET /v1/agreements/{agreement_id:uuid}": READERS,
    "POST /v1/agreements/{agreement_id:uuid}/approve": SUPERVISORS,
    "POST /v1/agreements/{agreement_id:uuid}/reject": SUPERVISORS,
    "GET /v1/qc/reviews": ANY_TEAM_MANAGERS,
    "POST /v1/qc/samples": frozenset({"supervisor", "supervisor_other", "admin"}),  # every team's month
    "POST /v1/qc/reviews/{review_id:uuid}": SUPERVISORS,
    "GET /v1/webhooks": ADMIN,
    "POST /v1/webhooks": ADMIN,
    "POST /v1/webhooks/{subscription_id:uuid}/deactivate": ADMIN,
    "GET /v1/webhooks/{subscription_id:uuid}/deliveries": ADMIN,
    "POST /v1/webhooks/deliveries/{delivery_id:uuid}/replay": ADMIN,
    # sync: a phone reads its own scope; a push on another's visit is refused per mutation
    "GET /v1/sync/pull": frozenset({"collector", "collector_other"}),
    "POST /v1/sync/push": OWNER,
    "GET /v1/sync/conflicts": ANY_TEAM_MANAGERS,
    "GET /v1/sync/conflicts/{conflict_id:uuid}": MANAGERS,
    "POST /v1/sync/conflicts/{conflict_id:uuid}/resolve": MANAGERS,
    "GET /v1/sync/devices": ANY_TEAM_MANAGERS,
    # evidence
    "POST /v1/uploads": OWNER,
    "HEAD /v1/uploads/{upload_id:uuid}": OWNER,
    "PATCH /v1/uploads/{upload_id:uuid}": OWNER,
    "DELETE /v1/uploads/{upload_id:uuid}": OWNER,
    "POST /v1/evidence/items": OWNER,
    "GET /v1/evidence/items/{item_id:uuid}": READERS | OWNER,
    "GET /v1/visits/{visit_id:uuid}/evidence": READERS | OWNER,
    "GET /v1/evidence/items/{item_id:uuid}/thumbnail": READERS | OWNER,
    "GET /v1/evidence/items/{item_id:uuid}/original": LEGAL,
    "GET /v1/evidence/items/{item_id:uuid}/custody": LEGAL,
    "GET /v1/evidence/items/{item_id:uuid}/custody/verification": LEGAL,
    "POST /v1/evidence/agreements": OWNER,
    "GET /v1/evidence/agreements/{agreement_id:uuid}": READERS | OWNER,
    "GET /v1/evidence/agreements/{agreement_id:uuid}/document": LEGAL | {"supervisor"},
    "POST /v1/legal/exports": LEGAL,
    "GET /v1/legal/exports/{export_id:uuid}": LEGAL,
    "GET /v1/legal/exports/{export_id:uuid}/download": LEGAL,
    # routing
    "GET /v1/routing/plans": MANAGERS,
    "POST /v1/routing/plans": MANAGERS,
    "GET /v1/routing/plans/{ref:str}": MANAGERS,
    "POST /v1/routing/plans/{plan_id:uuid}/publish": MANAGERS,
    "POST /v1/routing/plans/{plan_id:uuid}/replan": MANAGERS,
    "GET /v1/routing/collectors/{user_id:uuid}": MANAGERS,
    "PUT /v1/routing/collectors/{user_id:uuid}": MANAGERS,
}

DENY_CODES = frozenset({"403.1", "403.2", "403.35"})
BUSINESS_403 = frozenset({"403.36"})  # above one's approval tier: authorised, refused by the rule
# Routes whose 404 is their answer, not a hidden record (an enrolment code that does not exist).
NOT_FOUND_IS_AN_ANSWER = frozenset({"POST /v1/devices/enrol"})


def route_keys(app: Litestar) -> list[str]:
    """``METHOD path`` of every route handler of the app (Litestar's own OPTIONS handlers and test
    probes aside), terminations last so they do not remove what the other calls use."""
    keys = [
        f"{method} {route.path}"
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        for method in handler.http_methods
        if handler.handler_name != "options_handler" and not route.path.startswith("/probe")
    ]
    return sorted(keys, key=lambda key: key.startswith("DELETE"))


def _code(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("results"), list) and body["results"]:
        item = body["results"][0]
        error = item.get("error") or {}
        return str(error.get("code", ""))
    return str(body.get("code", "")) if isinstance(body, dict) else ""


def verdict(key: str, answer: httpx.Response) -> str:
    """``allow`` or ``deny`` (see the module docstring)."""
    code = _code(answer)
    if (answer.status_code in (401, 403) and code not in BUSINESS_403) or code in DENY_CODES:
        return "deny"
    if answer.status_code == 404 and key not in NOT_FOUND_IS_AN_ANSWER:
        return "deny"
    return "allow"


def headers_of(w: World) -> dict[str, dict[str, str]]:
    return {
        "anon": {},
        "collector": w.a.collector.headers,
        "collector_other": w.b.collector.headers,
        "dispatcher": w.a.dispatcher.headers,
        "dispatcher_other": w.b.dispatcher.headers,
        "supervisor": w.a.supervisor.headers,
        "supervisor_other": w.b.supervisor.headers,
        "legal": w.legal.headers,
        "admin": w.admin.headers,
    }


def team_a_ids(w: World) -> list[str]:
    """Ids of team a's records that team b must never see in a listing."""
    a = w.a
    records = [a.case_id, a.open_visit, a.done_visit, a.collector.user_id, a.collector.device_id]
    records += [a.agreement_id, a.conflict_id, a.plan_id, a.photo_id, a.review_id]
    return [str(x) for x in records]


async def test_every_route_allows_exactly_its_table(app: Litestar, client: httpx.AsyncClient, drain_jobs: Any):
    keys = route_keys(app)
    assert sorted(set(keys) - set(EXPECTED)) == [], "routes without an entry in the access matrix"
    assert sorted(set(EXPECTED) - set(keys)) == [], "entries for routes that no longer exist"

    w = await make_world(client, drain_jobs)
    requests, headers, hidden = calls(w), headers_of(w), team_a_ids(w)
    assert set(requests) == set(EXPECTED)
    wrong: list[str] = []
    for key in keys:
        method = key.split(" ", 1)[0]
        for caller in CALLERS:
            call = requests[key]()
            answer = await client.request(
                method, call.path, json=call.json, content=call.content, headers={**headers[caller], **call.headers}
            )
            assert answer.status_code < 500, (key, caller, answer.text)
            expected = "allow" if caller in EXPECTED[key] else "deny"
            got = verdict(key, answer)
            if got != expected:
                wrong.append(f"{key} as {caller}: expected {expected}, got {answer.status_code} {answer.text[:200]}")
            if got == "deny" and answer.status_code != 404 and method != "HEAD":
                assert _code(answer), (key, caller, answer.text)  # every refusal is coded
            if caller.endswith("_other") and method == "GET" and answer.status_code == 200:
                leaked = [i for i in hidden if i in answer.text]
                if leaked and key not in ("GET /v1/teams",):
                    wrong.append(f"{key} as {caller}: shows team a's records {leaked}")
    assert not wrong, "\n".join(wrong)
    print(f"access matrix: {len(keys)} routes x {len(CALLERS)} callers")


async def test_options_answers_every_path_without_credentials(app: Litestar, client: httpx.AsyncClient):
    """OPTIONS (CORS preflight, tus discovery) on every path: a 204 naming the allowed methods,
    with or without a token; guards declared on a controller used to fail it with a 500."""
    for route in app.routes:
        if route.path.startswith("/probe"):
            continue
        path = re.sub(r"\{(\w+):(\w+)\}", "00000000-0000-0000-0000-000000000001", route.path)
        answer = await client.options(path)
        assert answer.status_code == 204, (route.path, answer.status_code, answer.text)
