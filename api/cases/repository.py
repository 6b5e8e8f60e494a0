"""Every query of the core records: cases, addresses, visits, the timeline, flags, case events."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from api.cases.tables import Address, Case, CaseEvent, Visit, VisitEvent, VisitFlag
from api.db import get_row, insert_rows
from api.dispatch.visit_states import OPEN
from sync.deferred import flush_deferred
from sync.rows import (
    as_first_locked,
    defer_updates_of,
    insert_kept,
    insert_returning,
    keep_rows,
    kept_row,
    list_rows,
    lock_rows,
    run,
    update_row,
)

Row = dict[str, Any]
_OPEN_SQL = ", ".join(f"'{s.value}'" for s in OPEN)  # constant status names


def now() -> datetime:
    """The server clock (UTC)."""
    return datetime.now(UTC)


# --- cases -----------------------------------------------------------------------------------

_CASE_LIST_COLUMNS = (
    Case.id,
    Case.source,
    Case.external_ref,
    Case.debtor_name,
    Case.national_id_last4,
    Case.amount_owed,
    Case.currency,
    Case.days_past_due,
    Case.stage,
    Case.status,
    Case.contact_state,
    Case.team,
    Case.legal_flag,
    Case.pending_confirmation,
    Case.version,
    Case.updated_at,
)


# Visits and cases are written only through ``update_row`` while a transaction keeps them: in a sync
# push their changes are written once per table when the batch ends (``sync.rows.update_row``).
defer_updates_of(Visit, Case)


async def get_case(case_id: UUID, *, for_update: bool = False) -> Row | None:
    """A case by id (locked for update on PostgreSQL when asked; SQLite serialises writers already; a
    case locked once is not read again in the same transaction: ``update_case`` writes it there)."""
    return await get_row(Case, case_id, for_update=for_update, cached=True)


async def list_cases(
    *,
    team_id: UUID | None,
    status: str | None,
    stage: str | None,
    limit: int,
    offset: int,
) -> list[Row]:
    """Cases, filtered, newest change first."""
    query = Case.select(*_CASE_LIST_COLUMNS).order_by(Case.updated_at, ascending=False).order_by(Case.id)
    if team_id is not None:
        query = query.where(Case.team == team_id)
    if status is not None:
        query = query.where(Case.status == status)
    if stage is not None:
        query = query.where(Case.stage == stage)
    return await query.limit(limit).offset(offset)


async def update_case(case_id: UUID, values: dict[Any, Any]) -> None:
    """Write case fields, bump its version."""
    await update_row(Case, case_id, {**values, Case.updated_at: now()}, increment=Case.version)


async def add_case_event(
    case_id: UUID, source_ref: str, from_status: str, to_status: str, reason: str, visit_id: UUID | None, data: Row
) -> int:
    """Append a status change to the case feed; returns its sequence id."""
    values = {
        "case": case_id,
        "source_ref": source_ref,
        "from_status": from_status,
        "to_status": to_status,
        "reason": reason,
        "visit": visit_id,
        "data": data,
    }
    return int(await insert_returning(CaseEvent, values, CaseEvent.id))


async def list_case_events_after(
    window_sql: str, args: list[int], order: str, limit: int, team_id: UUID | None
) -> list[Row]:
    """Readable case events after a cursor (``window_sql``/``order`` from ``sync.feed``), in feed order."""
    team_filter = ""
    team_args: list[Any] = []
    if team_id is not None:
        team_filter = ' AND "case" IN (SELECT id FROM collection_case WHERE team = {})'
        team_args = [team_id]
    sql = (
        f'SELECT id, {order} AS seq, "case", source_ref, at, from_status, to_status, reason, visit, data '  # noqa: S608
        f"FROM case_event WHERE {window_sql}{team_filter} ORDER BY {order} LIMIT {{}}"
    )
    rows: list[Row] = await CaseEvent.raw(sql, *args, *team_args, limit)
    return rows


async def get_case_event(event_id: int) -> Row | None:
    """One case event."""
    return await CaseEvent.select().where(CaseEvent.id == event_id).first()


# --- addresses -------------------------------------------------------------------------------


async def get_address(address_id: UUID) -> Row | None:
    """An address by id (as kept by ``lock_visits`` if it was)."""
    return await get_row(Address, address_id, cached=True)


async def list_addresses(case_id: UUID) -> list[Row]:
    """A case's addresses, valid first."""
    return await list_rows(Address, '"case" = {} ORDER BY valid DESC', case_id)


