"""Planning a day: stops, regions, collectors per region, regions solved in parallel, spill, the plan.

``plan_day`` is the engine's entry point. It takes plain visits and collectors and returns a plain
:class:`~routing.model.Plan`; it does no I/O besides starting worker processes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from routing.assemble import assemble
from routing.clustering import Stop, build_stops
from routing.geo import haversine_m
from routing.matrix import StraightLineProvider, TravelTimeProvider
from routing.model import Collector, Plan, PlanOptions, Visit
from routing.parallel import run_all
from routing.polish import polish
from routing.problem import RegionResult, RegionTask, solve_region
from routing.reasons import unservable
from routing.regions import make_regions, region_count_limit
from routing.share import share_collectors
from routing.solver import load_solver
from routing.validate import validate
from routing.windows import Clock, clock_for, shift_interval

SPILL_ROUNDS = 4
SPILL_NEIGHBOURS = 8
LOOSE_SPILL_ROUNDS = 2


def provider_for(options: PlanOptions) -> TravelTimeProvider:
    """The default travel-time provider for the options (straight line x detour / speed)."""
    return StraightLineProvider(options.detour_factor, options.speed_kmh)


def plan_day(
    visits: list[Visit], collectors: list[Collector], options: PlanOptions, provider: TravelTimeProvider | None = None
) -> Plan:
    """Plan one day for a team: every visit is either in exactly one route or unplaced with a reason."""
    started = time.perf_counter()
    validate(visits, collectors, options)
    provider = provider or provider_for(options)
    clock = clock_for(options.day, [v.timezone for v in visits] + [c.timezone for c in collectors])
    stops, unplaced = build_stops(visits, options)
    hopeless = unservable(stops, collectors, options.day, clock, provider)
    servable = [s for s in stops if s.id not in hopeless]
    limit = region_count_limit(len(collectors), options.region_min_collectors)
    drafts = make_regions(servable, options.region_max_stops, limit)
    shares = share_collectors(drafts, collectors, options.day, options.detour_factor, options.speed_kmh)
    tasks = _pin(
        [
            RegionTask(d.id, d.stops, shares[i], options.day, clock.origin, provider, options.exploration_level)
            for i, d in enumerate(drafts)
        ]
    )
    tasks = [replace(t, threads=options.solver_threads) for t in tasks]
    results = solve_all(tasks, options.workers)
    spilled = 0
    if options.spill:
        tasks, results, spilled = spill(tasks, results, clock, options.workers)
    results = rescue(tasks, results, options.rescue_level, options.workers)
    if options.spill:  # what neither placed needs a neighbour that packs its routes again
        tasks, results, repacked = spill(tasks, results, clock, options.workers, loose=True)
        spilled += repacked
    tasks, results = polish(tasks, results, options.polish_max_stops, options.workers, solve_all)
    cells = {d.id: sorted(d.cells) for d in drafts}
    return assemble(options.day, clock, stops, tasks, results, cells, unplaced, hopeless, len(visits), spilled, started)


def solve_all(tasks: list[RegionTask], workers: int) -> list[RegionResult]:
    """Solve regions, largest first so the pool ends together; results in the order of ``tasks``."""
    order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i].stops) * max(1, len(tasks[i].collectors)))
    load_solver()  # imported here, so forked workers inherit it
    solved = run_all(solve_region, [tasks[i] for i in order], workers)
    by_index = dict(zip(order, solved, strict=True))
    return [by_index[i] for i in range(len(tasks))]


def _pin(tasks: list[RegionTask]) -> list[RegionTask]:
    """Move stops pinned to a collector into the region that collector got."""
    region_of = {c.id: i for i, t in enumerate(tasks) for c in t.collectors}
    moved: list[list[Stop]] = [[] for _ in tasks]
    kept: list[list[Stop]] = [[] for _ in tasks]
    for i, task in enumerate(tasks):
        for stop in task.stops:
            target = region_of.get(stop.collector_id, i) if stop.collector_id else i
            (kept if target == i else moved)[target].append(stop)
    return [replace(t, stops=kept[i] + moved[i]) for i, t in enumerate(tasks)]


_TRAVEL_SLACK_S = 900  # travel to and from an offered stop, roughly, at city scale


@dataclass
class _Slack:
    """A collector's room after a region's solve: visits left and idle stretches of the shift (clock seconds)."""

    visits_left: int
    gaps: list[list[int]]

    def take(self, stop: Stop, clock: Clock) -> bool:
        """Reserve room for a stop inside its window, if there is some."""
        if self.visits_left < len(stop.visit_ids):
            return False
        need = stop.total_service_s + _TRAVEL_SLACK_S
        opens, closes = clock.seconds(stop.window_start), clock.seconds(stop.window_end)
        for gap in self.gaps:
            start, end = max(gap[0], opens), min(gap[1], closes)
            if end - start >= need:
                gap[0] = start + need if start == gap[0] else gap[0]
                self.visits_left -= len(stop.visit_ids)
                return True
        return False


def _slack(task: RegionTask, result: RegionResult, clock: Clock, *, loose: bool = False) -> list[_Slack]:
    """The room of each collector of a region after its solve (``loose``: visits left and the whole
    shift, as if the region's routes could be packed again)."""
    used = {r.collector_id: r for r in result.routes}
    stops = {s.id: s for s in task.stops}
    room = []
    for collector in task.collectors:
        start, end = (clock.seconds(t) for t in shift_interval(collector, task.day))
        route = used.get(collector.id)
        if route is None or loose:
            done = 0 if route is None else sum(len(stops[s.stop_id].visit_ids) for s in route.stops)
            room.append(_Slack(collector.capacity - done, [[start, end]]))
            continue
        gaps = [[start, route.depart]] + [[s.arrival, s.begin] for s in route.stops] + [[route.arrive, end]]
        done = sum(len(stops[s.stop_id].visit_ids) for s in route.stops)
        room.append(_Slack(collector.capacity - done, [g for g in gaps if g[1] > g[0]]))
    return room


def _offers(
    tasks: list[RegionTask],
    results: list[RegionResult],
    clock: Clock,
    tried: dict[str, set[int]],
    *,
    loose: bool = False,
) -> dict[int, list[Stop]]:
    """Give each stop a region could not place to the nearest untried neighbour with a collector who has
    room for it: capacity left and an idle stretch of shift inside the stop's window (``loose``: a shift
    that covers enough of the window, however its route is packed now)."""
    room = [_slack(t, r, clock, loose=loose) for t, r in zip(tasks, results, strict=True)]
    centres = [
        (sum(s.lat for s in t.stops) / len(t.stops), sum(s.lon for s in t.stops) / len(t.stops)) if t.stops else None
        for t in tasks
    ]
    stop_of = {s.id: s for t in tasks for s in t.stops}
    left = [(stop_of[sid], i) for i, r in enumerate(results) for sid in r.unassigned]
    offers: dict[int, list[Stop]] = {}
    # A region re-solved in a round does not also give stops away in it: its new solve could place one
    # of them too, and a stop would then be on two routes.
    senders: set[int] = set()
    for stop, home in sorted(left, key=lambda si: (-si[0].priority, si[0].id)):
        if stop.collector_id is not None or home in offers:
            continue  # a pinned stop stays with its collector
        seen = tried.setdefault(stop.id, {home})
        near = sorted((haversine_m(stop.lat, stop.lon, *c), j) for j, c in enumerate(centres) if c is not None)
        for _, j in near[:SPILL_NEIGHBOURS]:
            if j not in seen and j not in senders and any(slack.take(stop, clock) for slack in room[j]):
                offers.setdefault(j, []).append(stop)
                senders.add(home)
                seen.add(j)
                break
    return offers


def spill(
    tasks: list[RegionTask],
    results: list[RegionResult],
    clock: Clock,
    workers: int,
    *,
    loose: bool = False,
) -> tuple[list[RegionTask], list[RegionResult], int]:
    """Offer stops a region could not place to neighbouring regions' spare capacity; re-solve those regions.

    A re-solve starts from the region's own routes (a warm start) and is kept only if it places more
    visits than before, so spilling never makes a region worse. Up to ``SPILL_ROUNDS`` rounds, each
    stop being offered to a region at most once.

    ``loose``: for what is still left after the rescue pass, typically an evening visit whose
    neighbours' late collectors are filled with daytime stops a day collector could take: the stop is
    offered to a neighbour with a collector whose shift covers its window and who has visits left,
    however the routes are packed now, and the neighbour is solved again cold (``LOOSE_SPILL_ROUNDS``).
    """
    tried: dict[str, set[int]] = {}
    total = 0
    for _ in range(LOOSE_SPILL_ROUNDS if loose else SPILL_ROUNDS):
        offers = _offers(tasks, results, clock, tried, loose=loose)
        if not offers:
            break
        tasks, results, gained = _spill_round(tasks, results, offers, workers, cold=loose)
        total += gained
    return tasks, results, total


def _spill_round(
    tasks: list[RegionTask],
    results: list[RegionResult],
    offers: dict[int, list[Stop]],
    workers: int,
    *,
    cold: bool = False,
) -> tuple[list[RegionTask], list[RegionResult], int]:
    home = {s.id: i for i, t in enumerate(tasks) for s in t.stops}
    indexes = sorted(offers)
    retried = [
        replace(
            tasks[j],
            stops=tasks[j].stops + offers[j],
            initial={} if cold else {r.collector_id: [s.stop_id for s in r.stops] for r in results[j].routes},
        )
        for j in indexes
    ]
    tasks, results = list(tasks), list(results)
    gained = 0
    for j, task, result in zip(indexes, retried, solve_all(retried, workers), strict=True):
        before, after = _placed_visits(tasks[j], results[j]), _placed_visits(task, result)
        if after > before:
            tasks[j], results[j] = task, result
            gained += after - before
    return _settle(tasks, results, home), results, gained


def _settle(tasks: list[RegionTask], results: list[RegionResult], home: dict[str, int]) -> list[RegionTask]:
    """Each stop belongs to the region that placed it, or else to the region it came from."""
    placed_in = {s.stop_id: i for i, r in enumerate(results) for route in r.routes for s in route.stops}
    for i, (task, result) in enumerate(zip(tasks, results, strict=True)):
        owned = [s for s in task.stops if placed_in.get(s.id, home[s.id]) == i]
        if len(owned) != len(task.stops):
            ids = {s.id for s in owned}
            tasks[i] = replace(task, stops=owned)
            results[i] = replace(result, unassigned=[sid for sid in result.unassigned if sid in ids])
    return tasks


def rescue(tasks: list[RegionTask], results: list[RegionResult], level: int, workers: int) -> list[RegionResult]:
    """Solve again, at a higher exploration level, the regions that still leave stops unplaced.

    Typically a late-shift collector was filled with daytime visits an early collector could have
    done, leaving an evening appointment out; a deeper search finds the better packing. Only those
    regions pay for it, and a result is kept only if it places more visits.
    """
    indexes = [i for i, r in enumerate(results) if r.unassigned and tasks[i].collectors]
    if level <= 0 or not indexes:
        return results
    # A cold solve: a warm start from the region's routes keeps the packing that left the stop out.
    deeper = [replace(tasks[i], exploration_level=max(level, tasks[i].exploration_level), initial={}) for i in indexes]
    results = list(results)
    for i, task, result in zip(indexes, deeper, solve_all(deeper, workers), strict=True):
        if _placed_visits(task, result) > _placed_visits(tasks[i], results[i]):
            results[i] = result
    return results


def _placed_visits(task: RegionTask, result: RegionResult) -> int:
    visits_of = {s.id: len(s.visit_ids) for s in task.stops}
    return sum(visits_of[s.stop_id] for r in result.routes for s in r.stops)
