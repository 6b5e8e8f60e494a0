"""Assembling what a phone needs at the door: on PostgreSQL a page of the feed and its visits in one
statement; on SQLite (and for any set of visits) in three queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec

from api.cases.rules import money
from api.cases.tables import Visit
from api.db import fetch_pg, json_value
from api.outcomes.tables import Promise, VisitOutcome
from api.sync import schemas
from sync import changes
from sync.feed import Cursor

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
# Newest last: when a case has several open promises, the newest is the one tracked (as on PostgreSQL).
_PROMISES_SQL = (
    'SELECT "case", due_date, amount, currency FROM promise WHERE "case" IN ({ids}) AND status = \'open\' '
    "ORDER BY created_at"
)

# A pull on PostgreSQL: the page of the feed, each entry's visit with its address and case, the case's
# earlier outcomes (as arrays) and its open promise, in one statement and one round trip. Every join is
# to one row (primary keys, aggregates, LIMIT 1), so there is one row per feed entry, in feed order.
_PAGE_AT_DOOR_SQL = (
    f"WITH {changes.PG_PAGE_CTES} "  # noqa: S608 - constants
    f"SELECT flag.pending, p.change_id, p.seq, p.entity, p.entity_id, p.kind, p.reason, {_SELECT}, "
    'prev.visits AS "previous.visits", prev.codes AS "previous.codes", prev.ats AS "previous.ats", '
    'pr.due_date AS "promise.due_date", pr.amount AS "promise.amount", pr.currency AS "promise.currency" '
    "FROM flag LEFT JOIN page p ON true "
    "LEFT JOIN visit v ON p.entity = 'visit' AND v.id = p.entity_id "
    "LEFT JOIN address a ON a.id = v.address "
    'LEFT JOIN collection_case c ON c.id = v."case" '
    "LEFT JOIN LATERAL (SELECT array_agg(o.visit ORDER BY o.recorded_at) AS visits, "
    "array_agg(o.code ORDER BY o.recorded_at) AS codes, array_agg(o.recorded_at ORDER BY o.recorded_at) AS ats "
    'FROM visit_outcome o WHERE o."case" = c.id AND o.visit IS DISTINCT FROM v.id '
    "AND o.state <> 'superseded') prev ON c.id IS NOT NULL "
    'LEFT JOIN LATERAL (SELECT due_date, amount, currency FROM promise WHERE "case" = c.id '
    "AND status = 'open' ORDER BY created_at DESC LIMIT 1) pr ON c.id IS NOT NULL "
    "ORDER BY p.seq"
)


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


AtDoor = dict[UUID, tuple[schemas.VisitAtDoor, set[UUID]]]


# Positions in a row of ``_PAGE_AT_DOOR_SQL``: the feed columns, then the visit's, the address's and the
# case's (each in its Struct's field order, checked below), then the earlier outcomes and the promise.
_V0 = 7
_A0 = _V0 + len(_VISIT)
_C0 = _A0 + len(_ADDRESS)
_P0 = _C0 + len(_CASE)
_VISIT_FIELDS = len(_VISIT) - 2  # assigned_to and partner are not sent
_PHONES = _CASE.index("phones")
assert schemas.VisitAtDoor.__struct_fields__[:_VISIT_FIELDS] == _VISIT[:_VISIT_FIELDS]
assert schemas.DoorAddress.__struct_fields__ == _ADDRESS
assert schemas.DoorCase.__struct_fields__ == _CASE


def _pg_door_visit(values: tuple[Any, ...]) -> schemas.VisitAtDoor:
    """``_door_visit`` for a row of ``_PAGE_AT_DOOR_SQL`` as a tuple (built positionally: this runs for every
    visit of every pull). Amounts come as NUMERIC(18, 2), already exact."""
    visits, codes, ats, due, amount, currency = values[_P0:]
    previous = [schemas.PreviousOutcome(*p) for p in zip(visits, codes, ats, strict=True)] if codes else []
    case = list(values[_C0:_P0])
    case[_PHONES] = msgspec.json.decode(case[_PHONES]) if case[_PHONES] else []
    fields = (
        *values[_V0 : _V0 + _VISIT_FIELDS],
        schemas.DoorAddress(*values[_A0:_C0]),
        schemas.DoorCase(*case),
        previous,
        None if due is None else schemas.OpenPromise(due, amount, currency),
    )
    return schemas.VisitAtDoor(*fields)


async def _fetch_page_at_door(scope: UUID, seq: int, limit: int) -> Sequence[Any]:
    return await fetch_pg(_PAGE_AT_DOOR_SQL, scope, seq, limit)


async def page_at_door(scope: UUID, cursor: Cursor, limit: int) -> tuple[changes.Page, AtDoor]:
    """PostgreSQL: the scope's feed page after ``cursor`` (as ``sync.changes.read``) and the door data of the
    visits it names, as ``visits_at_door`` gives them, in one round trip."""
    page, rows = await changes.read_joined(scope, cursor, limit, _fetch_page_at_door)
    at_door: AtDoor = {}
    for values in rows:
        visit_id = values[_V0]
        if visit_id is not None and visit_id not in at_door:
            owners: set[UUID] = {values[_A0 - 2], values[_A0 - 1]} - {None}  # assigned_to, partner
            at_door[visit_id] = (_pg_door_visit(values), owners)
    return page, at_door