async def create_address(
    case_id: UUID,
    kind: str,
    text: str,
    normalised: str,
    lat: float | None,
    lon: float | None,
    timezone: str,
    origin: str,
) -> UUID:
    """Insert an address."""
    address = Address(
        case=case_id, kind=kind, text=text, normalised=normalised, lat=lat, lon=lon, timezone=timezone, origin=origin
    )
    await address.save()
    return UUID(str(address.id))


async def invalidate_address(address_id: UUID, reason: str) -> None:
    """Mark an address invalid for good."""
    values = {Address.valid: False, Address.invalid_reason: reason, Address.invalidated_at: now()}
    await update_row(Address, address_id, values)  # keeps a copy kept for the transaction current


# --- visits ----------------------------------------------------------------------------------


async def get_visit(visit_id: UUID, *, for_update: bool = False) -> Row | None:
    """A visit by id (row-locked on PostgreSQL when asked, so concurrent changes serialise; a visit
    locked once is not read again in the same transaction: ``update_visit`` is its only writer)."""
    return await get_row(Visit, visit_id, for_update=for_update, cached=True)


async def lock_visits(visit_ids: list[UUID], *, with_cases: Collection[UUID] = ()) -> None:
    """Lock visits for the rest of the transaction in one query and read their addresses in another
    (a sync push does it for its batch's targets); the cases of ``with_cases`` (visit ids among
    ``visit_ids``, those whose mutations change their case) are locked too, in one more query, after
    the visits, in the order an outcome takes the two locks."""
    await lock_rows(Visit, visit_ids)
    visits = {v: kept_row(Visit, v) for v in visit_ids}
    await keep_rows(Address, [v["address"] for v in visits.values() if v is not None])
    cases = [row["case"] for v in with_cases if (row := visits.get(v)) is not None]
    if cases:
        await lock_rows(Case, cases)


def visit_as_first_locked(visit_id: UUID) -> Row | None:
    """The visit as this transaction first locked it (see ``sync.rows.as_first_locked``)."""
    return as_first_locked(Visit, visit_id)


async def create_visit(values: Row) -> Row:
    """Insert a visit; returns it, kept for the transaction as a visit it locked (``get_visit``
    gives it without a query)."""
    return await insert_kept(Visit, {**values, "id": values.get("id") or uuid4()})


async def update_visit(visit_id: UUID, values: dict[Any, Any]) -> int:
    """Write visit fields and bump its version; returns the new version."""
    version = await update_row(Visit, visit_id, {**values, Visit.updated_at: now()}, increment=Visit.version)
    assert version is not None, "update_visit of a visit that does not exist"
    return version


async def list_visits(
    *,
    team_id: UUID | None,
    status: str | None,
    collector_id: UUID | None,
    due_before: date | None,
    due_after: date | None,
    overdue_on: date | None,
    case_id: UUID | None,
    limit: int,
    offset: int,
) -> list[Row]:
    """Visits, filtered, by due date."""
    query = Visit.select().order_by(Visit.due_date).order_by(Visit.id)
    if team_id is not None:
        query = query.where(Visit.team == team_id)
    if status is not None:
        query = query.where(Visit.status == status)
    if collector_id is not None:
        query = query.where(Visit.assigned_to == collector_id)
    if due_before is not None:
        query = query.where(Visit.due_date <= due_before)
    if due_after is not None:
        query = query.where(Visit.due_date >= due_after)
    if overdue_on is not None:
        query = query.where((Visit.due_date < overdue_on) & Visit.status.is_in([s.value for s in OPEN]))
    if case_id is not None:
        query = query.where(Visit.case == case_id)
    return await query.limit(limit).offset(offset)


async def open_visits_of_case(case_id: UUID) -> list[Row]:
    """A case's visits that are not completed or cancelled."""
    return await list_rows(Visit, f'"case" = {{}} AND status IN ({_OPEN_SQL})', case_id)


async def open_visits_of_cases(case_ids: list[UUID]) -> list[Row]:
    """The open visits of several cases, in case order."""
    if not case_ids:
        return []
    placeholders = ", ".join(["{}"] * len(case_ids))
    where = f'"case" IN ({placeholders}) AND status IN ({_OPEN_SQL}) ORDER BY "case", id'
    return await list_rows(Visit, where, *case_ids)


async def open_visits_at_address(address_id: UUID) -> list[Row]:
    """Open visits to one address."""
    return await list_rows(Visit, f"address = {{}} AND status IN ({_OPEN_SQL})", address_id)


