"""The seam between the planner and the vehicle-routing solver (VROOM through pyvroom).

The planner speaks in plain problems (a duration matrix, jobs, vehicles, integer seconds on one
clock) and gets plain solutions back; only this module knows VROOM. Solve time is controlled with
VROOM's exploration level, never with a timeout (a timeout that cuts construction short gave routes
23% longer in our measurements).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from routing.matrix import DurationMatrix

_PROFILE = "car"


@dataclass(frozen=True)
class Job:
    """A stop for the solver: a matrix index, service seconds, the window its service may begin in."""

    location: int
    service_s: int
    tw_start: int
    tw_end: int
    visits: int  # load against the vehicle's capacity
    priority: int = 0  # 0..100
    vehicle: int | None = None  # pinned to this vehicle index


@dataclass(frozen=True)
class Vehicle:
    """A collector for the solver: start and end matrix indexes, shift, capacity in visits."""

    start: int
    end: int
    tw_start: int
    tw_end: int
    capacity: int
    initial: list[int] = field(default_factory=list)  # job indexes of a known route, a warm start


@dataclass(frozen=True)
class Problem:
    """Everything one solve needs."""

    durations: DurationMatrix
    jobs: list[Job]
    vehicles: list[Vehicle]
    exploration_level: int = 2
    threads: int = 1


@dataclass(frozen=True)
class Step:
    """A served job: its index, when service begins (after any wait), and the travel before it."""

    job: int
    arrival: int
    begin: int
    travel_s: int


@dataclass(frozen=True)
class VehicleRoute:
    """One vehicle's served jobs in order, and when it leaves its start and reaches its end."""

    vehicle: int
    steps: list[Step]
    depart: int
    arrive: int
    travel_s: int


@dataclass(frozen=True)
class Solution:
    """Routes of the used vehicles and the jobs left out."""

    routes: list[VehicleRoute]
    unassigned: list[int]

    @property
    def travel_s(self) -> int:
        return sum(r.travel_s for r in self.routes)


class Solver(Protocol):
    """Anything that turns a problem into a solution."""

    def solve(self, problem: Problem) -> Solution:
        """Solve one problem."""
        ...


def load_solver() -> Any:
    """Import pyvroom on first use (it pulls in pandas: seconds of start-up for every API and worker
    process, most of which never plan a route). The planner calls it before forking its workers, so
    they inherit the import instead of each paying for it."""
    import vroom

    return vroom


def _vroom_input(problem: Problem) -> Any:
    vroom = load_solver()
    pinned = any(job.vehicle is not None for job in problem.jobs)
    data = vroom.Input()
    data.set_durations_matrix(_PROFILE, problem.durations)
    for index, v in enumerate(problem.vehicles):
        steps = []
        if v.initial:
            steps = [vroom.VehicleStepStart(), *(vroom.VehicleStepSingle(j) for j in v.initial), vroom.VehicleStepEnd()]
        data.add_vehicle(
            vroom.Vehicle(
                index,
                start=v.start,
                end=v.end,
                capacity=[v.capacity],
                time_window=vroom.TimeWindow(v.tw_start, v.tw_end),
                skills={index + 1} if pinned else None,
                steps=steps,
            )
        )
    for index, job in enumerate(problem.jobs):
        data.add_job(
            vroom.Job(
                index,
                location=job.location,
                default_service=job.service_s,
                delivery=[job.visits],
                priority=job.priority,
                time_windows=[vroom.TimeWindow(job.tw_start, job.tw_end)],
                skills={job.vehicle + 1} if job.vehicle is not None else None,
            )
        )
    return data


def _route(raw: dict[str, Any]) -> VehicleRoute:
    steps: list[Step] = []
    depart = arrive = 0
    previous_duration = 0
    for step in raw["steps"]:
        kind = step["type"]
        if kind == "start":
            depart = int(step["arrival"])
        elif kind == "end":
            arrive = int(step["arrival"])
        elif kind == "job":
            arrival = int(step["arrival"])
            steps.append(
                Step(
                    job=int(step["id"]),
                    arrival=arrival,
                    begin=arrival + int(step["waiting_time"]),
                    travel_s=int(step["duration"]) - previous_duration,
                )
            )
            previous_duration = int(step["duration"])
    return VehicleRoute(int(raw["vehicle"]), steps, depart, arrive, int(raw["duration"]))


class VroomSolver:
    """VROOM (pyvroom): the maintained open-source VRP solver with time windows, capacity and priorities."""

    def solve(self, problem: Problem) -> Solution:
        """Solve at the problem's exploration level; an empty problem is an empty solution."""
        if not problem.jobs or not problem.vehicles:
            return Solution([], list(range(len(problem.jobs))))
        result = _vroom_input(problem).solve(
            exploration_level=problem.exploration_level, nb_threads=max(1, problem.threads)
        )
        raw = result.to_dict()
        routes = sorted((_route(r) for r in raw.get("routes", [])), key=lambda r: r.vehicle)
        unassigned = sorted(int(u["id"]) for u in raw.get("unassigned", []))
        return Solution(routes, unassigned)
