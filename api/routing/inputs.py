"""What a plan computation reads: the application's rows turned into the engine's plain values."""

from __future__ import annotations

from datetime import date, time
from typing import Any
from uuid import UUID

import msgspec

from api.routing import repository as repo
from api.routing import schemas
from api.routing.schemas import SkippedCollector
from api.settings import Settings, get_settings
from routing.errors import PlanNotFound
from routing.model import Collector, LegalWindow, Plan, PlanOptions, Reason, Unplaced, Visit
from routing.priority import visit_priority
from routing.replan import region_contains

Row = dict[str, Any]


class StoredPlan(msgspec.Struct):
    """What a plan row's body holds."""

    plan: Plan
    skipped_collectors: list[SkippedCollector] = []


class PlanInput(msgspec.Struct):
    """Everything a plan computation needs, read in one transaction."""

    visits: list[Visit]
    collectors: list[Collector]
    day: date
    exploration_level: int
    cluster_radius_m: float
    not_located: list[Unplaced] = []
    skipped: list[SkippedCollector] = []
    parent: Plan | None = None
    region_id: str = ""


SERVICE_S = {"pressure": 15 * 60, "tracing": 10 * 60}
DEFAULT_SERVICE_S = 12 * 60


def minutes_to_time(value: int) -> time:
    """A local time from minutes after midnight."""
    return time(value // 60 % 24, value % 60)


def collector_of(profile: Row) -> Collector:
    """An engine collector from a stored profile."""
    return Collector(
        id=str(profile["user_id"]),
        start_lat=profile["home_lat"],
        start_lon=profile["home_lon"],
        end_lat=profile["end_lat"],
        end_lon=profile["end_lon"],
        timezone=profile["timezone"],
        shift_start=minutes_to_time(profile["shift_start_min"]),
        shift_end=minutes_to_time(profile["shift_end_min"]),
        capacity=profile["capacity"],
    )


def visit_of(row: Row, day: date, promise_due: bool, default_tz: str, pin: UUID | None) -> Visit:
    """An engine visit from a visit row joined with its address and case."""
    priority = visit_priority(
        float(row["amount_owed"] or 0),
        int(row["days_past_due"] or 0),
        promise_due,
        (row["due_date"] - day).days,
        int(row["priority"] or 0),
    )
    return Visit(
        id=str(row["id"]),
        lat=float(row["lat"]),
        lon=float(row["lon"]),
        timezone=row["timezone"] or default_tz,
        service_s=SERVICE_S.get(str(row.get("type", "")), DEFAULT_SERVICE_S),
        priority=priority,
        address_key=row["normalised"] or None,
        window_start=row["appointment_start"],
        window_end=row["appointment_end"],
        collector_id=str(pin) if pin else None,
    )


def not_located(row: Row) -> Unplaced | None:
    """An unplaced entry for a visit whose address cannot be routed, else None."""
    if not row["address_valid"]:
        return Unplaced(str(row["id"]), Reason.ADDRESS_NOT_LOCATED, "the address was marked invalid")
    if row["lat"] is None or row["lon"] is None:
        return Unplaced(str(row["id"]), Reason.ADDRESS_NOT_LOCATED, "the address has no coordinates")
    return None


def options_for(day: date, settings: Settings, exploration_level: int, cluster_radius_m: float) -> PlanOptions:
    """Plan options from the compliance settings and the request."""
    compliance = settings.compliance
    window = LegalWindow(compliance.visit_window_start_hour * 60, compliance.visit_window_end_hour * 60)
    return PlanOptions(
        day=day, legal_window=window, exploration_level=exploration_level, cluster_radius_m=cluster_radius_m
    )


async def collectors_of(team_id: UUID, wanted: list[UUID] | None) -> tuple[list[Collector], list[SkippedCollector]]:
    """Engine collectors of a team (or the given ones); collectors without a profile are skipped."""
    ids = wanted if wanted is not None else [UUID(str(u["id"])) for u in await repo.list_team_collectors(team_id)]
    profiles = {UUID(str(p["user_id"])): p for p in await repo.list_profiles(ids)}
    skipped = [
        SkippedCollector(i, "no collector profile (home base, shift, capacity)") for i in ids if i not in profiles
    ]
    return [collector_of(profiles[i]) for i in sorted(ids, key=str) if i in profiles], skipped


async def visits_of(rows: list[Row], day: date, pins: dict[UUID, UUID]) -> tuple[list[Visit], list[Unplaced]]:
    """Engine visits from visit rows; visits without usable coordinates come back as unplaced."""
    promised = await repo.cases_with_promise_due([UUID(str(r["case_id"])) for r in rows], day)
    default_tz = get_settings().compliance.default_timezone
    visits: list[Visit] = []
    unplaced: list[Unplaced] = []
    for row in rows:
        missing = not_located(row)
        if missing is not None:
            unplaced.append(missing)
            continue
        pin = pins.get(UUID(str(row["id"])))
        visits.append(visit_of(row, day, UUID(str(row["case_id"])) in promised, default_tz, pin))
    return visits, unplaced


async def plan_input(plan_id: UUID) -> PlanInput | None:
    """Claim a pending plan and read what computing it needs; None when it is not pending."""
    if not await repo.claim_plan(plan_id):
        return None
    row = await repo.get_plan(plan_id)
    assert row is not None
    if row["parent"] is not None:
        return await replan_input(row)
    request = msgspec.json.decode(row["request"], type=schemas.PlanCreate)
    collectors, skipped = await collectors_of(row["team_id"], request.collector_ids)
    if request.visit_ids is not None:
        rows = [r for r in await repo.list_visits_by_id(request.visit_ids) if r["team"] == row["team_id"]]
        rows = [r for r in rows if r["status"] in repo.PLANNABLE]
    else:
        rows = await repo.list_open_visits(row["team_id"], request.due_by)
    planned = {c.id for c in collectors}
    pins: dict[UUID, UUID] = {}
    if request.keep_assignments:
        # Visits assigned to someone outside this plan stay theirs: they are not planned here.
        rows = [r for r in rows if r["assigned_to"] is None or str(r["assigned_to"]) in planned]
        pins = {UUID(str(r["id"])): UUID(str(r["assigned_to"])) for r in rows if r["assigned_to"] is not None}
    visits, not_located = await visits_of(rows, row["day"], pins)
    return PlanInput(
        visits, collectors, row["day"], request.exploration_level, request.cluster_radius_m, not_located, skipped
    )


class ReplanRequest(msgspec.Struct):
    """What a re-plan row's request holds."""

    collector_id: UUID | None
    region_id: str | None
    add_visit_ids: list[UUID]
    keep_assignments: bool
    exploration_level: int
    cluster_radius_m: float


def _collector_scope(request: ReplanRequest, parent: Plan, rows: list[Row]) -> tuple[list[Row], list[str], str]:
    cid = str(request.collector_id)
    route = next((r for r in parent.routes if r.collector_id == cid), None)
    before = {v.visit_id for s in route.stops for v in s.visits} if route else set()
    chosen = [
        r for r in rows if (str(r["id"]) in before and r["assigned_to"] is None) or str(r["assigned_to"] or "") == cid
    ]
    region_id = route.region_id if route else next((g.id for g in parent.regions if cid in g.collector_ids), "")
    return chosen, [cid], region_id


def _region_scope(request: ReplanRequest, parent: Plan, rows: list[Row]) -> tuple[list[Row], list[str], str]:
    region = next(g for g in parent.regions if g.id == request.region_id)
    members = set(region.collector_ids)
    routed = {v.visit_id: r.collector_id for r in parent.routes for s in r.stops for v in s.visits}
    chosen = []
    for row in rows:
        vid, assigned = str(row["id"]), str(row["assigned_to"]) if row["assigned_to"] else None
        if assigned is not None and assigned not in members and request.keep_assignments:
            continue  # someone else's now
        if vid in routed:
            inside = routed[vid] in members
        elif row["lat"] is not None and row["lon"] is not None:
            inside = region_contains(region, float(row["lat"]), float(row["lon"])) or assigned in members
        else:
            inside = assigned in members
        if inside:
            chosen.append(row)
    return chosen, sorted(members), region.id


async def replan_input(row: Row) -> PlanInput:
    """The input of a re-plan: the scope's collectors and what they should do now."""
    request = msgspec.json.decode(row["request"], type=ReplanRequest)
    parent_row = await repo.get_plan(row["parent"])
    if parent_row is None or not parent_row["body"]:
        raise PlanNotFound(f"the plan {row['parent']} this re-plan starts from has no computed plan")
    parent = msgspec.json.decode(parent_row["body"], type=StoredPlan).plan
    rows = await repo.list_open_visits(row["team_id"], None)
    known = {str(r["id"]) for r in rows}
    extra = [r for r in await repo.list_visits_by_id(request.add_visit_ids) if str(r["id"]) not in known]
    rows += [r for r in extra if r["team"] == row["team_id"] and r["status"] in repo.PLANNABLE]
    scope = _collector_scope if request.collector_id is not None else _region_scope
    chosen, collector_ids, region_id = scope(request, parent, rows)
    added = {str(v) for v in request.add_visit_ids}
    chosen += [r for r in rows if str(r["id"]) in added and r not in chosen]
    collectors, skipped = await collectors_of(row["team_id"], [UUID(c) for c in collector_ids])
    ids = {c.id for c in collectors}
    if request.collector_id is not None:
        pins = {UUID(str(r["id"])): request.collector_id for r in chosen}
    else:
        pins = {
            UUID(str(r["id"])): UUID(str(r["assigned_to"]))
            for r in chosen
            if request.keep_assignments and r["assigned_to"] is not None and str(r["assigned_to"]) in ids
        }
    visits, unlocated = await visits_of(chosen, row["day"], pins)
    return PlanInput(
        visits,
        collectors,
        row["day"],
        request.exploration_level,
        request.cluster_radius_m,
        unlocated,
        skipped,
        parent,
        region_id,
    )
