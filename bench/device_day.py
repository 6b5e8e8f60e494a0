"""A collector's offline work as the benches queue it on a reference client: per visit a check-in at the
door, a note, an outcome (nobody home, a promise to pay, a refusal, in turn) and a check-out.

The work happens in the daytime where the seeded debtors live, whatever the hour the bench runs: with
the wall clock, a run at night (from 13:00 UTC on, in Shanghai) also flagged every check-in outside
legal hours, so the same bench did more work at some hours than at others."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sync.client import DeviceClient

PER_VISIT = 4
ZONE = ZoneInfo("Asia/Shanghai")  # the seeded addresses' (bench/sync_field.py)


def daytime(now: datetime | None = None) -> datetime:
    """The latest moment at or before ``now`` between 10:00 and 16:00 in the debtors' time zone."""
    local = (now or datetime.now(UTC)).astimezone(ZONE)
    if local.hour < 10:
        return (local - timedelta(days=1)).replace(hour=16, minute=0, second=0, microsecond=0)
    if local.hour >= 16:
        return local.replace(hour=16, minute=0, second=0, microsecond=0)
    return local


def _outcome(n: int) -> dict[str, Any]:
    kind = n % 3
    if kind == 0:
        return {"code": "NOH", "note": "nobody opened"}
    if kind == 1:
        promised = (date.today() + timedelta(days=7)).isoformat()
        return {"code": "PTP", "promised_date": promised, "amount": "1500.00", "currency": "CNY"}
    return {"code": "REF", "note": "refused to talk"}


def _location(visit: dict[str, Any], when: datetime) -> dict[str, Any]:
    address = visit["address"]
    return {
        "lat": address["lat"] + 0.0001,
        "lon": address["lon"],
        "accuracy_m": 8.0,
        "mock": False,
        "fix_time": when.isoformat(),
    }


def queue_visits(phone: DeviceClient, visits: list[dict[str, Any]]) -> int:
    """Queue a day's work on ``visits`` (4 mutations each); returns how many mutations were queued."""
    when = daytime()
    for n, visit in enumerate(visits):
        where = _location(visit, when)
        version = int(visit["version"])
        note = {"text": f"debtor's neighbour says {n}"}
        phone.enqueue("visit.check_in", visit["id"], {}, base_version=version, location=where, device_time=when)
        phone.enqueue("visit.add_note", visit["id"], note, base_version=version, device_time=when)
        phone.enqueue(
            "visit.record_outcome", visit["id"], _outcome(n), base_version=version, location=where, device_time=when
        )
        phone.enqueue("visit.check_out", visit["id"], {}, base_version=version, location=where, device_time=when)
    return PER_VISIT * len(visits)
