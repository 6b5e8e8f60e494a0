"""Use cases on the core records: reading cases and visits, changing a visit or a case's status
(each change versioned, written to the timeline or the case feed). Never commits."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from api.cases import repository as repo
from api.cases import schemas
from api.cases.access import VisitScope, can_read
from api.cases.errors import AddressNotFound, CaseNotFound, VisitNotFound
from api.cases.rules import money
from api.cases.tables import Case, CaseEvent, Visit
from api.db import current_unit_of_work, is_sqlite, json_value
from api.errors import NotYourData
from api.people.roles import Principal, Role
from api.queue.runner import defer
from sync import changes
from sync.deferred import defer_call, on_flush
from sync.feed import Cursor, order_column, sequence_shared, window
from sync.tables import SyncChange

Row = dict[str, Any]


def to_case(row: Row) -> schemas.Case:
    """Wire form of a case row."""
    return schemas.Case(
        id=row["id"],
        source=row["source"],
        external_ref=row["external_ref"],
        debtor_name=row["debtor_name"],
        national_id_last4=row["national_id_last4"],
        amount_owed=money(row["amount_owed"]),
        currency=row["currency"],
        days_past_due=row["days_past_due"],
        stage=row["stage"],
        status=row["status"],
        contact_state=row["contact_state"],
        team_id=row["team"],
        legal_flag=bool(row["legal_flag"]),
        pending_confirmation=row["pending_confirmation"],
        version=row["version"],
        updated_at=row["updated_at"],
    )


def to_address(row: Row) -> schemas.Address:
    """Wire form of an address row."""
    return schemas.Address(
        id=row["id"],
        kind=row["kind"],
        text=row["text"],
        lat=row["lat"],
        lon=row["lon"],
        timezone=row["timezone"],
        valid=bool(row["valid"]),
        invalid_reason=row["invalid_reason"],
        origin=row["origin"],
    )


def to_visit(row: Row) -> schemas.Visit:
    """Wire form of a visit row."""
    return schemas.Visit(
        id=row["id"],
        case_id=row["case"],
        address_id=row["address"],
        team_id=row["team"],
        type=row["type"],
        status=row["status"],
        origin=row["origin"],
        requested_at=row["requested_at"],
        due_date=row["due_date"],
        assigned_to=row["assigned_to"],
        partner_id=row["partner"],
        priority=row["priority"],
        attempt=row["attempt"],
        outcome=row["outcome"],
        outcome_at=row["outcome_at"],
        checked_in_at=row["checked_in_at"],
        completed_at=row["completed_at"],
        cancel_reason=row["cancel_reason"],
        stop_order=row["stop_order"],
        eta=row["eta"],
        plan_id=row["plan_id"],
        version=row["version"],
    )


def _json(value: Any) -> dict[str, Any]:
    return dict(json_value(value, {}))


def to_entry(row: Row) -> schemas.TimelineEntry:
    """Wire form of a timeline row."""
    return schemas.TimelineEntry(
        id=row["id"],
        visit_id=row["visit"],
        at=row["at"],
        kind=row["kind"],
        actor_id=row["actor"],
        device_id=row["device"],
        data=_json(row["data"]),
    )


def to_flag(row: Row) -> schemas.Flag:
    """Wire form of a flag row."""
    return schemas.Flag(
        id=row["id"],
        visit_id=row["visit"],
        case_id=row["case"],
        kind=row["kind"],
        detail=row["detail"],
        raised_at=row["raised_at"],
    )


def scope_of(visit: Row) -> VisitScope:
    """The ownership facts of a visit row."""
    return VisitScope(
        visit_id=visit["id"],
        case_id=visit["case"],
        team_id=visit["team"],
        assigned_to=visit["assigned_to"],
        partner_id=visit["partner"],
        status=visit["status"],
    )


# --- reading ---------------------------------------------------------------------------------


async def get_case_or_raise(case_id: UUID, *, for_update: bool = False) -> Row:
    """A case row."""
    row = await repo.get_case(case_id, for_update=for_update)
    if row is None:
        raise CaseNotFound(f"no case with id {case_id}")
    return row


async def get_visit_or_raise(visit_id: UUID, *, for_update: bool = False) -> Row:
    """A visit row."""
    row = await repo.get_visit(visit_id, for_update=for_update)
    if row is None:
        raise VisitNotFound(f"no visit with id {visit_id}")
    return row


async def get_address_or_raise(address_id: UUID) -> Row:
    """An address row."""
    row = await repo.get_address(address_id)
    if row is None:
        raise AddressNotFound(f"no address with id {address_id}")
    return row


def ensure_case_visible(viewer: Principal, case: Row) -> None:
    """Staff of the case's team (and legal, admins) may read a case; collectors use sync."""
    if viewer.role in (Role.ADMIN, Role.LEGAL):
        return
    if viewer.role is Role.COLLECTOR or not viewer.manages_team(case["team"]):
        raise NotYourData("this case belongs to another team")


