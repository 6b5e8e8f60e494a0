"""Re-planning part of a day: one collector or one region, the rest of the plan kept as it was (no I/O)."""

from __future__ import annotations

import time

import msgspec

from routing.assemble import route, unplaced_visits
from routing.clustering import build_stops
from routing.matrix import TravelTimeProvider
from routing.model import Collector, Plan, PlannedStop, PlanOptions, Reason, Region, Route, Visit
from routing.planner import provider_for
from routing.problem import RegionTask, solve_region
from routing.reasons import unservable
from routing.regions import region_has_point
from routing.validate import validate
from routing.windows import clock_for


def region_contains(region: Region, lat: float, lon: float) -> bool:
    """True when the point falls in one of the region's H3 cells."""
    return region_has_point(region.cells, lat, lon)


def without_visits(old: Route, visit_ids: set[str]) -> Route:
    """A route with some visits taken out (moved elsewhere); untouched when none of them is in it.

    The remaining stops keep their times; they are only renumbered.
    """
    if not any(v.visit_id in visit_ids for s in old.stops for v in s.visits):
        return old
    stops: list[PlannedStop] = []
    for stop in old.stops:
        kept = [v for v in stop.visits if v.visit_id not in visit_ids]
        if kept:
            stops.append(msgspec.structs.replace(stop, order=len(stops) + 1, visits=kept))
    return msgspec.structs.replace(old, stops=stops, service_s=sum(v.service_s for s in stops for v in s.visits))


def replan_scope(
    plan: Plan,
    collectors: list[Collector],
    visits: list[Visit],
    options: PlanOptions,
    region_id: str,
    provider: TravelTimeProvider | None = None,
) -> Plan:
    """Re-plan the routes of ``collectors`` so they serve ``visits`` (what they should do now).

    Every other route is kept as it was, except that visits now in scope are taken out of it (a
    visit is never in two routes). Visits of the scope the collectors cannot serve are unplaced with
    their reason; earlier unplaced visits outside the scope stay unplaced.
    """
    started = time.perf_counter()
    validate(visits, collectors, options)
    provider = provider or provider_for(options)
    clock = clock_for(options.day, [v.timezone for v in visits] + [c.timezone for c in collectors])
    scope = {c.id for c in collectors}
    in_scope = {v.id for v in visits}
    stops, unplaced = build_stops(visits, options)
    hopeless = unservable(stops, collectors, options.day, clock, provider)
    servable = [s for s in stops if s.id not in hopeless]
    task = RegionTask(region_id, servable, collectors, options.day, clock.origin, provider, options.exploration_level)
    result = solve_region(task)
    by_stop = {s.id: s for s in stops}
    by_collector = {c.id: c for c in collectors}
    routes = [without_visits(r, in_scope) for r in plan.routes if r.collector_id not in scope]
    routes += [route(by_collector[r.collector_id], region_id, r, by_stop, clock) for r in result.routes]
    routes.sort(key=lambda r: r.collector_id)
    placed = {p.stop_id for r in result.routes for p in r.stops}
    left = [u for u in plan.unplaced if u.visit_id not in in_scope] + unplaced
    for stop in stops:
        if stop.id not in placed:
            left.extend(unplaced_visits(stop, hopeless.get(stop.id, Reason.OVER_CAPACITY)))
    placed_visits = sum(len(p.visits) for r in routes for p in r.stops)
    stats = msgspec.structs.replace(
        plan.stats, placed_visits=placed_visits, seconds=round(time.perf_counter() - started, 3)
    )
    return Plan(plan.day, routes, plan.regions, sorted(left, key=lambda u: u.visit_id), _travel(routes), stats)


def _travel(routes: list[Route]) -> int:
    return sum(r.travel_s for r in routes)
