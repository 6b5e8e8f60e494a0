"""One phone of ``fieldvisit demo``: its work at the doors queued offline (check-ins, notes, media,
outcomes, agreements), then its sync: the outbox pushed, the media sent through tus (half of them
interrupted and resumed), the day pulled."""

from __future__ import annotations

import functools
import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from api.demo import media
from api.demo.report import DayLog
from sync.client import DeviceClient, PushFailed
from sync.client.uploads import upload


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


def next_stops(phone: Phone) -> list[dict[str, Any]]:
    """The phone's first five open visits in route order (what it works today)."""
    visits = [v for v in phone.client.store.visits().values() if v["status"] in ("assigned", "requested")]
    return sorted(visits, key=lambda v: (v["stop_order"] is None, v["stop_order"] or 0, v["id"]))[:5]


def _at_the_door(visit: dict[str, Any], metres_north: float = 15.0) -> dict[str, Any]:
    lat, lon = visit["address"]["lat"], visit["address"]["lon"]
    return {"lat": lat + metres_north / 111_320, "lon": lon, "accuracy_m": 9.0, "mock": False}


def _evidence(
    phone: Phone,
    visit: dict[str, Any],
    rng: random.Random,
    when: datetime,
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


def work_offline(phone: Phone, index: int, rng: random.Random) -> None:
    """One phone's day at the doors, queued offline: a stop every 50 minutes from 09:30 in Shanghai."""
    start = datetime.now(UTC).replace(hour=1, minute=30, second=0, microsecond=0) - timedelta(days=phone.offline_days)
    for n, visit in enumerate(next_stops(phone)):
        when = start + timedelta(minutes=50 * n)
        if index == 2 and n == 0:
            when = when.replace(hour=14, minute=40)  # 22:40 in Shanghai: outside the legal window
        _at_one_door(phone, visit, index, n, when, rng)


def _at_one_door(phone: Phone, visit: dict[str, Any], index: int, n: int, when: datetime, rng: random.Random) -> None:
    """Phone ``index``'s ``n``-th stop: check in, a note, evidence, an outcome or an agreement, check out.
    A few (phone, stop) pairs stage the demo's special cases."""
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
    capture = functools.partial(_evidence, phone, visit, rng, when)
    capture("photo", media.photo(rng, when, visit["address"]["lat"], visit["address"]["lon"]), "image/jpeg")
    if n % 2 == 0:
        capture("recording", media.recording(rng), "audio/wav", consent=not (index == 3 and n == 0))
    if index == 0 and n == 1:
        _agreement(phone, visit, rng, when, "60000.00")  # within the collector's authority
    elif index == 4 and n == 1:
        _agreement(phone, visit, rng, when, "300000.00")  # needs a supervisor
    else:
        phone.client.enqueue(
            "visit.record_outcome",
            visit["id"],
            _outcome(OUTCOMES[(index + n) % 7], visit, when),
            base_version=visit["version"],
            device_time=when + timedelta(minutes=20),
        )
    phone.client.enqueue("visit.check_out", visit["id"], {}, device_time=when + timedelta(minutes=25))


def _agreement(phone: Phone, visit: dict[str, Any], rng: random.Random, when: datetime, amount: str) -> None:
    signature = _evidence(phone, visit, rng, when, "signature", media.signature(rng), "image/png")
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
