"""A small populated world for whole-API tests (fuzzing, the access matrix): two teams, each with a
collector (enrolled phone), a dispatcher and a supervisor; legal and an admin; visits with outcomes,
an agreement, evidence (an uploaded photo, a pending upload, a signed agreement with its signature),
a conflict, a QC review, a webhook subscription with deliveries, a legal export and a routing plan.

Everything is made through the real services or the API (in-process), so the ids are real rows a
route can find. ``World.ids`` names them by the path/query parameter that takes them.
"""

from __future__ import annotations

import io
import tempfile
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from PIL import Image, ImageDraw

from api.people.roles import Role
from sync.client import DeviceClient, LocalStore
from tests.builders import Actor, make_case, make_collector, make_collector_profile, make_staff, make_team, make_visit
from tests.evidence.helpers import jpeg_bytes, metadata, sha256

TUS = {"Tus-Resumable": "1.0.0"}


@dataclass
class Team:
    """One team's people and data."""

    team_id: UUID
    collector: Actor
    dispatcher: Actor
    supervisor: Actor
    case_id: UUID = field(default=UUID(int=0))
    open_visit: UUID = field(default=UUID(int=0))
    done_visit: UUID = field(default=UUID(int=0))
    agreement_id: UUID = field(default=UUID(int=0))
    photo_id: UUID = field(default=UUID(int=0))
    signature_id: UUID = field(default=UUID(int=0))
    evidence_agreement_id: UUID = field(default=UUID(int=0))
    upload_id: UUID = field(default=UUID(int=0))
    conflict_id: UUID = field(default=UUID(int=0))
    plan_id: UUID = field(default=UUID(int=0))
    review_id: UUID = field(default=UUID(int=0))


@dataclass
class World:
    """Two teams (``a``, ``b``) and the staff outside teams."""

    a: Team
    b: Team
    legal: Actor
    admin: Actor
    spare_user: Actor
    spare_collector: Actor
    spare_token_id: UUID
    subscription_id: UUID
    delivery_ids: list[UUID]
    export_id: UUID
    review_ids: list[UUID]

    def actors(self) -> dict[str, Actor]:
        """The actor of each role the tests speak as (team a's for team roles)."""
        return {
            "collector": self.a.collector,
            "dispatcher": self.a.dispatcher,
            "supervisor": self.a.supervisor,
            "legal": self.legal,
            "admin": self.admin,
        }

    def ids(self) -> dict[str, list[str]]:
        """Real ids by the name of the parameter that takes them (both teams)."""
        teams = (self.a, self.b)

        def each(*names: str) -> list[str]:
            return [str(getattr(t, n)) for t in teams for n in names]

        return {
            "team_id": each("team_id"),
            "user_id": [*(str(t.collector.user_id) for t in teams), str(self.spare_user.user_id)],
            "collector_id": [str(t.collector.user_id) for t in teams],
            "device_id": [str(t.collector.device_id) for t in teams],
            "token_id": [str(self.spare_token_id)],
            "case_id": each("case_id"),
            "visit_id": each("open_visit", "done_visit"),
            "entity_id": each("open_visit", "done_visit"),
            "agreement_id": each("agreement_id", "evidence_agreement_id"),
            "item_id": each("photo_id", "signature_id"),
            "upload_id": each("upload_id"),
            "conflict_id": [str(t.conflict_id) for t in teams if t.conflict_id.int],
            "plan_id": each("plan_id"),
            "ref": each("plan_id"),
            "review_id": [str(r) for r in self.review_ids],
            "subscription_id": [str(self.subscription_id)],
            "delivery_id": [str(d) for d in self.delivery_ids],
            "export_id": [str(self.export_id)],
        }


