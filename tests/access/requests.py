"""One concrete request per route of the app, aimed at team a's data in the world.

Bodies are valid, so an allowed caller meets the route's business rules (2xx, 409, 422) and never a
400 that would hide an ownership check made after validation. Destructive routes aim at spare
records (a spare collector's phone, a spare user and token), so they never lock out the callers.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.world import World

TUS = {"Tus-Resumable": "1.0.0"}


@dataclass(frozen=True)
class Call:
    """How to call one route: the path, and optionally a JSON body, raw content and headers."""

    path: str
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _tus_metadata(item_id: uuid.UUID, digest: str) -> str:
    values = {"evidence_id": str(item_id), "sha256": digest, "kind": "photo", "content_type": "image/jpeg"}
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def _terms() -> dict[str, Any]:
    return {
        "amount": "500.00",
        "currency": "CNY",
        "instalments": [{"due_date": (date.today() + timedelta(days=10)).isoformat(), "amount": "500.00"}],
        "payment_method": "bank transfer",
        "parties": {"creditor": "bank", "debtor_name": "debtor", "collector_name": "c", "debtor_id_last4": "1"},
        "place": "door",
        "signed_at": datetime.now(UTC).isoformat(),
    }


def calls(w: World) -> dict[str, Callable[[], Call]]:
    """Route key (``METHOD /path/{param:type}``) -> a fresh request on team a's data."""
    a = w.a
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    digest = "ab" * 32

    def fresh(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:8]}"

    return {
        "GET /health": lambda: Call("/health"),
        "GET /schema": lambda: Call("/schema"),
        "GET /schema/openapi.json": lambda: Call("/schema/openapi.json"),
        "GET /schema/scalar": lambda: Call("/schema/scalar"),
        "GET /schema/{path:str}": lambda: Call("/schema/openapi.json"),
        "GET /v1/teams": lambda: Call("/v1/teams"),
        "POST /v1/teams": lambda: Call("/v1/teams", {"name": fresh("team")}),
        "GET /v1/users": lambda: Call("/v1/users"),
        "POST /v1/users": lambda: Call("/v1/users", {"username": fresh("user"), "role": "legal"}),
        "GET /v1/users/me": lambda: Call("/v1/users/me"),
        "GET /v1/users/{user_id:uuid}": lambda: Call(f"/v1/users/{a.collector.user_id}"),
        "PATCH /v1/users/{user_id:uuid}": lambda: Call(f"/v1/users/{w.spare_user.user_id}", {"display_name": "x"}),
        "GET /v1/users/{user_id:uuid}/tokens": lambda: Call(f"/v1/users/{w.spare_user.user_id}/tokens"),
        "POST /v1/users/{user_id:uuid}/tokens": lambda: Call(f"/v1/users/{w.spare_user.user_id}/tokens", {}),
        "POST /v1/tokens/{token_id:uuid}/revoke": lambda: Call(f"/v1/tokens/{w.spare_token_id}/revoke"),
        "POST /v1/devices/enrol": lambda: Call("/v1/devices/enrol", {"code": "not-a-code"}),
        "GET /v1/devices": lambda: Call("/v1/devices"),
        "GET /v1/devices/{device_id:uuid}": lambda: Call(f"/v1/devices/{a.collector.device_id}"),
        "POST /v1/devices/enrolment-codes": lambda: Call(
            "/v1/devices/enrolment-codes", {"collector_id": str(w.spare_collector.user_id)}
        ),
        "POST /v1/devices/{device_id:uuid}/revoke": lambda: Call(f"/v1/devices/{w.spare_collector.device_id}/revoke"),
        "GET /v1/cases": lambda: Call("/v1/cases"),
        "GET /v1/cases/events": lambda: Call("/v1/cases/events"),
        "GET /v1/cases/{case_id:uuid}": lambda: Call(f"/v1/cases/{a.case_id}"),
        "POST /v1/cases/import": lambda: Call(
            "/v1/cases/import", content=b"external_ref\n", headers={"Content-Type": "text/csv"}
        ),
        "POST /v1/cases/{case_id:uuid}/confirmations": lambda: Call(
            f"/v1/cases/{a.case_id}/confirmations", {"decision": "confirm"}
        ),
        "GET /v1/visits": lambda: Call("/v1/visits"),
        "POST /v1/visits": lambda: Call("/v1/visits", {"case_id": str(a.case_id), "type": "tracing"}),
        "GET /v1/visits/{visit_id:uuid}": lambda: Call(f"/v1/visits/{a.open_visit}"),
        "POST /v1/visits/dispatch": lambda: Call(
            "/v1/visits/dispatch",
            {
                "actions": [
                    {"visit_id": str(a.open_visit), "action": "assign", "collector_id": str(a.collector.user_id)}
                ]
            },
        ),
        "POST /v1/visits/{visit_id:uuid}/outcome": lambda: Call(
            f"/v1/visits/{a.open_visit}/outcome", {"outcome": {"code": "NOH"}}
        ),
        "GET /v1/visits/{visit_id:uuid}/evidence": lambda: Call(f"/v1/visits/{a.done_visit}/evidence"),
        "GET /v1/agreements": lambda: Call("/v1/agreements"),
        "GET /v1/agreements/{agreement_id:uuid}": lambda: Call(f"/v1/agreements/{a.agreement_id}"),
        "POST /v1/agreements/{agreement_id:uuid}/approve": lambda: Call(f"/v1/agreements/{a.agreement_id}/approve", {}),
        "POST /v1/agreements/{agreement_id:uuid}/reject": lambda: Call(f"/v1/agreements/{a.agreement_id}/reject", {}),
        "GET /v1/qc/reviews": lambda: Call("/v1/qc/reviews"),
        "POST /v1/qc/samples": lambda: Call("/v1/qc/samples", {"month": date.today().strftime("%Y-%m")}),
        "POST /v1/qc/reviews/{review_id:uuid}": lambda: Call(f"/v1/qc/reviews/{a.review_id}", {"state": "approved"}),
        "GET /v1/webhooks": lambda: Call("/v1/webhooks"),
        "POST /v1/webhooks": lambda: Call("/v1/webhooks", {"url": "http://127.0.0.1:9/hook"}),
        "POST /v1/webhooks/{subscription_id:uuid}/deactivate": lambda: Call(
            f"/v1/webhooks/{w.subscription_id}/deactivate"
        ),
        "GET /v1/webhooks/{subscription_id:uuid}/deliveries": lambda: Call(
            f"/v1/webhooks/{w.subscription_id}/deliveries"
        ),
        "POST /v1/webhooks/deliveries/{delivery_id:uuid}/replay": lambda: Call(
            f"/v1/webhooks/deliveries/{w.delivery_ids[0]}/replay"
        ),
        "GET /v1/sync/pull": lambda: Call("/v1/sync/pull?protocol=1"),
        "POST /v1/sync/push": lambda: Call(
            "/v1/sync/push",
            {
                "protocol": 1,
                "mutations": [
                    {
                        "id": str(uuid.uuid4()),
                        "seq": 1,
                        "type": "visit.add_note",
                        "device_time": datetime.now(UTC).isoformat(),
                        "target": str(a.open_visit),
                        "payload": {"text": "note"},
                    }
                ],
            },
        ),
        "GET /v1/sync/conflicts": lambda: Call("/v1/sync/conflicts"),
        "GET /v1/sync/conflicts/{conflict_id:uuid}": lambda: Call(f"/v1/sync/conflicts/{a.conflict_id}"),
        "POST /v1/sync/conflicts/{conflict_id:uuid}/resolve": lambda: Call(
            f"/v1/sync/conflicts/{a.conflict_id}/resolve", {"resolution": "keep_server"}
        ),
        "GET /v1/sync/devices": lambda: Call("/v1/sync/devices"),
        "OPTIONS /v1/uploads": lambda: Call("/v1/uploads"),
        "POST /v1/uploads": lambda: Call(
            "/v1/uploads",
            headers={**TUS, "Upload-Length": "10", "Upload-Metadata": _tus_metadata(a.photo_id, digest)},
        ),
        "HEAD /v1/uploads/{upload_id:uuid}": lambda: Call(f"/v1/uploads/{a.upload_id}", headers=TUS),
        "PATCH /v1/uploads/{upload_id:uuid}": lambda: Call(
            f"/v1/uploads/{a.upload_id}",
            content=b"x",
            headers={**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
        ),
        "DELETE /v1/uploads/{upload_id:uuid}": lambda: Call(f"/v1/uploads/{a.upload_id}", headers=TUS),
        "POST /v1/evidence/items": lambda: Call(
            "/v1/evidence/items",
            {"id": str(uuid.uuid4()), "visit_id": str(a.done_visit), "kind": "photo", "sha256": digest},
        ),
        "GET /v1/evidence/items/{item_id:uuid}": lambda: Call(f"/v1/evidence/items/{a.photo_id}"),
        "GET /v1/evidence/items/{item_id:uuid}/original": lambda: Call(f"/v1/evidence/items/{a.photo_id}/original"),
        "GET /v1/evidence/items/{item_id:uuid}/thumbnail": lambda: Call(f"/v1/evidence/items/{a.photo_id}/thumbnail"),
        "GET /v1/evidence/items/{item_id:uuid}/custody": lambda: Call(f"/v1/evidence/items/{a.photo_id}/custody"),
        "GET /v1/evidence/items/{item_id:uuid}/custody/verification": lambda: Call(
            f"/v1/evidence/items/{a.photo_id}/custody/verification"
        ),
        "POST /v1/evidence/agreements": lambda: Call(
            "/v1/evidence/agreements",
            {
                "id": str(uuid.uuid4()),
                "visit_id": str(a.done_visit),
                "terms": _terms(),
                "signature_evidence_id": str(a.signature_id),
            },
        ),
        "GET /v1/evidence/agreements/{agreement_id:uuid}": lambda: Call(
            f"/v1/evidence/agreements/{a.evidence_agreement_id}"
        ),
        "GET /v1/evidence/agreements/{agreement_id:uuid}/document": lambda: Call(
            f"/v1/evidence/agreements/{a.evidence_agreement_id}/document"
        ),
        "POST /v1/legal/exports": lambda: Call("/v1/legal/exports", {"case_id": str(a.case_id)}),
        "GET /v1/legal/exports/{export_id:uuid}": lambda: Call(f"/v1/legal/exports/{w.export_id}"),
        "GET /v1/legal/exports/{export_id:uuid}/download": lambda: Call(f"/v1/legal/exports/{w.export_id}/download"),
        "GET /v1/routing/plans": lambda: Call(f"/v1/routing/plans?team_id={a.team_id}"),
        "POST /v1/routing/plans": lambda: Call("/v1/routing/plans", {"day": tomorrow, "team_id": str(a.team_id)}),
        "GET /v1/routing/plans/{ref:str}": lambda: Call(f"/v1/routing/plans/{a.plan_id}"),
        "POST /v1/routing/plans/{plan_id:uuid}/publish": lambda: Call(f"/v1/routing/plans/{a.plan_id}/publish"),
        "POST /v1/routing/plans/{plan_id:uuid}/replan": lambda: Call(
            f"/v1/routing/plans/{a.plan_id}/replan", {"collector_id": str(a.collector.user_id)}
        ),
        "GET /v1/routing/collectors/{user_id:uuid}": lambda: Call(f"/v1/routing/collectors/{a.collector.user_id}"),
        "PUT /v1/routing/collectors/{user_id:uuid}": lambda: Call(
            f"/v1/routing/collectors/{a.collector.user_id}",
            {"home_lat": 31.23, "home_lon": 121.47, "timezone": "Asia/Shanghai"},
        ),
    }