def team_filter(viewer: Principal, requested: UUID | None) -> UUID | None:
    """The team a list is limited to: any for admins and legal, the own team for managers."""
    if viewer.role in (Role.ADMIN, Role.LEGAL):
        return requested
    if requested is not None and requested != viewer.team_id:
        raise NotYourData("you can list only your own team")
    return viewer.team_id


async def list_cases(
    viewer: Principal, team_id: UUID | None, status: str | None, stage: str | None, limit: int, offset: int
) -> list[Row]:
    """Cases the viewer may list."""
    return await repo.list_cases(
        team_id=team_filter(viewer, team_id), status=status, stage=stage, limit=limit, offset=offset
    )


async def case_detail(case_id: UUID, viewer: Principal) -> schemas.CaseDetail:
    """A case with its addresses, visits, timeline and flags."""
    case = await get_case_or_raise(case_id)
    ensure_case_visible(viewer, case)
    addresses = await repo.list_addresses(case_id)
    visits = await repo.list_visits(
        team_id=None,
        status=None,
        collector_id=None,
        due_before=None,
        due_after=None,
        overdue_on=None,
        case_id=case_id,
        limit=1000,
        offset=0,
    )
    return schemas.CaseDetail(
        case=to_case(case),
        phones=list(json_value(case["phones"], [])),
        addresses=[to_address(a) for a in addresses],
        visits=[to_visit(v) for v in visits],
        timeline=[to_entry(e) for e in await repo.list_visit_events(case_id=case_id)],
        flags=[to_flag(f) for f in await repo.list_flags(case_id=case_id)],
    )


async def visit_detail(visit_id: UUID, viewer: Principal) -> schemas.VisitDetail:
    """A visit the viewer may read, with its address, timeline and flags."""
    visit = await get_visit_or_raise(visit_id)
    if not can_read(viewer, scope_of(visit)):
        raise NotYourData("this visit is not yours to read")
    address = await get_address_or_raise(visit["address"])
    return schemas.VisitDetail(
        visit=to_visit(visit),
        address=to_address(address),
        timeline=[to_entry(e) for e in await repo.list_visit_events(visit_id=visit_id)],
        flags=[to_flag(f) for f in await repo.list_flags(visit_id=visit_id)],
    )


# --- changing --------------------------------------------------------------------------------


async def change_visit(
    visit: Row,
    values: dict[Any, Any],
    kind: str,
    *,
    actor: UUID | None,
    device: UUID | None = None,
    data: Row | None = None,
) -> int:
    """Write a visit change: new version, an entry in its timeline (naming the fields changed, so a
    device's stale edit can be checked for overlap), and the change in the collectors' sync feeds.
    Returns the new version."""
    version = await repo.update_visit(visit["id"], values)
    fields = sorted(column._meta.name for column in values)
    event = {"version": version, "fields": fields, **(data or {})}
    await repo.add_visit_event(visit["id"], visit["case"], kind, actor, device, event)
    await changes.append_many(visit_feed_rows(visit, values, kind))
    feed_written(SyncChange)
    return version


_REMOVAL_REASONS = {"cancelled_case_closed": "closed", "cancelled_address_invalid": "cancelled"}


def visit_feed_rows(visit: Row, values: dict[Any, Any], kind: str) -> list[tuple[UUID, str, UUID, str, str]]:
    """What a visit change means for each collector's feed: who gains it, who keeps it, who loses it."""
    before = {visit["assigned_to"], visit["partner"]} - {None}
    after = {values.get(Visit.assigned_to, visit["assigned_to"]), values.get(Visit.partner, visit["partner"])} - {None}
    status = values.get(Visit.status, visit["status"])
    rows = [
        (user, "visit", visit["id"], changes.REMOVE, "unassigned" if not after else "reassigned")
        for user in before - after
    ]
    if status == "cancelled":
        reason = _REMOVAL_REASONS.get(kind, "cancelled")
        rows += [(user, "visit", visit["id"], changes.REMOVE, reason) for user in after]
    else:
        rows += [(user, "visit", visit["id"], changes.UPSERT, kind) for user in after]
    return rows


