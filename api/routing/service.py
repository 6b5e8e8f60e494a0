"""Route planning use cases: request, compute (in a job), read, publish, re-plan, collector profiles.

Never commits: the route or the job opens the transaction. Computing a plan runs outside any
transaction (it can take minutes): the job reads its input in one transaction, solves, and stores
the plan in another.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any
from uuid import UUID

import msgspec

from api.dispatch.service import RouteEntry, route_visits
from api.errors import NotYourData
from api.people.roles import Principal, Role
from api.queue.runner import defer
from api.routing import inputs, schemas
from api.routing import repository as repo
from api.routing.inputs import PlanInput, StoredPlan
from api.routing.schemas import SkippedCollector
from api.settings import get_settings
from routing.errors import (
    CollectorProfileNotFound,
    InvalidPlanInput,
    PlanAlreadyPublished,
    PlanNotFound,
    PlanNotReady,
    PlanSuperseded,
    ReplanScopeUnknown,
    UnknownTimezone,
)
from routing.model import Plan
from routing.planner import plan_day
from routing.replan import replan_scope
from routing.tables import CollectorProfile
from routing.windows import zone

Row = dict[str, Any]
MAX_DAYS_AWAY = 366


def summary_of(row: Row, plan: Plan | None = None) -> schemas.PlanSummary:
    """The summary of a plan row."""
    return schemas.PlanSummary(
        id=row["id"],
        team_id=row["team_id"],
        day=row["day"],
        status=row["status"],
        parent_id=row["parent"],
        requested_by=row["requested_by"],
        created_at=row["created_at"],
        published_at=row["published_at"],
        error=row["error"],
        visits=plan.stats.visits if plan else None,
        placed_visits=plan.stats.placed_visits if plan else None,
        total_travel_s=plan.total_travel_s if plan else None,
    )


def stored(row: Row) -> StoredPlan | None:
    """The computed plan of a row, if there is one."""
    return msgspec.json.decode(row["body"], type=StoredPlan) if row["body"] else None


async def get_plan_or_raise(plan_id: UUID, viewer: Principal, *, for_update: bool = False) -> Row:
    """A plan of a team the viewer manages."""
    row = await repo.get_plan(plan_id, for_update=for_update)
    if row is None:
        raise PlanNotFound(f"no plan with id {plan_id}")
    if not viewer.manages_team(row["team_id"]):
        raise NotYourData("this plan belongs to another team")
    return row


async def ready_plan(plan_id: UUID, viewer: Principal) -> tuple[Row, StoredPlan]:
    """A computed plan (ready, published or superseded)."""
    row = await get_plan_or_raise(plan_id, viewer)
    body = stored(row)
    if body is None:
        raise PlanNotReady(f"the plan is {row['status']}" + (f": {row['error']}" if row["error"] else ""))
    return row, body


def _team_of(viewer: Principal, requested: UUID | None) -> UUID:
    team = requested or viewer.team_id
    if team is None:
        raise InvalidPlanInput("name the team to plan (team_id)")
    if not viewer.manages_team(team):
        raise NotYourData("you do not manage this team")
    return team


async def _check_collectors(team_id: UUID, collector_ids: list[UUID]) -> None:
    for user_id in collector_ids:
        user = await repo.get_user(user_id)
        if user is None or user["role"] != Role.COLLECTOR.value or user["team"] != team_id or not user["active"]:
            raise InvalidPlanInput(f"user {user_id} is not an active collector of the team")


async def request_plan(data: schemas.PlanCreate, viewer: Principal) -> schemas.PlanSummary:
    """Record a plan request and defer its computation (``routing.plan``)."""
    team_id = _team_of(viewer, data.team_id)
    if abs((data.day - date.today()).days) > MAX_DAYS_AWAY:
        raise InvalidPlanInput(f"plan days within {MAX_DAYS_AWAY} days of today, not {data.day}")
    await _check_collectors(team_id, data.collector_ids or [])
    request = msgspec.json.encode(msgspec.structs.replace(data, team_id=team_id)).decode()
    plan_id = await repo.create_plan(team_id, data.day, viewer.user_id, request, None)
    await defer("routing.plan", str(plan_id))
    row = await repo.get_plan(plan_id)
    assert row is not None
    return summary_of(row)


def compute(data: PlanInput) -> Plan:
    """Run the engine (blocking: call it in a worker thread)."""
    options = inputs.options_for(data.day, get_settings(), data.exploration_level, data.cluster_radius_m)
    if data.parent is not None:
        plan = replan_scope(data.parent, data.collectors, data.visits, options, data.region_id)
    else:
        plan = plan_day(data.visits, data.collectors, options)
    if data.not_located:
        plan = msgspec.structs.replace(
            plan, unplaced=sorted([*plan.unplaced, *data.not_located], key=lambda u: u.visit_id)
        )
    return plan


async def store_plan(plan_id: UUID, plan: Plan, skipped: list[SkippedCollector]) -> None:
    """Keep a computed plan."""
    body = msgspec.json.encode(StoredPlan(plan, skipped)).decode()
    await repo.set_plan_ready(plan_id, body)


async def fail_plan(plan_id: UUID, error: str) -> None:
    """Record why a plan could not be computed (bad input: retrying would not help)."""
    await repo.set_plan_failed(plan_id, error[:4000])


async def solve_in_thread(data: PlanInput) -> Plan:
    """Compute a plan without blocking the event loop."""
    return await asyncio.to_thread(compute, data)


async def plan_detail(plan_id: UUID, viewer: Principal) -> schemas.PlanDetail:
    """A plan with its routes once computed."""
    row = await get_plan_or_raise(plan_id, viewer)
    body = stored(row)
    return schemas.PlanDetail(
        summary=summary_of(row, body.plan if body else None),
        plan=body.plan if body else None,
        skipped_collectors=body.skipped_collectors if body else [],
    )


async def list_plans(
    viewer: Principal, team_id: UUID | None, day: date | None, limit: int
) -> list[schemas.PlanSummary]:
    """Plans of the viewer's team (any team for admins), newest first."""
    if viewer.role is not Role.ADMIN:
        if team_id is not None and not viewer.manages_team(team_id):
            raise NotYourData("you do not manage this team")
        team_id = viewer.team_id
    return [summary_of(row) for row in await repo.list_plans(team_id, day, limit)]


