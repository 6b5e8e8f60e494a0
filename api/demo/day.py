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

import random
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from api.demo.city import build_city
from api.demo.phone import Phone, next_stops, sync_phone, work_offline
from api.demo.report import DayLog
from api.demo.seed import SeedSummary, seed
from evidence.bundle_verify import verify_bundle
from sync.client import DeviceClient, LocalStore

Progress = Callable[[str, int, int], None]
Drain = Callable[[], Awaitable[None]]
HttpFactory = Callable[[], httpx.AsyncClient]
TEAM = "team-west"
PHONES = 7


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
        work_offline(phone, n, rng)
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
    worked = next_stops(phones[5])
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
