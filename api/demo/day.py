"""``fieldvisit demo``: a day in the field, end to end, through the real HTTP doors.

Seeds the synthetic city, plans and publishes one team's routes, enrols phones (reference device
clients with their own local stores), and drives a day: phones work offline (check-ins, one far from
the door and one after hours, notes, photos and recordings uploaded through tus with interruptions,
outcomes, agreements within and above the collector's authority), a dispatcher reassigns a visit of a
phone that is offline, one phone stays offline for two days, one device is revoked. Then everything
syncs, the evidence is processed, a supervisor approves the big agreement, and legal exports and
verifies one case's bundle.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from api.demo import media
from api.demo.city import build_city
from api.demo.seed import SeedSummary, seed
from evidence.bundle_verify import verify_bundle
from sync.client import DeviceClient, LocalStore, PushFailed
from sync.client.uploads import upload

Progress = Callable[[str, int, int], None]
Drain = Callable[[], Awaitable[None]]
HttpFactory = Callable[[], httpx.AsyncClient]
TEAM = "team-west"
PHONES = 7


@dataclass
class Phone:
    """A collector's enrolled phone in the demo."""

    username: str
    user_id: str
    client: DeviceClient
    http: httpx.AsyncClient
    offline_days: int = 0
    revoked: bool = False
    push_refused: str = ""
    uploads: list[Upload] = field(default_factory=list)


@dataclass(frozen=True)
class Upload:
    """Bytes a phone captured, to send through tus once it is online."""

    evidence_id: str
    kind: str
    content_type: str
    data: bytes
    interrupted: bool


@dataclass
class DayLog:
    """What happened, for the summary."""

    seed: SeedSummary | None = None
    plan: dict[str, Any] = field(default_factory=dict)
    uploads: int = 0
    resumed_uploads: int = 0
    upload_bytes: int = 0
    results: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    bundle: Path | None = None
    bundle_ok: bool = False
    approved_agreement: str = ""


async def _ok(answer: httpx.Response, what: str) -> dict[str, Any]:
    if answer.status_code >= 400:
        raise RuntimeError(f"{what}: {answer.status_code} {answer.text[:300]}")
    body: dict[str, Any] = answer.json() if answer.content else {}
    return body


async def plan_routes(http: httpx.AsyncClient, headers: dict[str, str], drain: Drain, log: DayLog) -> None:
    """The dispatcher plans today's routes for the team and publishes them to the phones."""
    summary = await _ok(
        await http.post("/v1/routing/plans", json={"day": date.today().isoformat()}, headers=headers), "plan request"
    )
    await drain()
    plan = await _ok(await http.get(f"/v1/routing/plans/{summary['id']}", headers=headers), "plan")
    published = await _ok(await http.post(f"/v1/routing/plans/{summary['id']}/publish", headers=headers), "publish")
    log.plan = {
        "id": summary["id"],
        "status": plan.get("summary", plan).get("status", ""),
        "placed": len(published.get("visits", [])),
    }


async def enrol_phones(
    http: httpx.AsyncClient, headers: dict[str, str], summary: SeedSummary, make_http: HttpFactory, folder: Path
) -> list[Phone]:
    """Enrolment codes for the team's collectors; each phone redeems its code and keeps its own store."""
    phones = []
    names = sorted(u for u in summary.collectors if u.startswith("collector-1-"))[:PHONES]
    for username in names:
        user_id = str(summary.collectors[username])
        code = await _ok(
            await http.post("/v1/devices/enrolment-codes", json={"collector_id": user_id}, headers=headers),
            "enrolment code",
        )
        enrolled = await _ok(
            await http.post(
                "/v1/devices/enrol",
                json={"code": code["code"], "label": username, "platform": "demo", "app_version": "1.0"},
            ),
            "enrol",
        )
        phone_http = make_http()
        client = DeviceClient(
            "http://fieldvisit.demo",
            enrolled["token"],
            LocalStore(folder / f"{username}.sqlite3"),
            http=phone_http,
            backoff_s=0.05,
        )
        phones.append(Phone(username, user_id, client, phone_http))
    return phones


def _stops(phone: Phone) -> list[dict[str, Any]]:
    visits = [v for v in phone.client.store.visits().values() if v["status"] in ("assigned", "requested")]
    return sorted(visits, key=lambda v: (v["stop_order"] is None, v["stop_order"] or 0, v["id"]))[:5]


def _at_the_door(visit: dict[str, Any], metres_north: float = 15.0) -> dict[str, Any]:
    lat, lon = visit["address"]["lat"], visit["address"]["lon"]
    return {"lat": lat + metres_north / 111_320, "lon": lon, "accuracy_m": 9.0, "mock": False}


