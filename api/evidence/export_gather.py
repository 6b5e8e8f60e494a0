"""What a legal export needs from the collection domain, gathered as plain JSON-ready values:
the case, its visits with assignment, address, check-ins (with the distance to the address),
outcomes, the domain's agreements, and the visit timeline. Personal data is kept to what a court
needs (no phone numbers)."""

from __future__ import annotations

import math
from typing import Any
from uuid import UUID

import msgspec

from api.cases.tables import Address, Case, Visit, VisitEvent
from api.outcomes.tables import Agreement, VisitOutcome
from evidence.exports import DomainRecords

EARTH_RADIUS_M = 6_371_008.8
CHECK_IN_KINDS = ("check_in", "checked_in", "visit.check_in", "checkin")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return dict(msgspec.to_builtins(row, str_keys=True))


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


def _check_in(event: dict[str, Any], address: dict[str, Any] | None) -> dict[str, Any]:
    data = _json(event["data"]) or {}
    entry = {"at": event["at"], "actor": event["actor"], "device": event["device"], "data": data}
    lat, lon = data.get("lat"), data.get("lon")
    if address and isinstance(lat, int | float) and isinstance(lon, int | float) and address.get("lat") is not None:
        entry["distance_to_address_m"] = round(distance_m(lat, lon, address["lat"], address["lon"]), 1)
    return _plain(entry)


def _visit(
    visit: dict[str, Any], address: dict[str, Any] | None, events: list[dict[str, Any]], outcomes: list[dict[str, Any]]
) -> dict[str, Any]:
    """A visit as exported: assignment, address, check-ins with their distance, outcomes."""
    check_ins = [_check_in(e, address) for e in events if e["visit"] == visit["id"] and e["kind"] in CHECK_IN_KINDS]
    return _plain(
        {
            **visit,
            "assignment": {"team": visit["team"], "assigned_to": visit["assigned_to"], "partner": visit["partner"]},
            "address": address,
            "check_ins": check_ins,
            "outcomes": [_plain(o) for o in outcomes if o["visit"] == visit["id"]],
        }
    )


async def gather_domain(case_id: UUID, visit_ids: list[UUID]) -> DomainRecords:
    """The domain records of a case (all its visits, or the given ones)."""
    case = await Case.select(
        Case.id, Case.source, Case.external_ref, Case.debtor_name, Case.national_id_last4, Case.amount_owed,
        Case.currency, Case.days_past_due, Case.stage, Case.status, Case.contact_state, Case.team, Case.created_at,
    ).where(Case.id == case_id).first()  # fmt: skip
    query = Visit.select().where(Visit.case == case_id).order_by(Visit.requested_at)
    if visit_ids:
        query = query.where(Visit.id.is_in(visit_ids))
    visits = list(await query)
    ids = [v["id"] for v in visits] or [UUID(int=0)]
    addresses = {
        a["id"]: a for a in await Address.select().where(Address.id.is_in([v["address"] for v in visits] or ids))
    }
    events = list(await VisitEvent.select().where(VisitEvent.visit.is_in(ids)).order_by(VisitEvent.at))
    outcomes = list(await VisitOutcome.select().where(VisitOutcome.visit.is_in(ids)).order_by(VisitOutcome.recorded_at))
    agreements = list(await Agreement.select().where(Agreement.visit.is_in(ids)).order_by(Agreement.created_at))
    notes = []
    exported_visits = [_visit(v, addresses.get(v["address"]), events, outcomes) for v in visits]
    if not any(v["check_ins"] for v in exported_visits):
        notes.append("no check-in records: check-ins arrive with device sync; visit.checked_in_at is included")
    timeline = [_plain({**e, "data": _json(e["data"])}) for e in events]
    return DomainRecords(
        case=_plain(case or {"id": case_id}),
        visits=exported_visits,
        timeline=timeline,
        agreements=[
            _plain({**a, "instalments": _json(a["instalments"]), "terms": _json(a["terms"])}) for a in agreements
        ],
        notes=notes,
    )
