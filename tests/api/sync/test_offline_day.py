"""A 40-visit day worked offline by the reference client, with a mid-day reassignment and a cancellation."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from api.cases.tables import Visit, VisitEvent
from api.outcomes.tables import VisitOutcome
from api.people.roles import Role
from evidence.tables import EvidenceItem
from sync.tables import SyncConflict, SyncMutation
from tests.api.sync.conftest import near
from tests.builders import make_case, make_collector, make_staff, make_team, make_visit

pytestmark = pytest.mark.embedded


def _work(phone, visit_id: str, version: int, rng: random.Random, at: datetime) -> None:
    """What a collector does at one door, offline."""
    phone.enqueue("visit.check_in", visit_id, {}, base_version=version, location=near(), device_time=at)
    phone.enqueue("visit.add_note", visit_id, {"text": "met the debtor's sister"}, device_time=at)
    for n in range(2):
        phone.enqueue(
            "evidence.declare",
            visit_id,
            {
                "id": str(__import__("uuid").uuid4()),
                "visit_id": visit_id,
                "kind": "photo",
                "sha256": f"{rng.getrandbits(256):064x}",
                "size": 1000 + n,
                "content_type": "image/jpeg",
            },
        )
    code = rng.choice(["NOH", "NFD", "REF", "PTP"])
    outcome = {"code": code}
    if code == "PTP":
        outcome |= {"promised_date": (at + timedelta(days=5)).date().isoformat(), "amount": "500.00", "currency": "CNY"}
    phone.enqueue("visit.record_outcome", visit_id, outcome, base_version=version, device_time=at)
    phone.enqueue("visit.check_out", visit_id, {}, device_time=at + timedelta(minutes=12))


async def _state() -> tuple[int, ...]:
    return (
        await SyncMutation.count(),
        await VisitEvent.count(),
        await VisitOutcome.count(),
        await Visit.count(),
        await SyncConflict.count(),
        await EvidenceItem.count(),
    )


async def test_a_40_visit_offline_day_with_reassignment_and_cancellation(client, phones):
    team = await make_team()
    dispatcher = await make_staff(Role.DISPATCHER, team)
    anna, ben = await make_collector(team), await make_collector(team)
    visits = []
    for _ in range(40):
        case_id, address_id = await make_case(team)
        visits.append(str(await make_visit(case_id, address_id, team, assigned_to=anna.user_id)))
    phone = phones(anna)
    assert await phone.pull() == 40  # the morning download
    rng = random.Random(4)
    start = datetime.now(UTC).replace(hour=2, minute=0)  # 10:00 in Shanghai
    for n, visit_id in enumerate(visits):
        _work(phone, visit_id, phone.visit_version(visit_id), rng, start + timedelta(minutes=15 * n))
    reassigned, cancelled = visits[10], visits[20]  # the dispatcher acts while the phone is offline
    await client.post(
        "/v1/visits/dispatch",
        headers=dispatcher.headers,
        json={
            "actions": [
                {"visit_id": reassigned, "action": "reassign", "collector_id": str(ben.user_id)},
                {"visit_id": cancelled, "action": "cancel", "reason": "debtor paid at the branch"},
            ]
        },
    )
    sent = phone.store.pending(10_000)
    assert len(sent) == 40 * 6

    results = await phone.push(batch_size=100)
    assert len(results) == 240
    assert phone.store.pending_count() == 0
    by_visit: dict[str, list[str]] = {}
    for mutation, result in zip(sent, results, strict=True):
        by_visit.setdefault(mutation["target"], []).append(result["status"])
    for visit_id in visits:
        if visit_id in (reassigned, cancelled):
            assert by_visit[visit_id].count("conflict") == 1  # the outcome, held for review
            assert "rejected" not in by_visit[visit_id]
        else:
            assert set(by_visit[visit_id]) == {"applied"}, by_visit[visit_id]
    assert await VisitOutcome.count() == 38
    assert await SyncConflict.count().where(SyncConflict.status == "open") == 2
    assert await VisitEvent.count().where(VisitEvent.kind == "note") == 40  # nothing the phone did was dropped
    assert await EvidenceItem.count() == 80

    state = await _state()
    for _ in range(3):  # the phone never heard back: it sends everything again
        for mutation in sent:
            phone.store.db.execute(
                "INSERT INTO outbox (seq, id, body) VALUES (?, ?, ?)",
                (mutation["seq"], mutation["id"], json.dumps(mutation)),
            )
        again = await phone.push(batch_size=100)
        assert [r["status"] for r in again] == [r["status"] for r in results]
        assert all(r["replay"] for r in again)
        assert await _state() == state

    await phone.pull()
    on_phone = phone.store.visits()
    assert {v for v in on_phone if v in visits} == set(visits) - {reassigned, cancelled}
    assert {on_phone[v]["status"] for v in on_phone if v in visits} == {"completed"}
    follow_ups = [v for v in on_phone.values() if v["id"] not in visits]  # revisits after NOH/NFD/REF
    assert follow_ups
    assert {v["status"] for v in follow_ups} == {"assigned"}
    assert all(v["attempt"] == 2 for v in follow_ups)
