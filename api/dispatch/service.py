"""Visit requests and dispatch: request, assign, reassign, unassign, cancel. Never commits.

Every change bumps the visit's version and writes its timeline (``cases.service.change_visit``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from api.cases import repository as cases_repo
from api.cases import schemas as case_schemas
from api.cases import service as cases
from api.cases.access import can_dispatch
from api.cases.errors import AddressMarkedInvalid, AddressNotOfCase, CaseNotCollectable, NoValidAddress
from api.cases.tables import Visit
from api.db import savepoint
from api.dispatch import schemas
from api.dispatch.errors import CollectorNotInTeam, IllegalVisitTransition, StaleVisitVersion
from api.dispatch.visit_states import VisitStatus, VisitType, can_move
from api.errors import ErrorBody, NotYourData, error_bases
from api.outcomes.case_states import FINAL, PAUSED, CaseStatus
from api.people import repository as people_repo
from api.people.roles import Principal, Role
from api.settings import get_settings

Row = dict[str, Any]
_KIND_ORDER = {"home": 0, "work": 1, "registered": 2, "other": 3}


def ensure_collectable(case: Row) -> None:
    """Refuse visits to cases that are final or paused."""
    status = CaseStatus(case["status"])
    if status in FINAL or status in PAUSED:
        raise CaseNotCollectable(f"the case is {status.value}")


async def best_address(case_id: UUID) -> Row:
    """The valid address to visit: home, then work, registered, other; with coordinates first."""
    addresses = [a for a in await cases_repo.list_addresses(case_id) if a["valid"]]
    if not addresses:
        raise NoValidAddress(f"case {case_id} has no valid address")
    return min(addresses, key=lambda a: (a["lat"] is None, _KIND_ORDER.get(a["kind"], 9), str(a["created_at"])))


async def _visit_address(case_id: UUID, address_id: UUID | None) -> Row:
    if address_id is None:
        return await best_address(case_id)
    address = await cases.get_address_or_raise(address_id)
    if address["case"] != case_id:
        raise AddressNotOfCase(f"address {address_id} belongs to another case")
    if not address["valid"]:
        raise AddressMarkedInvalid(f"address {address_id} was found invalid: {address['invalid_reason']}")
    return address


async def ensure_collector_of_team(user_id: UUID, team_id: UUID | None) -> None:
    """Visits go only to collectors of the visit's team."""
    user = await people_repo.get_user(user_id, cached=True)
    if user is None or user["role"] != Role.COLLECTOR.value or user["team"] != team_id or not user["active"]:
        raise CollectorNotInTeam(f"user {user_id} is not an active collector of the visit's team")


async def request_visit(data: schemas.VisitCreate, actor: Principal | None, *, origin: str = "dispatcher") -> Row:
    """Create a visit for a case (dispatchers of its team, or the system's own rules with no actor)."""
    case = await cases.get_case_or_raise(data.case_id, for_update=True)
    if actor is not None and not actor.manages_team(case["team"]):
        raise NotYourData("this case belongs to another team")
    ensure_collectable(case)
    address = await _visit_address(case["id"], data.address_id)
    settings = get_settings()
    due = data.due_date or date.today() + timedelta(days=settings.compliance.visit_due_days)
    attempt = await cases_repo.count_visits_of_case(case["id"]) + 1
    if data.assign_to is not None:  # checked before anything is written: a refusal leaves nothing to undo
        await ensure_collector_of_team(data.assign_to, case["team"])
        if data.partner_id is not None:
            await ensure_collector_of_team(data.partner_id, case["team"])
    values: Row = {
        "case": case["id"],
        "address": address["id"],
        "team": case["team"],
        "type": data.type.value,
        "status": VisitStatus.REQUESTED.value,
        "origin": origin,
        "due_date": due,
        "priority": data.priority,
        "attempt": attempt,
        "appointment_start": data.appointment_start,
        "appointment_end": data.appointment_end,
    }
    visit = await cases_repo.create_visit(values)
    visit_id = visit["id"]
    actor_id = actor.user_id if actor else None
    await cases.record_visit_event(visit, "requested", actor=actor_id, data={"origin": origin, "type": data.type.value})
    if data.assign_to is not None:
        await assign(visit, data.assign_to, data.partner_id, actor_id)
        visit = await cases.get_visit_or_raise(visit_id)
    return visit