class _Accept(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def webhook_receiver() -> str:
    """The URL of a loopback receiver that accepts every delivery (it lives as long as the process)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Accept)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/hook"


def signature_png() -> bytes:
    """A small signature: black ink on a transparent background."""
    im = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    ImageDraw.Draw(im).line((20, 80, 150, 20, 280, 80), fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def _ok(answer: httpx.Response, *statuses: int) -> Any:
    assert answer.status_code in (statuses or (200, 201)), answer.text
    return answer.json() if answer.content else None


async def _upload(client: httpx.AsyncClient, team: Team, data: bytes, kind: str, content_type: str) -> UUID:
    item_id = uuid.uuid4()
    body = {"id": str(item_id), "visit_id": str(team.done_visit), "kind": kind, "sha256": sha256(data)}
    _ok(await client.post("/v1/evidence/items", json=body, headers=team.collector.headers))
    headers = {
        **team.collector.headers,
        **TUS,
        "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata(item_id, sha256(data), kind, content_type),
    }
    created = await client.post("/v1/uploads", headers=headers)
    assert created.status_code == 201, created.text
    if created.headers.get("upload-offset") == str(len(data)):
        return item_id  # the server already held these bytes
    patch = {**team.collector.headers, **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    done = await client.patch(created.headers["location"], headers=patch, content=data)
    assert done.status_code == 204, done.text
    return item_id


async def _pending_upload(client: httpx.AsyncClient, team: Team, seed: int) -> UUID:
    data = jpeg_bytes(32 + seed, 24)
    item_id = uuid.uuid4()
    body = {"id": str(item_id), "visit_id": str(team.done_visit), "kind": "photo", "sha256": sha256(data)}
    _ok(await client.post("/v1/evidence/items", json=body, headers=team.collector.headers))
    headers = {
        **team.collector.headers,
        **TUS,
        "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata(item_id, sha256(data), "photo", "image/jpeg"),
    }
    created = await client.post("/v1/uploads", headers=headers)
    assert created.status_code == 201, created.text
    return UUID(created.headers["location"].rstrip("/").rsplit("/", 1)[1])


async def _conflict(app_client: httpx.AsyncClient, team: Team, store_dir: Path) -> UUID:
    """The collector works a visit offline while the dispatcher cancels it: the pushed outcome is
    held as a conflict."""
    case_id, address_id = await make_case(team.team_id)
    visit = await make_visit(case_id, address_id, team.team_id, assigned_to=team.collector.user_id)
    transport = app_client._transport
    http = httpx.AsyncClient(transport=transport, base_url=str(app_client.base_url))
    phone = DeviceClient(
        str(app_client.base_url),
        team.collector.token,
        LocalStore(store_dir / f"{team.collector.username}.sqlite3"),
        http=http,
        backoff_s=0.01,
    )
    try:
        await phone.pull()
        cancel = {"actions": [{"visit_id": str(visit), "action": "cancel", "reason": "paid by bank"}]}
        _ok(await app_client.post("/v1/visits/dispatch", json=cancel, headers=team.dispatcher.headers))
        phone.enqueue("visit.record_outcome", visit, {"code": "NOH"})
        (held,) = await phone.push()
        assert held["status"] == "conflict", held
        return UUID(held["conflict_id"])
    finally:
        await http.aclose()
        phone.store.close()


def _agreement(amount: str) -> dict[str, Any]:
    due = (date.today() + timedelta(days=30)).isoformat()
    return {
        "code": "AGR",
        "amount": amount,
        "currency": "CNY",
        "payment_method": "bank transfer",
        "instalments": [{"due_date": due, "amount": amount}],
    }


async def _team(client: httpx.AsyncClient, name: str, store_dir: Path) -> Team:
    team_id = await make_team(name)
    team = Team(
        team_id=team_id,
        collector=await make_collector(team_id),
        dispatcher=await make_staff(Role.DISPATCHER, team_id),
        supervisor=await make_staff(Role.SUPERVISOR, team_id),
    )
    await make_collector_profile(team.collector.user_id)
    team.case_id, address_id = await make_case(team_id, amount_owed="900000.00")
    team.open_visit = await make_visit(team.case_id, address_id, team_id, assigned_to=team.collector.user_id)
    team.done_visit = await make_visit(team.case_id, address_id, team_id, assigned_to=team.collector.user_id)
    recorded = await client.post(
        f"/v1/visits/{team.done_visit}/outcome",
        json={"outcome": _agreement("200000.00")},
        headers=team.collector.headers,
    )
    team.agreement_id = UUID(_ok(recorded)["agreement_id"])
    team.photo_id = await _upload(client, team, jpeg_bytes(64 + len(name), 48), "photo", "image/jpeg")
    team.signature_id = await _upload(client, team, signature_png(), "signature", "image/png")
    team.evidence_agreement_id = uuid.uuid4()
    terms = {
        "amount": "3000.00",
        "currency": "CNY",
        "instalments": [{"due_date": (date.today() + timedelta(days=20)).isoformat(), "amount": "3000.00"}],
        "payment_method": "bank transfer",
        "parties": {"creditor": "bank", "debtor_name": "debtor", "collector_name": "collector", "debtor_id_last4": "1"},
        "place": "at the door",
        "signed_at": datetime.now(UTC).isoformat(),
    }
    body = {
        "id": str(team.evidence_agreement_id),
        "visit_id": str(team.done_visit),
        "terms": terms,
        "signature_evidence_id": str(team.signature_id),
    }
    _ok(await client.post("/v1/evidence/agreements", json=body, headers=team.collector.headers))
    team.upload_id = await _pending_upload(client, team, len(name))
    team.conflict_id = await _conflict(client, team, store_dir)
    plan = {"day": (date.today() + timedelta(days=1)).isoformat()}
    team.plan_id = UUID(
        _ok(await client.post("/v1/routing/plans", json=plan, headers=team.dispatcher.headers), 202)["id"]
    )
    return team


async def make_world(client: httpx.AsyncClient, drain_jobs: Callable[[], Awaitable[None]]) -> World:
    """Seed the world through the services and the in-process API, then run the jobs it deferred
    (processing, rendering, the plans, the export, webhook deliveries)."""
    store_dir = Path(tempfile.mkdtemp(prefix="fieldvisit-world-"))
    admin = await make_staff(Role.ADMIN)
    legal = await make_staff(Role.LEGAL)
    subscription = _ok(await client.post("/v1/webhooks", json={"url": webhook_receiver()}, headers=admin.headers))
    a = await _team(client, "north", store_dir)
    b = await _team(client, "south", store_dir)
    spare = await make_staff(Role.DISPATCHER, b.team_id)
    spare_collector = await make_collector(a.team_id)
    tokens = _ok(await client.get(f"/v1/users/{spare.user_id}/tokens", headers=admin.headers), 200)
    export = _ok(await client.post("/v1/legal/exports", json={"case_id": str(a.case_id)}, headers=legal.headers), 202)
    month = date.today().strftime("%Y-%m")
    _ok(await client.post("/v1/qc/samples", json={"month": month}, headers=admin.headers), 200)
    reviews = _ok(await client.get("/v1/qc/reviews", params={"month": month}, headers=admin.headers), 200)
    for team in (a, b):
        team.review_id = next(UUID(r["id"]) for r in reviews if r["collector_id"] == str(team.collector.user_id))
    await drain_jobs()
    await drain_jobs()  # jobs deferred by jobs: the agreement document after its signature
    subscription_id = subscription["subscription"]["id"]
    deliveries = _ok(await client.get(f"/v1/webhooks/{subscription_id}/deliveries", headers=admin.headers), 200)
    return World(
        a=a,
        b=b,
        legal=legal,
        admin=admin,
        spare_user=spare,
        spare_collector=spare_collector,
        spare_token_id=UUID(tokens[0]["id"]),
        subscription_id=UUID(subscription_id),
        delivery_ids=[UUID(d["id"]) for d in deliveries],
        export_id=UUID(export["id"]),
        review_ids=[UUID(r["id"]) for r in reviews],
    )
