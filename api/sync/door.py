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
# The door query runs on every pull for up to a page of visits: written as SQL once, because composing
# it with Piccolo's query builder (joins, aliased columns) cost more CPU than the database spent on it.
_VISIT = (
    "id",
    "version",
    "status",
    "type",
    "due_date",
    "priority",
    "attempt",
    "outcome",
    "stop_order",
    "eta",
    "plan_id",
    "appointment_start",
    "appointment_end",
    "assigned_to",
    "partner",
)
_ADDRESS = ("id", "kind", "text", "lat", "lon", "timezone", "valid")
_CASE = (
    "id",
    "debtor_name",
    "national_id_last4",
    "phones",
    "preferred_phone",
    "amount_owed",
    "currency",
    "days_past_due",
    "stage",
    "status",
    "contact_state",
    "version",
)
_SELECT = ", ".join(
    [f"v.{c}" for c in _VISIT] + [f'a.{c} AS "address.{c}"' for c in _ADDRESS] + [f'c.{c} AS "case.{c}"' for c in _CASE]
)
_DOOR_SQL = (
    f"SELECT {_SELECT} FROM visit v JOIN address a ON a.id = v.address "  # noqa: S608 - constants
    'JOIN collection_case c ON c.id = v."case" WHERE v.id IN ({ids})'
)
_OUTCOMES_SQL = (
    'SELECT visit, "case", code, recorded_at FROM visit_outcome '
    "WHERE \"case\" IN ({ids}) AND state <> 'superseded' ORDER BY recorded_at"
)
_PROMISES_SQL = 'SELECT "case", due_date, amount, currency FROM promise WHERE "case" IN ({ids}) AND status = \'open\''


def _in(sql: str, count: int) -> str:
    """``sql`` with its ``{ids}`` list made of ``count`` placeholders (portable: PostgreSQL and SQLite)."""
    return sql.replace("{ids}", ", ".join(["{}"] * count))


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
    rows = await Visit.raw(_in(_DOOR_SQL, len(visit_ids)), *visit_ids)
    case_ids = list({row["case.id"] for row in rows})
    outcomes = await VisitOutcome.raw(_in(_OUTCOMES_SQL, len(case_ids)), *case_ids) if case_ids else []
    promises = await Promise.raw(_in(_PROMISES_SQL, len(case_ids)), *case_ids) if case_ids else []
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
