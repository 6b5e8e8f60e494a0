"""One region's routing problem: from stops and collectors to a solver problem and back (no I/O).

This is what a worker process runs: it builds the region's own travel-time matrix, solves, and
returns stop ids with times on the plan's clock, so nothing large crosses the process boundary.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from routing.clustering import Stop
from routing.matrix import TravelTimeProvider
from routing.model import Collector
from routing.solver import Job, Problem, Solver, Vehicle, VroomSolver
from routing.windows import Clock, shift_interval


@dataclass(frozen=True)
class RegionTask:
    """A region to solve: its stops, the collectors it got, and how to solve it."""

    region_id: str
    stops: list[Stop]
    collectors: list[Collector]
    day: date
    origin: datetime
    provider: TravelTimeProvider
    exploration_level: int = 2
    threads: int = 1
    initial: dict[str, list[str]] = field(default_factory=dict)  # collector id -> stop ids, a warm start


@dataclass(frozen=True)
class StopTime:
    """A stop as served: arrival, service begin, and the travel from the previous place."""

    stop_id: str
    arrival: int
    begin: int
    travel_s: int


@dataclass(frozen=True)
class CollectorRoute:
    """A collector's solved day on the plan's clock."""

    collector_id: str
    stops: list[StopTime]
    depart: int
    arrive: int
    travel_s: int


@dataclass(frozen=True)
class RegionResult:
    """What a region's solve returns."""

    region_id: str
    routes: list[CollectorRoute]
    unassigned: list[str]
    seconds: float


def end_of(collector: Collector) -> tuple[float, float]:
    """Where a collector's day ends."""
    if collector.end_lat is None or collector.end_lon is None:
        return collector.start_lat, collector.start_lon
    return collector.end_lat, collector.end_lon


def _jobs(task: RegionTask, clock: Clock, vehicle_of: dict[str, int]) -> list[Job]:
    jobs = []
    for index, stop in enumerate(task.stops):
        start = math.ceil((stop.window_start - clock.origin).total_seconds())
        latest_begin = clock.seconds(stop.window_end) - stop.total_service_s
        jobs.append(
            Job(
                location=index,
                service_s=stop.total_service_s,
                tw_start=start,
                tw_end=max(start, latest_begin),  # build_stops guarantees start <= latest_begin
                visits=len(stop.visit_ids),
                priority=stop.priority,
                vehicle=vehicle_of.get(stop.collector_id) if stop.collector_id else None,
            )
        )
    return jobs


def _vehicles(task: RegionTask, clock: Clock) -> list[Vehicle]:
    n, k = len(task.stops), len(task.collectors)
    index_of = {stop.id: i for i, stop in enumerate(task.stops)}
    vehicles = []
    for i, collector in enumerate(task.collectors):
        start, end = shift_interval(collector, task.day)
        initial = [index_of[s] for s in task.initial.get(collector.id, []) if s in index_of]
        window = clock.seconds(start), clock.seconds(end)
        vehicles.append(Vehicle(n + i, n + k + i, *window, collector.capacity, initial))
    return vehicles


def build_problem(task: RegionTask) -> Problem:
    """The solver problem of a region, with a matrix over its stops and its collectors' starts and ends."""
    clock = Clock(task.origin)
    ends = [end_of(c) for c in task.collectors]
    lat = np.array([s.lat for s in task.stops] + [c.start_lat for c in task.collectors] + [e[0] for e in ends])
    lon = np.array([s.lon for s in task.stops] + [c.start_lon for c in task.collectors] + [e[1] for e in ends])
    vehicle_of = {c.id: i for i, c in enumerate(task.collectors)}
    return Problem(
        durations=task.provider.durations(lat, lon, lat, lon),
        jobs=_jobs(task, clock, vehicle_of),
        vehicles=_vehicles(task, clock),
        exploration_level=task.exploration_level,
        threads=task.threads,
    )


def solve_region(task: RegionTask, solver: Solver | None = None) -> RegionResult:
    """Solve one region (the function worker processes run)."""
    started = time.perf_counter()
    solution = (solver or VroomSolver()).solve(build_problem(task))
    routes = [
        CollectorRoute(
            collector_id=task.collectors[r.vehicle].id,
            stops=[StopTime(task.stops[s.job].id, s.arrival, s.begin, s.travel_s) for s in r.steps],
            depart=r.depart,
            arrive=r.arrive,
            travel_s=r.travel_s,
        )
        for r in solution.routes
        if r.steps
    ]
    unassigned = [task.stops[j].id for j in solution.unassigned]
    return RegionResult(task.region_id, routes, unassigned, time.perf_counter() - started)