async def assign(
    visit: Row, collector_id: UUID, partner_id: UUID | None, actor_id: UUID | None, *, reassign_only: bool = False
) -> int:
    """Assign a visit to a collector of its team (a reassignment when it already had one)."""
    status = VisitStatus(visit["status"])
    if reassign_only and status is not VisitStatus.ASSIGNED:
        raise IllegalVisitTransition(f"only an assigned visit can be reassigned; this one is {status.value}")
    if status not in (VisitStatus.REQUESTED, VisitStatus.ASSIGNED):
        raise IllegalVisitTransition(f"a {status.value} visit cannot be (re)assigned")
    await ensure_collector_of_team(collector_id, visit["team"])
    if partner_id is not None:
        await ensure_collector_of_team(partner_id, visit["team"])
    previous = visit["assigned_to"]
    kind = "reassigned" if previous is not None and previous != collector_id else "assigned"
    return await cases.change_visit(
        visit,
        {Visit.status: VisitStatus.ASSIGNED.value, Visit.assigned_to: collector_id, Visit.partner: partner_id},
        kind,
        actor=actor_id,
        data={"from": str(previous) if previous else None, "to": str(collector_id)},
    )


async def unassign(visit: Row, actor_id: UUID | None) -> int:
    """Take a visit back from its collector."""
    if not can_move(VisitStatus(visit["status"]), VisitStatus.REQUESTED):
        raise IllegalVisitTransition(f"a {visit['status']} visit cannot be unassigned")
    return await cases.change_visit(
        visit,
        {Visit.status: VisitStatus.REQUESTED.value, Visit.assigned_to: None, Visit.partner: None},
        "unassigned",
        actor=actor_id,
        data={"from": str(visit["assigned_to"])},
    )


async def cancel(visit: Row, reason: str, actor_id: UUID | None, *, kind: str = "cancelled") -> int:
    """Cancel an open visit (what a device did offline on it is kept by the sync engine)."""
    if not can_move(VisitStatus(visit["status"]), VisitStatus.CANCELLED):
        raise IllegalVisitTransition(f"a {visit['status']} visit cannot be cancelled")
    return await cases.change_visit(
        visit,
        {Visit.status: VisitStatus.CANCELLED.value, Visit.cancel_reason: reason or kind},
        kind,
        actor=actor_id,
        data={"reason": reason},
    )


async def _apply(action: schemas.DispatchAction, actor: Principal) -> int:
    visit = await cases.get_visit_or_raise(action.visit_id, for_update=True)
    if not can_dispatch(actor, cases.scope_of(visit)):
        raise NotYourData("this visit belongs to another team")
    if action.base_version is not None and action.base_version != visit["version"]:
        raise StaleVisitVersion(f"visit is at version {visit['version']}, not {action.base_version}")
    if action.action in ("assign", "reassign"):
        if action.collector_id is None:
            raise CollectorNotInTeam("assign needs collector_id")
        return await assign(
            visit, action.collector_id, action.partner_id, actor.user_id, reassign_only=action.action == "reassign"
        )
    if action.action == "unassign":
        return await unassign(visit, actor.user_id)
    return await cancel(visit, action.reason, actor.user_id)


async def dispatch(request: schemas.DispatchRequest, actor: Principal) -> schemas.DispatchResponse:
    """Apply many dispatch actions; each one succeeds or fails on its own (savepoints)."""
    results: list[schemas.DispatchResult] = []
    for action in request.actions:
        try:
            async with savepoint():
                version = await _apply(action, actor)
        except error_bases() as exc:
            error = ErrorBody(error=type(exc).__name__, code=str(getattr(exc, "code", "")), detail=str(exc))
            results.append(schemas.DispatchResult(visit_id=action.visit_id, ok=False, error=error))
            continue
        visit = await cases.get_visit_or_raise(action.visit_id)
        results.append(
            schemas.DispatchResult(visit_id=action.visit_id, ok=True, version=version, status=visit["status"])
        )
    return schemas.DispatchResponse(results=results)


async def list_visits(
    viewer: Principal,
    *,
    status: str | None,
    team_id: UUID | None,
    collector_id: UUID | None,
    due_before: date | None,
    due_after: date | None,
    overdue: bool,
    case_id: UUID | None,
    limit: int,
    offset: int,
) -> list[case_schemas.Visit]:
    """Visits the viewer may list (their team's; all for admins and legal)."""
    rows = await cases_repo.list_visits(
        team_id=cases.team_filter(viewer, team_id),
        status=status,
        collector_id=collector_id,
        due_before=due_before,
        due_after=due_after,
        overdue_on=date.today() if overdue else None,
        case_id=case_id,
        limit=limit,
        offset=offset,
    )
    return [cases.to_visit(r) for r in rows]