async def request_replan(plan_id: UUID, data: schemas.Replan, viewer: Principal) -> schemas.PlanSummary:
    """Record a re-plan of one collector or one region of a computed plan and defer it (``routing.plan``)."""
    row, body = await ready_plan(plan_id, viewer)
    if (data.collector_id is None) == (data.region_id is None):
        raise InvalidPlanInput("name exactly one of collector_id and region_id")
    plan = body.plan
    if data.collector_id is not None:
        known = {r.collector_id for r in plan.routes} | {c for g in plan.regions for c in g.collector_ids}
        if str(data.collector_id) not in known:
            raise ReplanScopeUnknown(f"collector {data.collector_id} has no place in this plan")
    elif data.region_id not in {g.id for g in plan.regions}:
        raise ReplanScopeUnknown(f"region {data.region_id!r} is not in this plan")
    parent_request = msgspec.json.decode(row["request"], type=_Knobs)
    request = inputs.ReplanRequest(
        collector_id=data.collector_id,
        region_id=data.region_id,
        add_visit_ids=data.add_visit_ids,
        keep_assignments=parent_request.keep_assignments,
        exploration_level=parent_request.exploration_level,
        cluster_radius_m=parent_request.cluster_radius_m,
    )
    new_id = await repo.create_plan(
        row["team_id"], row["day"], viewer.user_id, msgspec.json.encode(request).decode(), plan_id
    )
    await defer("routing.plan", str(new_id))
    new_row = await repo.get_plan(new_id)
    assert new_row is not None
    return summary_of(new_row)


class _Knobs(msgspec.Struct):
    """The planning knobs a re-plan inherits from the plan it starts from (plan or re-plan request)."""

    keep_assignments: bool = True
    exploration_level: int = 0
    cluster_radius_m: float = 50.0


def _route_entries(plan: Plan, baseline: Plan | None) -> list[RouteEntry]:
    entries: list[RouteEntry] = []
    for route in plan.routes:
        visits = [v for s in route.stops for v in s.visits]
        for order, visit in enumerate(visits, start=1):
            entries.append(RouteEntry(UUID(visit.visit_id), UUID(route.collector_id), order, visit.eta))
    if baseline is not None:
        routed = {e.visit_id for e in entries}
        gone = {UUID(v.visit_id) for r in baseline.routes for s in r.stops for v in s.visits} - routed
        entries += [RouteEntry(visit_id, None) for visit_id in sorted(gone, key=str)]
    return entries


