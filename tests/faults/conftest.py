"""Fault injection with real processes: shared pieces (a collector's day of work, the checks after recovery)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from api.cases.tables import VisitEvent
from api.db import json_value
from api.outcomes.tables import VisitOutcome
from api.queue.tables import Job
from evidence.items import verify_item_chain
from evidence.tables import EvidenceItem
from sync.client import DeviceClient
from sync.tables import SyncMutation
from tests.builders import Actor, make_case, make_collector, make_team, make_visit


async def a_collectors_day(visits: int) -> tuple[Actor, list[str]]:
    """A team, a collector with an enrolled device, and ``visits`` visits assigned to them."""
    team = await make_team()
    collector = await make_collector(team)
    made = []
    for _ in range(visits):
        case_id, address_id = await make_case(team)
        made.append(str(await make_visit(case_id, address_id, team, assigned_to=collector.user_id)))
    return collector, made


def near() -> dict[str, object]:
    return {"lat": 31.2304 + 0.00005, "lon": 121.4737, "accuracy_m": 8.0, "mock": False}


def work_offline(phone: DeviceClient, visit_ids: list[str], notes_per_visit: int) -> dict[str, set[str]]:
    """Queue a day of work on the phone; returns what must end up on the server, by kind."""
    expected: dict[str, set[str]] = {"notes": set(), "evidence": set(), "outcomes": set()}
    at = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0)  # 10:00 in Shanghai
    for n, visit_id in enumerate(visit_ids):
        when = at + timedelta(minutes=n)
        version = phone.visit_version(visit_id)
        phone.enqueue("visit.check_in", visit_id, {}, base_version=version, location=near(), device_time=when)
        for k in range(notes_per_visit):
            text = f"note {k} at {visit_id}"
            phone.enqueue("visit.add_note", visit_id, {"text": text}, device_time=when)
            expected["notes"].add(text)
        item_id = str(uuid.uuid4())
        phone.enqueue(
            "evidence.declare",
            visit_id,
            {
                "id": item_id,
                "visit_id": visit_id,
                "kind": "photo",
                "sha256": uuid.uuid4().hex * 2,
                "size": 1000,
                "content_type": "image/jpeg",
            },
        )
        expected["evidence"].add(item_id)
        phone.enqueue("visit.record_outcome", visit_id, {"code": "NOH"}, base_version=version, device_time=when)
        expected["outcomes"].add(visit_id)
        phone.enqueue("visit.check_out", visit_id, {}, device_time=when + timedelta(minutes=5))
    return expected


async def assert_exactly_once(phone: DeviceClient, queued: list[dict[str, object]], expected: dict[str, set[str]]):
    """Everything the phone queued is on the server once: mutations, notes, evidence, outcomes;
    every result the phone was given is the server's stored result."""
    assert phone.store.pending_count() == 0
    stored = await SyncMutation.select(SyncMutation.id, SyncMutation.status).where(SyncMutation.device_id.is_not_null())
    ids = Counter(str(r["id"]) for r in stored)
    assert set(ids) == {str(m["id"]) for m in queued}
    assert max(ids.values()) == 1
    by_id = {str(r["id"]): r["status"] for r in stored}
    acknowledged = phone.store.results()
    assert set(acknowledged) == set(by_id)
    for mutation_id, result in acknowledged.items():
        assert result["status"] == by_id[mutation_id], (mutation_id, result)
        assert result["status"] in ("applied", "merged", "duplicate"), result
    notes = await VisitEvent.select(VisitEvent.data).where(VisitEvent.kind == "note")
    texts = Counter(json_value(r["data"], {})["text"] for r in notes)
    assert set(texts) == expected["notes"]
    assert max(texts.values()) == 1, [t for t, n in texts.items() if n > 1]
    items = Counter(str(r["id"]) for r in await EvidenceItem.select(EvidenceItem.id))
    assert set(items) == expected["evidence"]
    outcomes = Counter(str(r["visit"]) for r in await VisitOutcome.select(VisitOutcome.visit))
    assert set(outcomes) == expected["outcomes"]
    assert max(outcomes.values()) == 1
    await assert_custody_verifies()


async def assert_custody_verifies() -> None:
    """Every evidence item's custody chain holds."""
    for row in await EvidenceItem.select(EvidenceItem.id):
        report = await verify_item_chain(row["id"])
        assert report.valid, report


async def assert_every_job_ran() -> None:
    """No outbox job is left pending, running or failed."""
    left = await Job.select(Job.id, Job.name, Job.state, Job.last_error).where(Job.state != "done")
    assert left == [], left