async def raise_follow_up_visit(
    visit: Row,
    *,
    origin: str,
    type: VisitType | None = None,
    address_id: UUID | None = None,
    keep_collector: bool = True,
) -> Row | None:
    """A follow-up visit after an outcome (revisit, tracing at a new address, broken promise)."""
    data = schemas.VisitCreate(
        case_id=visit["case"],
        type=type or VisitType(visit["type"]),
        address_id=address_id,
        assign_to=visit["assigned_to"] if keep_collector else None,
    )
    try:  # request_visit refuses before it writes anything: no savepoint needed
        try:
            return await request_visit(data, None, origin=origin)
        except CollectorNotInTeam:  # the collector left the team: the follow-up waits for dispatch
            return await request_visit(msgspec.structs.replace(data, assign_to=None), None, origin=origin)
    except (NoValidAddress, CaseNotCollectable):
        return None  # nothing to visit any more; the case status tells the story


class RouteEntry(msgspec.Struct, frozen=True):
    """Where a published route puts a visit: its collector, its place in the day and its ETA.

    ``collector_id`` None takes the visit off any route (its assignment stays).
    """

    visit_id: UUID
    collector_id: UUID | None
    stop_order: int | None = None
    eta: datetime | None = None


class RouteOutcome(msgspec.Struct, frozen=True):
    """What writing a route did to one visit: routed | unchanged | cleared | skipped."""

    visit_id: UUID
    result: str
    detail: str = ""
    version: int | None = None


async def _route_one(entry: RouteEntry, plan_id: UUID, actor_id: UUID | None) -> RouteOutcome:
    visit = await cases.get_visit_or_raise(entry.visit_id, for_update=True)
    status = VisitStatus(visit["status"])
    if status not in (VisitStatus.REQUESTED, VisitStatus.ASSIGNED):
        return RouteOutcome(entry.visit_id, "skipped", f"the visit is {status.value}")
    if entry.collector_id is None:
        if visit["stop_order"] is None and visit["eta"] is None:
            return RouteOutcome(entry.visit_id, "unchanged", version=visit["version"])
        values: dict[Any, Any] = {Visit.stop_order: None, Visit.eta: None, Visit.plan_id: None}
        version = await cases.change_visit(visit, values, "unrouted", actor=actor_id, data={"plan_id": str(plan_id)})
        return RouteOutcome(entry.visit_id, "cleared", version=version)
    moved = visit["assigned_to"] != entry.collector_id
    if moved:
        await assign(visit, entry.collector_id, None, actor_id)
        visit = await cases.get_visit_or_raise(entry.visit_id, for_update=True)
    if not moved and (visit["stop_order"], visit["eta"]) == (entry.stop_order, entry.eta):
        return RouteOutcome(entry.visit_id, "unchanged", version=visit["version"])
    values = {Visit.stop_order: entry.stop_order, Visit.eta: entry.eta, Visit.plan_id: plan_id}
    data: Row = {
        "plan_id": str(plan_id),
        "stop_order": entry.stop_order,
        "eta": entry.eta.isoformat() if entry.eta else None,
    }
    version = await cases.change_visit(visit, values, "routed", actor=actor_id, data=data)
    return RouteOutcome(entry.visit_id, "routed", version=version)


async def route_visits(entries: list[RouteEntry], plan_id: UUID, actor_id: UUID | None) -> list[RouteOutcome]:
    """Write a published route plan onto visits: assignment, stop order and ETA (the sync pull carries them).

    Each visit changes on its own (a savepoint): one refused visit (closed, checked in, collector no
    longer in the team) is reported and skipped, never blocking the rest. A visit whose route did not
    change keeps its version, so re-publishing or re-planning elsewhere causes no sync traffic for it.
    """
    outcomes: list[RouteOutcome] = []
    for entry in entries:
        try:
            async with savepoint():
                outcomes.append(await _route_one(entry, plan_id, actor_id))
        except error_bases() as exc:
            outcomes.append(RouteOutcome(entry.visit_id, "skipped", f"{type(exc).__name__}: {exc}"))
    return outcomes
