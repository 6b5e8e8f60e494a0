"""From solved regions to the plan: routes with ETAs per visit, hulls, regions, reasons (no I/O)."""

from __future__ import annotations

import time
from datetime import date, timedelta

from routing.clustering import Stop
from routing.hulls import hull
from routing.model import Collector, Plan, PlannedStop, PlannedVisit, PlanStats, Reason, Region, Route, Unplaced
from routing.problem import CollectorRoute, RegionResult, RegionTask, StopTime, end_of
from routing.reasons import DETAILS
from routing.windows import Clock


def planned_stop(stop: Stop, served: StopTime, order: int, clock: Clock) -> PlannedStop:
    """A served stop with the ETA of each of its visits (served one after another)."""
    begin = clock.instant(served.begin)
    visits, offset = [], 0
    for visit_id, service in zip(stop.visit_ids, stop.service_s, strict=True):
        visits.append(PlannedVisit(visit_id, begin + timedelta(seconds=offset), service))
        offset += service
    return PlannedStop(
        stop_id=stop.id,
        order=order,
        lat=stop.lat,
        lon=stop.lon,
        timezone=stop.timezone,
        eta=begin,
        departure=begin + timedelta(seconds=offset),
        travel_s=served.travel_s,
        wait_s=served.begin - served.arrival,
        visits=visits,
    )


def route(collector: Collector, region_id: str, solved: CollectorRoute, stops: dict[str, Stop], clock: Clock) -> Route:
    """One collector's route from its solve."""
    planned = [planned_stop(stops[s.stop_id], s, n, clock) for n, s in enumerate(solved.stops, start=1)]
    return Route(
        collector_id=collector.id,
        region_id=region_id,
        start_at=clock.instant(solved.depart),
        end_at=clock.instant(solved.arrive),
        travel_s=solved.travel_s,
        service_s=sum(sum(stops[s.stop_id].service_s) for s in solved.stops),
        stops=planned,
        hull=hull([(p.lat, p.lon) for p in planned]),
        start=(collector.start_lat, collector.start_lon),
        end=end_of(collector),
    )


def unplaced_visits(stop: Stop, reason: Reason) -> list[Unplaced]:
    """One unplaced row per visit of a stop."""
    return [Unplaced(visit_id, reason, DETAILS[reason], stop.lat, stop.lon) for visit_id in stop.visit_ids]


def _region(task: RegionTask, result: RegionResult, cells: list[str]) -> Region:
    return Region(
        id=task.region_id,
        cells=cells,
        collector_ids=sorted(c.id for c in task.collectors),
        stop_count=len(task.stops),
        visit_count=sum(len(s.visit_ids) for s in task.stops),
        hull=hull([(s.lat, s.lon) for s in task.stops]),
    )


def assemble(
    day: date,
    clock: Clock,
    stops: list[Stop],
    tasks: list[RegionTask],
    results: list[RegionResult],
    cells: dict[str, list[str]],
    unplaced: list[Unplaced],
    hopeless: dict[str, Reason],
    visit_count: int,
    spilled: int,
    started: float,
) -> Plan:
    """The plan of solved regions; every stop not in a route is unplaced with its reason."""
    by_id = {s.id: s for s in stops}
    routes: list[Route] = []
    for task, result in zip(tasks, results, strict=True):
        collectors = {c.id: c for c in task.collectors}
        routes.extend(route(collectors[r.collector_id], task.region_id, r, by_id, clock) for r in result.routes)
    placed = {p.stop_id for r in routes for p in r.stops}
    left = list(unplaced)
    for stop in stops:
        if stop.id not in placed:
            left.extend(unplaced_visits(stop, hopeless.get(stop.id, Reason.OVER_CAPACITY)))
    routes.sort(key=lambda r: r.collector_id)
    regions = [_region(t, r, cells.get(t.region_id, [])) for t, r in zip(tasks, results, strict=True)]
    placed_visits = sum(len(p.visits) for r in routes for p in r.stops)
    stats = PlanStats(
        visits=visit_count,
        stops=len(stops),
        regions=len(regions),
        collectors=sum(len(t.collectors) for t in tasks),
        placed_visits=placed_visits,
        spilled_in=spilled,
        seconds=round(time.perf_counter() - started, 3),
    )
    total = sum(r.travel_s for r in routes)
    return Plan(day, routes, regions, sorted(left, key=lambda u: u.visit_id), total, stats)