async def count_visits_of_case(case_id: UUID) -> int:
    """How many visits a case has had."""
    sql = 'SELECT count(*) AS n FROM visit WHERE "case" = {}'
    rows = await run(Visit, sql, case_id, sees_updates=False)  # a visit's case never changes
    return int(rows[0]["n"])


# --- timeline and flags ----------------------------------------------------------------------


async def add_visit_event(
    visit_id: UUID, case_id: UUID, kind: str, actor: UUID | None, device: UUID | None, data: Row
) -> None:
    """Append to a visit's timeline (deferrable: see ``sync.rows.deferred_inserts``)."""
    await insert_rows(
        VisitEvent,
        [{"visit": visit_id, "case": case_id, "kind": kind, "actor": actor, "device": device, "data": data}],
        deferrable=True,
    )


async def list_visit_events(*, visit_id: UUID | None = None, case_id: UUID | None = None) -> list[Row]:
    """A visit's or a case's timeline, oldest first."""
    await flush_deferred(VisitEvent)
    if visit_id is not None and case_id is None:  # every stale-base check of a sync mutation asks this
        return await list_rows(VisitEvent, "visit = {} ORDER BY id", visit_id)
    query = VisitEvent.select().order_by(VisitEvent.id)
    if visit_id is not None:
        query = query.where(VisitEvent.visit == visit_id)
    if case_id is not None:
        query = query.where(VisitEvent.case == case_id)
    return await query


async def add_flag(visit_id: UUID, case_id: UUID, kind: str, detail: str) -> None:
    """Raise a flag on a visit (deferrable, like the timeline: see ``sync.rows.deferred_inserts``)."""
    await insert_rows(
        VisitFlag, [{"visit": visit_id, "case": case_id, "kind": kind, "detail": detail}], deferrable=True
    )


async def list_flags(
    *,
    visit_id: UUID | None = None,
    case_id: UUID | None = None,
    team_id: UUID | None = None,
    kind: str | None = None,
    limit: int = 200,
) -> list[Row]:
    """Flags, newest first."""
    await flush_deferred(VisitFlag)
    query = VisitFlag.select().order_by(VisitFlag.raised_at, ascending=False).limit(limit)
    if visit_id is not None:
        query = query.where(VisitFlag.visit == visit_id)
    if case_id is not None:
        query = query.where(VisitFlag.case == case_id)
    if team_id is not None:
        query = query.where(VisitFlag.visit.team == team_id)
    if kind is not None:
        query = query.where(VisitFlag.kind == kind)
    return await query


# --- the system's own visit requests ---------------------------------------------------------

_OPEN_VISIT = "SELECT 1 FROM visit v WHERE v.\"case\" = c.id AND v.status IN ('requested', 'assigned', 'checked_in')"


async def cases_needing_pressure_visit(contacted_before: datetime, limit: int) -> list[UUID]:
    """Reachable open cases contacted before the cut-off, unpaid since, with no visit since the contact."""
    sql = (
        "SELECT c.id FROM collection_case c WHERE c.contact_state = 'reachable' AND c.status = 'open' "  # noqa: S608
        "AND c.last_contact_at IS NOT NULL AND c.last_contact_at <= {} "
        "AND (c.last_payment_at IS NULL OR c.last_payment_at < c.last_contact_at) "
        f"AND NOT EXISTS ({_OPEN_VISIT}) "
        'AND NOT EXISTS (SELECT 1 FROM visit v WHERE v."case" = c.id AND v.requested_at >= c.last_contact_at) '
        "LIMIT {}"
    )
    rows = await Case.raw(sql, contacted_before, limit)
    return [UUID(str(r["id"])) for r in rows]


async def cases_needing_tracing_visit(quiet_since: datetime, limit: int) -> list[UUID]:
    """Lost-contact open cases with no open visit and none requested since ``quiet_since``."""
    sql = (
        "SELECT c.id FROM collection_case c WHERE c.contact_state = 'lost' AND c.status = 'open' "  # noqa: S608
        f"AND NOT EXISTS ({_OPEN_VISIT}) "
        'AND NOT EXISTS (SELECT 1 FROM visit v WHERE v."case" = c.id AND v.requested_at >= {}) '
        "LIMIT {}"
    )
    rows = await Case.raw(sql, quiet_since, limit)
    return [UUID(str(r["id"])) for r in rows]
