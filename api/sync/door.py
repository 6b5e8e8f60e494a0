"""Assembling what a phone needs at the door for a set of visits, in three queries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.cases.rules import money
from api.cases.tables import Visit
from api.db import json_value
from api.outcomes.tables import Promise, VisitOutcome
from api.sync import schemas

Row = dict[str, Any]
_VISIT = (
    Visit.id,
    Visit.version,
    Visit.status,
    Visit.type,
    Visit.due_date,
    Visit.priority,
    Visit.attempt,
    Visit.outcome,
    Visit.stop_order,
    Visit.eta,
    Visit.plan_id,
    Visit.appointment_start,
    Visit.appointment_end,
    Visit.assigned_to,
    Visit.partner,
)
_ADDRESS = (
    Visit.address.id,
    Visit.address.kind,
    Visit.address.text,
    Visit.address.lat,
    Visit.address.lon,
    Visit.address.timezone,
    Visit.address.valid,
)
_CASE = (
    Visit.case.id,
    Visit.case.debtor_name,
    Visit.case.national_id_last4,
    Visit.case.phones,
    Visit.case.preferred_phone,
    Visit.case.amount_owed,
    Visit.case.currency,
    Visit.case.days_past_due,
    Visit.case.stage,
    Visit.case.status,
    Visit.case.contact_state,
    Visit.case.version,
)


def _door_visit(
    row: Row, previous: list[schemas.PreviousOutcome], promise: schemas.OpenPromise | None
) -> schemas.VisitAtDoor:
    address = schemas.DoorAddress(
        id=row["address.id"],
        kind=row["address.kind"],
        text=row["address.text"],
        lat=row["address.lat"],
        lon=row["address.lon"],
        timezone=row["address.timezone"],
        valid=bool(row["address.valid"]),
    )
    case = schemas.DoorCase(
        id=row["case.id"],
        debtor_name=row["case.debtor_name"],
        national_id_last4=row["case.national_id_last4"],
        phones=list(json_value(row["case.phones"], [])),
        preferred_phone=row["case.preferred_phone"],
        amount_owed=money(row["case.amount_owed"]),
        currency=row["case.currency"],
        days_past_due=row["case.days_past_due"],
        stage=row["case.stage"],
        status=row["case.status"],
        contact_state=row["case.contact_state"],
        version=row["case.version"],
    )
    return schemas.VisitAtDoor(
        id=row["id"],
        version=row["version"],
        status=row["status"],
        type=row["type"],
        due_date=row["due_date"],
        priority=row["priority"],
        attempt=row["attempt"],
        outcome=row["outcome"],
        stop_order=row["stop_order"],
        eta=row["eta"],
        plan_id=row["plan_id"],
        appointment_start=row["appointment_start"],
        appointment_end=row["appointment_end"],
        address=address,
        case=case,
        previous_outcomes=[p for p in previous if p.visit_id != row["id"]],
        promise=promise,
    )


async def visits_at_door(visit_ids: list[UUID]) -> dict[UUID, tuple[schemas.VisitAtDoor, set[UUID]]]:
    """Door data per visit id, with the users the visit belongs to (assignee and partner)."""
    if not visit_ids:
        return {}
    rows = await Visit.select(*_VISIT, *_ADDRESS, *_CASE).where(Visit.id.is_in(visit_ids))
    case_ids = list({row["case.id"] for row in rows})
    outcomes = (
        await VisitOutcome.select(VisitOutcome.visit, VisitOutcome.case, VisitOutcome.code, VisitOutcome.recorded_at)
        .where(VisitOutcome.case.is_in(case_ids) & (VisitOutcome.state != "superseded"))
        .order_by(VisitOutcome.recorded_at)
    )
    promises = await Promise.select(Promise.case, Promise.due_date, Promise.amount, Promise.currency).where(
        Promise.case.is_in(case_ids) & (Promise.status == "open")
    )
    previous: dict[UUID, list[schemas.PreviousOutcome]] = {}
    for o in outcomes:
        previous.setdefault(o["case"], []).append(schemas.PreviousOutcome(o["visit"], o["code"], o["recorded_at"]))
    open_promise = {p["case"]: schemas.OpenPromise(p["due_date"], money(p["amount"]), p["currency"]) for p in promises}
    return {
        row["id"]: (
            _door_visit(row, previous.get(row["case.id"], []), open_promise.get(row["case.id"])),
            {row["assigned_to"], row["partner"]} - {None},
        )
        for row in rows
    }