async def publish_case_change(case_id: UUID, reason: str) -> None:
    """The door data of a case changed (amounts, phones, status, outcomes): its open visits' collectors
    re-pull. In a sync push the visits of every case it changed are read once, when its feed rows are
    written (``sync.deferred``): the visits open at the end of the push, which is what a pull shows."""
    feed_written(SyncChange)
    if not defer_call(SyncChange, _PUBLISH, (case_id, reason)):
        await _publish_case_changes([(case_id, reason)])


async def _publish_case_changes(items: list[tuple[UUID, str]]) -> None:
    items = list(dict.fromkeys(items))  # the same change twice is one
    visits: dict[str, list[Row]] = {}  # by the case id as text (SQLite gives ids as text)
    for visit in await repo.open_visits_of_cases(list(dict.fromkeys(case for case, _ in items))):
        visits.setdefault(str(visit["case"]), []).append(visit)
    rows = [
        (user, "visit", visit["id"], changes.UPSERT, reason)
        for case, reason in items
        for visit in visits.get(str(case), [])
        for user in {visit["assigned_to"], visit["partner"]} - {None}
    ]
    await changes.append_many(rows)


_PUBLISH = "cases.publish_case_change"
on_flush(_PUBLISH, SyncChange, _publish_case_changes)


def feed_written(table: type[SyncChange] | type[CaseEvent]) -> None:
    """Feed rows were written in this transaction: number them as soon as it commits (PostgreSQL), so
    they are readable by the time the request answers. See ``sync.feed``."""
    uow = current_unit_of_work()
    if uow is None or is_sqlite():
        return
    tables: set[type[SyncChange] | type[CaseEvent]] = uow.values.setdefault("feeds written", set())
    tables.add(table)
    uow.once("sequence feeds", lambda: sequence_quietly(tables))


async def sequence_quietly(tables: set[type[SyncChange] | type[CaseEvent]]) -> None:
    """Number the rows this transaction wrote to the feeds, each feed in a pass shared with the other
    writers of this process (``sync.feed.sequence_shared``), the feeds at once. A failed pass is
    repaired by the next read of the feed and by the periodic job."""
    await asyncio.gather(*(sequence_shared(table) for table in tables))


def fields_changed_since(events: list[Row], base_version: int) -> set[str]:
    """The visit fields the server changed after ``base_version`` (from the timeline)."""
    changed: set[str] = set()
    for event in events:
        data = json_value(event["data"], {})
        if int(data.get("version", 0)) > base_version:
            changed.update(data.get("fields", []))
    return changed


async def record_visit_event(
    visit: Row, kind: str, *, actor: UUID | None, device: UUID | None = None, data: Row | None = None
) -> None:
    """Write a timeline entry that does not change the visit record itself."""
    await repo.add_visit_event(visit["id"], visit["case"], kind, actor, device, data or {})


async def set_case_status(
    case: Row,
    status: str,
    reason: str,
    *,
    visit_id: UUID | None = None,
    values: dict[Any, Any] | None = None,
    data: Row | None = None,
) -> None:
    """Change a case's fields; a status change also goes to the case feed and its webhooks."""
    await repo.update_case(case["id"], {Case.status: status, **(values or {})})
    await publish_case_change(case["id"], reason)
    if status != case["status"]:
        # The case version orders a case's events for consumers: events of one case written by
        # concurrent transactions may reach the feed out of order (see sync.feed), versions never are.
        event_data = {**(data or {}), "case_version": case["version"] + 1}
        event_id = await repo.add_case_event(
            case["id"], case["source_ref"], case["status"], status, reason, visit_id, event_data
        )
        feed_written(CaseEvent)
        await defer("webhooks.fan_out", event_id)


async def case_feed(cursor_text: str | None, limit: int, viewer: Principal) -> schemas.CaseEventPage:
    """A page of case status changes after ``cursor``: never skips a late commit, never repeats."""
    cursor = Cursor.decode(cursor_text)
    team_id = None if viewer.role is Role.ADMIN else viewer.team_id
    postgres = not is_sqlite()
    if postgres:
        await sequence_shared(CaseEvent)  # cheap when there is nothing to number
    sql, args = window(cursor, postgres=postgres)
    rows = await repo.list_case_events_after(sql, args, order_column(postgres), limit + 1, team_id)
    has_more = len(rows) > limit
    rows = rows[:limit]
    if rows:
        cursor = Cursor(int(rows[-1]["seq"]))
    events = [
        schemas.CaseEvent(
            id=r["id"],
            case_id=r["case"],
            source_ref=r["source_ref"],
            at=r["at"],
            from_status=r["from_status"],
            to_status=r["to_status"],
            reason=r["reason"],
            visit_id=r["visit"],
            data=_json(r["data"]),
        )
        for r in rows
    ]
    return schemas.CaseEventPage(events=events, cursor=cursor.encode(), has_more=has_more)
