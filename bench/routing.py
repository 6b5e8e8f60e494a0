"""Route-planning benchmark on a seeded synthetic city (see ``bench/city.py``).

    uv run python -m bench.routing                 # all three scenarios
    uv run python -m bench.routing --only 1000     # one of 1000, 5000, 20000

1,000 visits / 40 collectors: the planner against one whole-instance VROOM solve (exploration level 0,
every CPU) of the same stops in the same run: time ratio, travel-time ratio, visits it left out that
the whole solve placed. 5,000 / 150: time and peak memory. 20,000 / 600: time, peak memory, share of
visits unplaced. Peak memory is the largest sum of the memory of this process and its workers,
sampled every 50 ms as proportional set size (PSS), so pages a forked worker shares with this
process count once. Timings on a shared 2-core machine are noisy: compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import TypeVar

import psutil

from bench.city import make_collectors, make_visits
from routing.clustering import build_stops
from routing.model import Collector, Plan, PlanOptions, Visit
from routing.planner import plan_day, provider_for
from routing.problem import RegionTask, solve_region
from routing.reasons import unservable
from routing.windows import clock_for

DAY = date(2026, 6, 10)
T = TypeVar("T")


class PeakMemory:
    """Samples the resident memory of this process and its children until stopped."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        # Proportional set size: pages a forked worker shares with this process count once, not twice.
        me = psutil.Process()
        total = me.memory_full_info().pss
        for child in me.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                total += child.memory_full_info().pss
        return int(total)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(0.05)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def timed(fn: Callable[[], T]) -> tuple[T, float, int]:
    """Result, seconds and peak memory (bytes) of ``fn()``."""
    with PeakMemory() as memory:
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
    return result, seconds, memory.peak


def whole_instance(visits: list[Visit], collectors: list[Collector], options: PlanOptions) -> tuple[int, set[str]]:
    """One VROOM solve of every stop with every collector (level 0, all CPUs): travel and placed visit ids."""
    provider = provider_for(options)
    clock = clock_for(options.day, [v.timezone for v in visits] + [c.timezone for c in collectors])
    stops, _ = build_stops(visits, options)
    hopeless = unservable(stops, collectors, options.day, clock, provider)
    stops = [s for s in stops if s.id not in hopeless]
    task = RegionTask("whole", stops, collectors, options.day, clock.origin, provider, 0, os.cpu_count() or 1)
    result = solve_region(task)
    by_id = {s.id: s for s in stops}
    placed = {v for r in result.routes for st in r.stops for v in by_id[st.stop_id].visit_ids}
    return sum(r.travel_s for r in result.routes), placed


def placed_ids(plan: Plan) -> set[str]:
    """Visit ids in some route."""
    return {v.visit_id for r in plan.routes for s in r.stops for v in s.visits}


def check(plan: Plan, visits: list[Visit]) -> None:
    """Every visit is in exactly one route or unplaced."""
    routed = [v.visit_id for r in plan.routes for s in r.stops for v in s.visits]
    assert len(routed) == len(set(routed)), "a visit is in two routes"
    assert set(routed) | {u.visit_id for u in plan.unplaced} == {v.id for v in visits}, "a visit went missing"


def scenario_1000(seed: int, with_pyvrp: bool) -> None:
    visits, collectors = make_visits(1_000, DAY, seed), make_collectors(40, seed)
    options = PlanOptions(day=DAY)
    (whole_travel, whole_placed), whole_s, whole_mem = timed(lambda: whole_instance(visits, collectors, options))
    plan, plan_s, plan_mem = timed(lambda: plan_day(visits, collectors, options))
    check(plan, visits)
    lost = whole_placed - placed_ids(plan)
    print("1,000 visits / 40 collectors")
    hours = whole_travel / 3600
    print(f"  whole-instance VROOM (level 0): {whole_s:7.2f} s  travel {hours:8.1f} h  placed {len(whole_placed)}")
    hours = plan.total_travel_s / 3600
    print(
        f"  planner (regions, level {options.exploration_level}): {plan_s:7.2f} s  travel {hours:8.1f} h"
        f"  placed {plan.stats.placed_visits}  regions {plan.stats.regions}"
    )
    print(
        f"  time ratio {plan_s / whole_s:.3f} (target <= 0.25)   travel ratio {plan.total_travel_s / whole_travel:.4f}"
        f" (target <= 1.03)   placed by whole but not by planner: {len(lost)} (target 0)"
    )
    print(f"  peak memory: whole {whole_mem / 2**20:.0f} MiB, planner {plan_mem / 2**20:.0f} MiB")
    if with_pyvrp:
        from bench.pyvrp_side import pyvrp_solve

        for budget in (plan_s, whole_s):
            travel, placed, feasible = pyvrp_solve(visits, collectors, options, budget)
            print(
                f"  PyVRP given {budget:6.1f} s: travel {travel / 3600:8.1f} h  placed {placed}  feasible {feasible}"
                f"  travel ratio to whole VROOM {travel / whole_travel:.4f}"
            )


def scenario_large(n: int, k: int, seed: int, memory_target_mib: int) -> None:
    visits, collectors = make_visits(n, DAY, seed), make_collectors(k, seed)
    baseline = PeakMemory()._sample()
    plan, seconds, peak = timed(lambda: plan_day(visits, collectors, PlanOptions(day=DAY)))
    check(plan, visits)
    share = len(plan.unplaced) / n
    print(f"{n:,} visits / {k} collectors")
    print(
        f"  planner: {seconds:7.2f} s  regions {plan.stats.regions}  stops {plan.stats.stops}"
        f"  travel {plan.total_travel_s / 3600:.1f} h  spilled in {plan.stats.spilled_in}"
    )
    print(
        f"  unplaced {len(plan.unplaced)} ({share:.3%})  peak memory {peak / 2**20:.0f} MiB"
        f" (target < {memory_target_mib}; process before planning {baseline / 2**20:.0f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", type=int, choices=(1000, 5000, 20000))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pyvrp", action="store_true", help="also run PyVRP on the 1,000-visit instance")
    args = parser.parse_args()
    print(f"CPUs: {os.cpu_count()}  load average: {os.getloadavg()}")
    if args.only in (None, 1000):
        scenario_1000(args.seed, args.pyvrp)
    if args.only in (None, 5000):
        scenario_large(5_000, 150, args.seed, 500)
    if args.only in (None, 20000):
        scenario_large(20_000, 600, args.seed, 1024)


if __name__ == "__main__":
    main()
