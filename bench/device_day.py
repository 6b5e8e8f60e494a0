"""A collector's offline work as the benches queue it on a reference client: per visit a check-in at the
door, a note, an outcome (nobody home, a promise to pay, a refusal, in turn) and a check-out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sync.client import DeviceClient

PER_VISIT = 4


def _outcome(n: int) -> dict[str, Any]:
    kind = n % 3
    if kind == 0:
        return {"code": "NOH", "note": "nobody opened"}
    if kind == 1:
        promised = (date.today() + timedelta(days=7)).isoformat()
        return {"code": "PTP", "promised_date": promised, "amount": "1500.00", "currency": "CNY"}
    return {"code": "REF", "note": "refused to talk"}


def _location(visit: dict[str, Any]) -> dict[str, Any]:
    address = visit["address"]
    return {
        "lat": address["lat"] + 0.0001,
        "lon": address["lon"],
        "accuracy_m": 8.0,
        "mock": False,
        "fix_time": datetime.now(UTC).isoformat(),
    }


def queue_visits(phone: DeviceClient, visits: list[dict[str, Any]]) -> int:
    """Queue a day's work on ``visits`` (4 mutations each); returns how many mutations were queued."""
    for n, visit in enumerate(visits):
        where = _location(visit)
        version = int(visit["version"])
        phone.enqueue("visit.check_in", visit["id"], {}, base_version=version, location=where)
        phone.enqueue("visit.add_note", visit["id"], {"text": f"debtor's neighbour says {n}"}, base_version=version)
        phone.enqueue("visit.record_outcome", visit["id"], _outcome(n), base_version=version, location=where)
        phone.enqueue("visit.check_out", visit["id"], {}, base_version=version, location=where)
    return PER_VISIT * len(visits)
