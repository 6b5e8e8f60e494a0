"""PyVRP on the same 1,000-visit instance, for the side-by-side the design asks for (``--pyvrp``).

The same stops, collectors, windows, capacities and travel-time matrix as the VROOM runs; every visit
optional with a large prize (so PyVRP drops only what it cannot fit, like VROOM's unassigned);
PyVRP's iterated local search stops after a wall-clock budget.
"""

from __future__ import annotations

import numpy as np
from pyvrp import Client, Depot, Location, ProblemData, VehicleType, solve
from pyvrp.stop import MaxRuntime

from routing.clustering import build_stops
from routing.model import Collector, PlanOptions, Visit
from routing.planner import provider_for
from routing.problem import RegionTask, build_problem
from routing.reasons import unservable
from routing.windows import clock_for

PRIZE = 1_000_000


def pyvrp_solve(
    visits: list[Visit], collectors: list[Collector], options: PlanOptions, seconds: float
) -> tuple[int, int, bool]:
    """Travel seconds, visits placed and feasibility of PyVRP's best solution after ``seconds``."""
    provider = provider_for(options)
    clock = clock_for(options.day, [v.timezone for v in visits] + [c.timezone for c in collectors])
    stops, _ = build_stops(visits, options)
    hopeless = unservable(stops, collectors, options.day, clock, provider)
    stops = [s for s in stops if s.id not in hopeless]
    problem = build_problem(RegionTask("pyvrp", stops, collectors, options.day, clock.origin, provider))
    n, k = len(problem.jobs), len(problem.vehicles)
    matrix = problem.durations.astype(np.int64)
    locations = [Location(x=float(i), y=0.0) for i in range(n + 2 * k)]
    clients = [
        Client(
            location=j.location,
            delivery=[j.visits],
            service_duration=j.service_s,
            tw_early=j.tw_start,
            tw_late=j.tw_end,
            prize=PRIZE * j.visits,
            required=False,
        )
        for j in problem.jobs
    ]
    depots = [Depot(location=v.start) for v in problem.vehicles] + [Depot(location=v.end) for v in problem.vehicles]
    types = [
        VehicleType(capacity=[v.capacity], start_depot=i, end_depot=k + i, tw_early=v.tw_start, tw_late=v.tw_end)
        for i, v in enumerate(problem.vehicles)
    ]
    data = ProblemData(locations, clients, depots, types, [matrix], [matrix])
    best = solve(data, stop=MaxRuntime(seconds), display=False).best
    placed = sum(int(route.delivery()[0]) for route in best.routes())
    return int(best.distance()), placed, bool(best.is_feasible())