async def _evidence(
    phone: Phone,
    visit: dict[str, Any],
    rng: random.Random,
    when: datetime,
    log: DayLog,
    kind: str,
    data: bytes,
    content_type: str,
    consent: bool | None = None,
) -> str:
    evidence_id = str(uuid.uuid4())
    declaration = {
        "id": evidence_id,
        "visit_id": visit["id"],
        "kind": kind,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "content_type": content_type,
        "captured_at": when.isoformat(),
        "filename": f"{kind}-{evidence_id[:8]}",
    }
    if consent is not None:
        declaration["consent"] = consent
    phone.client.enqueue("evidence.declare", visit["id"], declaration, device_time=when)
    phone.uploads.append(Upload(evidence_id, kind, content_type, data, interrupted=rng.random() < 0.5))
    return evidence_id


OUTCOMES = ["PTP", "NOH", "REF", "NFD", "PAID", "NOH", "PTP"]


def _outcome(code: str, visit: dict[str, Any], when: datetime) -> dict[str, Any]:
    case = visit["case"]
    if code == "PTP":
        return {
            "code": "PTP",
            "promised_date": (when + timedelta(days=7)).date().isoformat(),
            "amount": str(min(float(case["amount_owed"]), 2000.0)),
            "currency": case["currency"],
        }
    if code == "PAID":
        return {"code": "PAID", "amount": "100.00", "currency": case["currency"], "receipt_number": "R-DEMO"}
    if code == "NFD":
        return {"code": "NFD", "third_party_met": True, "nothing_disclosed": True}
    return {"code": code}


async def work_offline(phone: Phone, index: int, rng: random.Random, log: DayLog) -> None:
    """One phone's day at the doors, queued offline."""
    start = datetime.now(UTC).replace(hour=1, minute=30, second=0, microsecond=0) - timedelta(days=phone.offline_days)
    for n, visit in enumerate(_stops(phone)):
        when = start + timedelta(minutes=50 * n)
        if index == 2 and n == 0:
            when = when.replace(hour=14, minute=40)  # 22:40 in Shanghai: outside the legal window
        far = index == 1 and n == 0  # a check-in 1.2 km from the address
        phone.client.enqueue(
            "visit.check_in",
            visit["id"],
            {},
            base_version=visit["version"],
            location=_at_the_door(visit, 1200.0 if far else 15.0),
            device_time=when,
        )
        phone.client.enqueue(
            "visit.add_note",
            visit["id"],
            {"text": "explained the debt; showed the statement"},
            device_time=when + timedelta(minutes=5),
        )
        await _evidence(
            phone,
            visit,
            rng,
            when,
            log,
            "photo",
            media.photo(rng, when, visit["address"]["lat"], visit["address"]["lon"]),
            "image/jpeg",
        )
        if n % 2 == 0:
            await _evidence(
                phone,
                visit,
                rng,
                when,
                log,
                "recording",
                media.recording(rng),
                "audio/wav",
                consent=not (index == 3 and n == 0),
            )
        if index == 0 and n == 1:
            await _agreement(phone, visit, rng, when, log, "60000.00")  # within the collector's authority
        elif index == 4 and n == 1:
            await _agreement(phone, visit, rng, when, log, "300000.00")  # needs a supervisor
        else:
            phone.client.enqueue(
                "visit.record_outcome",
                visit["id"],
                _outcome(OUTCOMES[(index + n) % 7], visit, when),
                base_version=visit["version"],
                device_time=when + timedelta(minutes=20),
            )
        phone.client.enqueue("visit.check_out", visit["id"], {}, device_time=when + timedelta(minutes=25))


async def _agreement(
    phone: Phone, visit: dict[str, Any], rng: random.Random, when: datetime, log: DayLog, amount: str
) -> None:
    signature = await _evidence(phone, visit, rng, when, log, "signature", media.signature(rng), "image/png")
    half = f"{float(amount) / 2:.2f}"
    phone.client.enqueue(
        "visit.sign_agreement",
        visit["id"],
        {
            "amount": amount,
            "currency": visit["case"]["currency"],
            "payment_method": "bank transfer",
            "signature_evidence_id": signature,
            "place": visit["address"]["text"],
            "signed_at": when.isoformat(),
            "instalments": [
                {"due_date": (when + timedelta(days=30 * k)).date().isoformat(), "amount": half} for k in (1, 2)
            ],
        },
        base_version=visit["version"],
        device_time=when + timedelta(minutes=20),
    )


async def upload_all(phone: Phone, log: DayLog) -> None:
    """The bytes travel separately, through tus; half of them are interrupted and resumed."""
    for item in phone.uploads:
        done = await upload(
            phone.http,
            item.data,
            evidence_id=item.evidence_id,
            kind=item.kind,
            content_type=item.content_type,
            chunk_size=64 * 1024,
            interrupt_at=len(item.data) // 2 if item.interrupted else None,
        )
        log.uploads += 1
        log.resumed_uploads += bool(done["resumed"])
        log.upload_bytes += len(item.data)


