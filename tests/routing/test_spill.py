"""Stops a region cannot place are offered to a neighbour with room."""

from __future__ import annotations

from datetime import date, time

from routing.clustering import build_stops
from routing.model import PlanOptions
from routing.planner import _offers, provider_for, solve_all, spill
from routing.problem import RegionTask
from routing.windows import clock_for
from tests.routing.values import collector, visit

DAY = date(2026, 6, 10)


def test_a_full_region_spills_to_its_neighbours_spare_capacity() -> None:
    options = PlanOptions(day=DAY)
    clock = clock_for(DAY, ["Asia/Shanghai"])
    provider = provider_for(options)
    west, _ = build_stops([visit(f"w{i}", -1500 + 200 * i, 0) for i in range(5)], options)
    east, _ = build_stops([visit("e0", 1500, 0)], options)
    tasks = [
        RegionTask("west", west, [collector("cw", -1500, 0, capacity=2)], DAY, clock.origin, provider),
        RegionTask("east", east, [collector("ce", 1500, 0, capacity=10)], DAY, clock.origin, provider),
    ]
    results = solve_all(tasks, workers=1)
    assert len(results[0].unassigned) == 3
    tasks, results, gained = spill(tasks, results, clock, workers=1)
    assert gained == 3
    assert [len(r.unassigned) for r in results] == [0, 0]
    owned = sorted(s.id for t in tasks for s in t.stops)
    assert owned == sorted(s.id for s in west + east)  # every stop in exactly one region
    routed = {r.collector_id: [s.stop_id for s in r.stops] for result in results for r in result.routes}
    assert len(routed["cw"]) == 2
    assert len(routed["ce"]) == 4


def test_nothing_spills_when_the_neighbour_has_no_room() -> None:
    options = PlanOptions(day=DAY)
    clock = clock_for(DAY, ["Asia/Shanghai"])
    provider = provider_for(options)
    west, _ = build_stops([visit(f"w{i}", -1500 + 200 * i, 0) for i in range(3)], options)
    east, _ = build_stops([visit("e0", 1500, 0)], options)
    tasks = [
        RegionTask("west", west, [collector("cw", -1500, 0, capacity=1)], DAY, clock.origin, provider),
        RegionTask("east", east, [collector("ce", 1500, 0, capacity=1)], DAY, clock.origin, provider),
    ]
    results = solve_all(tasks, workers=1)
    _, after, gained = spill(tasks, results, clock, workers=1)
    assert gained == 0
    assert [len(r.unassigned) for r in after] == [2, 0]


def test_a_packed_neighbour_is_offered_a_stop_only_loosely_and_never_loses_it() -> None:
    options = PlanOptions(day=DAY)
    clock = clock_for(DAY, ["Asia/Shanghai"])
    provider = provider_for(options)
    west, _ = build_stops([visit(f"w{i}", -1500 + 200 * i, 0) for i in range(3)], options)
    # East's only collector works 08:00-10:00 and its seven 15-minute visits fill that: no idle stretch
    # is long enough for another stop, though it has visits left.
    east, _ = build_stops([visit(f"e{i}", 1500, 60 * i, service_s=900) for i in range(7)], options)
    short = collector("ce", 1500, 0, capacity=10, shift_start=time(8), shift_end=time(10))
    tasks = [
        RegionTask("west", west, [collector("cw", -1500, 0, capacity=2)], DAY, clock.origin, provider),
        RegionTask("east", east, [short], DAY, clock.origin, provider),
    ]
    results = solve_all(tasks, workers=1)
    assert [len(r.unassigned) for r in results] == [1, 0]
    assert _offers(tasks, results, clock, {}) == {}  # no room as the routes are packed now
    loose = _offers(tasks, results, clock, {}, loose=True)  # room if East's route were packed again
    assert [(j, [s.id for s in stops]) for j, stops in loose.items()] == [(1, results[0].unassigned)]
    tasks, after, gained = spill(tasks, results, clock, workers=1, loose=True)
    assert gained == 0  # East solved again cold cannot fit it: its result is kept as it was
    assert [len(r.unassigned) for r in after] == [1, 0]
    owned = sorted(s.id for t in tasks for s in t.stops)
    assert owned == sorted(s.id for s in west + east)  # the stop is still West's, unplaced, not lost