async def publish(plan_id: UUID, viewer: Principal) -> schemas.PublishResult:
    """Write a ready plan onto its visits (collector, stop order, ETA) and supersede earlier plans of the day.

    Visits an earlier published plan (or the re-planned parent) had routed and this one does not
    are taken off their route. Each visit is written on its own through the dispatch service.
    """
    row = await get_plan_or_raise(plan_id, viewer, for_update=True)
    if row["status"] == "published":
        raise PlanAlreadyPublished(f"plan {plan_id} was published at {row['published_at']}")
    if row["status"] == "superseded":
        raise PlanSuperseded(f"plan {plan_id} was superseded by a later publication")
    body = stored(row)
    if row["status"] != "ready" or body is None:
        raise PlanNotReady(f"the plan is {row['status']}")
    baseline_row = await repo.get_plan(row["parent"]) if row["parent"] else None
    baseline_row = baseline_row or await repo.latest_published(row["team_id"], row["day"])
    baseline = stored(baseline_row) if baseline_row else None
    entries = _route_entries(body.plan, baseline.plan if baseline else None)
    outcomes = await route_visits(entries, plan_id, viewer.user_id)
    await repo.set_plan_published(plan_id, viewer.user_id)
    await repo.supersede_published(row["team_id"], row["day"], keep=plan_id)
    published = await repo.get_plan(plan_id)
    assert published is not None
    return schemas.PublishResult(
        summary=summary_of(published, body.plan),
        visits=[schemas.PublishedVisit(o.visit_id, o.result, o.detail, o.version) for o in outcomes],
    )


def _profile_out(user_id: UUID, row: Row) -> schemas.CollectorProfile:
    return schemas.CollectorProfile(
        user_id=user_id,
        home_lat=row["home_lat"],
        home_lon=row["home_lon"],
        end_lat=row["end_lat"],
        end_lon=row["end_lon"],
        timezone=row["timezone"],
        shift_start=inputs.minutes_to_time(row["shift_start_min"]),
        shift_end=inputs.minutes_to_time(row["shift_end_min"]),
        capacity=row["capacity"],
    )


async def _managed_collector(user_id: UUID, viewer: Principal) -> None:
    user = await repo.get_user(user_id)
    if user is None or user["role"] != Role.COLLECTOR.value:
        raise CollectorProfileNotFound(f"no collector with id {user_id}")
    if not viewer.manages_team(user["team"]):
        raise NotYourData("this collector belongs to another team")


async def save_profile(user_id: UUID, data: schemas.CollectorProfileIn, viewer: Principal) -> schemas.CollectorProfile:
    """Set a collector's home base, shift and capacity (a dispatcher of the collector's team)."""
    await _managed_collector(user_id, viewer)
    try:
        zone(data.timezone)
    except ValueError:
        raise UnknownTimezone(f"{data.timezone!r} is not a known IANA timezone") from None
    if (data.end_lat is None) != (data.end_lon is None):
        raise InvalidPlanInput("give both end_lat and end_lon, or neither")
    values = {
        CollectorProfile.home_lat: data.home_lat,
        CollectorProfile.home_lon: data.home_lon,
        CollectorProfile.end_lat: data.end_lat,
        CollectorProfile.end_lon: data.end_lon,
        CollectorProfile.timezone: data.timezone,
        CollectorProfile.shift_start_min: data.shift_start.hour * 60 + data.shift_start.minute,
        CollectorProfile.shift_end_min: data.shift_end.hour * 60 + data.shift_end.minute,
        CollectorProfile.capacity: data.capacity,
    }
    await repo.save_profile(user_id, values)
    return await get_profile(user_id, viewer)


async def get_profile(user_id: UUID, viewer: Principal) -> schemas.CollectorProfile:
    """A collector's profile."""
    await _managed_collector(user_id, viewer)
    rows = await repo.list_profiles([user_id])
    if not rows:
        raise CollectorProfileNotFound(f"collector {user_id} has no profile yet")
    return _profile_out(user_id, rows[0])