async def sync_phone(phone: Phone, log: DayLog) -> None:
    """Push the outbox, then the media, then pull; a revoked phone is refused and keeps its outbox."""
    try:
        results = await phone.client.push()
    except PushFailed as refused:
        phone.push_refused = f"{refused.status} {refused.body.get('error')}"
        log.notes.append(
            f"{phone.username}'s device was revoked: its push got {phone.push_refused}; "
            f"{phone.client.store.pending_count()} mutations wait on the phone for re-enrolment"
        )
        return
    if phone.offline_days:
        log.notes.append(
            f"{phone.username} worked offline for {phone.offline_days} days: {len(results)} mutations synced"
        )
    for result in results:
        log.results[result["status"]] = log.results.get(result["status"], 0) + 1
    await upload_all(phone, log)
    await phone.client.pull()


async def run_day(
    http: httpx.AsyncClient,
    make_http: HttpFactory,
    drain: Drain,
    folder: Path,
    progress: Progress,
    *,
    cases: int = 1200,
    seed_value: int = 7,
) -> DayLog:
    """The whole demo day."""
    log = DayLog()
    rng = random.Random(seed_value)  # noqa: S311 - demo data
    city = build_city(seed=seed_value, cases=cases, teams=2, collectors_per_team=8)
    log.seed = await seed(city, seed_value=seed_value, progress=progress)
    staff = {name: {"Authorization": f"Bearer {token}"} for name, token in log.seed.tokens.items()}
    dispatcher = staff[f"dispatcher-{TEAM}"]
    progress("routes", 0, 1)
    await plan_routes(http, dispatcher, drain, log)
    progress("routes", 1, 1)
    phones = await enrol_phones(http, dispatcher, log.seed, make_http, folder / "phones")
    for n, phone in enumerate(phones):
        await phone.client.pull()
        progress("morning", n + 1, len(phones))
    phones[5].offline_days = 2  # works two days before it syncs
    for n, phone in enumerate(phones):
        await work_offline(phone, n, rng, log)
        progress("doors", n + 1, len(phones))
    await _dispatcher_meddles(http, dispatcher, phones, log)
    for n, phone in enumerate(phones):
        await sync_phone(phone, log)
        progress("sync", n + 1, len(phones))
    await drain()
    await _after_the_day(http, staff, phones, drain, folder, log, progress)
    for phone in phones:
        await phone.client.close()
        phone.client.store.close()
    return log


async def _dispatcher_meddles(
    http: httpx.AsyncClient, headers: dict[str, str], phones: list[Phone], log: DayLog
) -> None:
    """While phones are offline: a visit phone 6 already worked goes to phone 5's collector; phone 7 is revoked."""
    worked = _stops(phones[5])
    if worked:
        moved = worked[0]["id"]
        await _ok(
            await http.post(
                "/v1/visits/dispatch",
                headers=headers,
                json={"actions": [{"visit_id": moved, "action": "reassign", "collector_id": phones[4].user_id}]},
            ),
            "reassign",
        )
        log.notes.append(
            f"visit {moved[:8]} reassigned to {phones[4].username} while {phones[5].username} was offline working it"
        )
    revoked = phones[6]
    health = (await http.get("/v1/sync/devices", headers=headers)).json()
    device = next(h for h in health if h["user_id"] == revoked.user_id)
    await _ok(await http.post(f"/v1/devices/{device['device_id']}/revoke", headers=headers), "revoke")
    revoked.revoked = True


async def _after_the_day(
    http: httpx.AsyncClient,
    staff: dict[str, dict[str, str]],
    phones: list[Phone],
    drain: Drain,
    folder: Path,
    log: DayLog,
    progress: Progress,
) -> None:
    supervisor = staff[f"supervisor-{TEAM}"]
    pending = (await http.get("/v1/agreements", params={"status": "pending_approval"}, headers=supervisor)).json()
    for agreement in pending[:1]:
        await _ok(
            await http.post(
                f"/v1/agreements/{agreement['id']}/approve", json={"comment": "affordable plan"}, headers=supervisor
            ),
            "approve",
        )
        log.approved_agreement = agreement["id"]
    await drain()
    await export_one_case(http, staff["demo-legal"], drain, folder, log)
    progress("legal", 1, 1)


async def export_one_case(
    http: httpx.AsyncClient, legal: dict[str, str], drain: Drain, folder: Path, log: DayLog
) -> None:
    """Legal exports the case of the first agreement and verifies the bundle offline."""
    agreements = (await http.get("/v1/agreements", headers=legal)).json()
    if not agreements:
        log.notes.append("no agreement to export")
        return
    case_id = agreements[-1]["case_id"]
    export = await _ok(await http.post("/v1/legal/exports", json={"case_id": case_id}, headers=legal), "export")
    await drain()
    download = await http.get(f"/v1/legal/exports/{export['id']}/download", headers=legal)
    if download.status_code != 200:
        raise RuntimeError(f"export download: {download.status_code} {download.text[:300]}")
    bundle = folder / f"bundle-{case_id[:8]}.zip"
    bundle.write_bytes(download.content)
    log.bundle = bundle
    log.bundle_ok = verify_bundle(bundle).ok
