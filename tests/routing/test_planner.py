"""Planning a day: legal windows across DST, capacity, buildings, reasons, regions, priorities."""

from __future__ import annotations

import itertools
import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.errors import InvalidPlanInput, UnknownTimezone
from routing.model import PlanOptions, Reason
from routing.planner import plan_day
from tests.routing.checks import assert_plan_sound
from tests.routing.values import collector, visit

DAY = date(2026, 6, 10)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _scattered(n: int, seed: int, spread_m: float = 4_000.0, **kw: object) -> list:  # type: ignore[type-arg]
    rng = random.Random(seed)
    return [
        visit(f"v{i:03d}", rng.uniform(-spread_m, spread_m), rng.uniform(-spread_m, spread_m), service_s=900, **kw)
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("tz", "origin", "day"),
    [
        ("America/New_York", (40.71, -74.0), date(2026, 3, 8)),  # spring forward
        ("America/New_York", (40.71, -74.0), date(2026, 11, 1)),  # fall back
        ("Europe/London", (51.5, -0.12), date(2026, 3, 29)),
        ("Australia/Sydney", (-33.87, 151.2), date(2026, 4, 5)),  # fall back in the southern autumn
    ],
)
def test_every_eta_is_inside_the_legal_window_in_the_debtors_timezone_across_dst(
    tz: str, origin: tuple[float, float], day: date
) -> None:
    # Collectors would work 05:00-23:59 and there is more work than a legal day holds, so only the
    # legal window (computed for that very day's offset) keeps visits out of the early and late hours.
    zone = ZoneInfo(tz)
    rng = random.Random(1)
    visits = [
        visit(f"v{i:03d}", rng.uniform(-3000, 3000), rng.uniform(-3000, 3000), tz, origin=origin, service_s=900)
        for i in range(160)
    ]
    early = datetime.combine(day, time(7), tzinfo=zone)
    late = datetime.combine(day, time(21, 30), tzinfo=zone)
    visits += [
        visit("early", 10, 10, tz, origin=origin, window_start=early, window_end=early + timedelta(hours=2)),
        visit("late", 20, 20, tz, origin=origin, window_start=late, window_end=late + timedelta(hours=2)),
    ]
    collectors = [
        collector(f"c{i}", 0, 0, tz, origin=origin, shift_start=time(5), shift_end=time(23, 59), capacity=60)
        for i in range(3)
    ]
    options = PlanOptions(day=day)
    plan = plan_day(visits, collectors, options)
    assert_plan_sound(plan, visits, collectors, options)
    etas = [v.eta.astimezone(zone) for r in plan.routes for s in r.stops for v in s.visits]
    assert min(etas).time() < time(9), "the day was not full enough to test the morning edge"
    assert max(etas).time() > time(21), "the day was not full enough to test the evening edge"
    assert plan.unplaced, "more work than the legal day holds must leave visits unplaced"
    assert {u.reason for u in plan.unplaced} == {Reason.OVER_CAPACITY}


def test_capacity_is_respected_and_counts_visits_not_stops() -> None:
    visits = _scattered(12, seed=2) + [visit(f"b{i}", 5, 5, service_s=300) for i in range(3)]
    collectors = [collector(f"c{i}", capacity=4) for i in range(3)]
    options = PlanOptions(day=DAY)
    plan = plan_day(visits, collectors, options)
    assert_plan_sound(plan, visits, collectors, options)
    assert [sum(len(s.visits) for s in r.stops) for r in plan.routes] == [4, 4, 4]
    assert len(plan.unplaced) == 3
    assert all(u.reason is Reason.OVER_CAPACITY for u in plan.unplaced)


def test_visits_in_one_building_are_one_stop_served_one_after_another() -> None:
    building = [visit(f"b{i}", i, -i, service_s=600 + 60 * i) for i in range(5)]
    visits = building + _scattered(10, seed=3)
    plan = plan_day(visits, [collector("c1"), collector("c2", 1000, 0)], PlanOptions(day=DAY))
    stops = [s for r in plan.routes for s in r.stops if any(v.visit_id.startswith("b") for v in s.visits)]
    assert len(stops) == 1
    served = stops[0].visits
    assert [v.visit_id for v in served] == [f"b{i}" for i in range(5)]
    for first, second in itertools.pairwise(served):
        assert second.eta == first.eta + timedelta(seconds=first.service_s)
    assert stops[0].departure == served[-1].eta + timedelta(seconds=served[-1].service_s)


def test_unplaceable_visits_carry_their_reason() -> None:
    night = datetime.combine(DAY, time(23), tzinfo=SHANGHAI)
    dawn = datetime.combine(DAY, time(8), tzinfo=SHANGHAI)
    visits = [
        visit("ok"),
        visit("far", 400_000, 0),  # 400 km: not there and back within a shift
        visit("night", 100, 0, window_start=night, window_end=night + timedelta(hours=1)),
        visit("dawn", 200, 0, window_start=dawn, window_end=dawn + timedelta(minutes=30)),  # shifts start at 10:00
        visit("pinned", 300, 0, collector_id="nobody"),
        *[visit(f"x{i}", 0, 500 + 100 * i) for i in range(3)],  # capacity 2 leaves some of these out
    ]
    collectors = [collector("c1", shift_start=time(10), shift_end=time(18), capacity=2)]
    options = PlanOptions(day=DAY)
    plan = plan_day(visits, collectors, options)
    assert_plan_sound(plan, visits, collectors, options)
    reasons = {u.visit_id: u.reason for u in plan.unplaced}
    assert reasons["far"] is Reason.NO_COLLECTOR_IN_REACH
    assert reasons["night"] is Reason.OUTSIDE_EVERY_WINDOW
    assert reasons["dawn"] is Reason.OUTSIDE_EVERY_WINDOW
    assert reasons["pinned"] is Reason.NO_COLLECTOR_IN_REACH
    assert sorted(v for v, r in reasons.items() if r is Reason.OVER_CAPACITY) == sorted(
        {"ok", "x0", "x1", "x2"} - {v.visit_id for r in plan.routes for s in r.stops for v in s.visits}
    )
    assert all(u.detail and u.lat is not None for u in plan.unplaced)


def test_when_capacity_binds_the_important_visits_are_placed() -> None:
    priorities = [0, 5, 90, 80, 10, 70]
    visits = [visit(f"v{i}", 300 * i, 0, priority=p) for i, p in enumerate(priorities)]
    plan = plan_day(visits, [collector("c1", capacity=3)], PlanOptions(day=DAY))
    placed = {v.visit_id for r in plan.routes for s in r.stops for v in s.visits}
    assert placed == {"v2", "v3", "v5"}


def test_pinned_visits_go_to_their_collector() -> None:
    visits = [*_scattered(10, seed=4), visit("mine", 3000, 3000, collector_id="c2")]
    collectors = [collector("c1", 3000, 3000), collector("c2", -3000, -3000)]
    options = PlanOptions(day=DAY)
    plan = plan_day(visits, collectors, options)
    assert_plan_sound(plan, visits, collectors, options)
    route = next(r for r in plan.routes if r.collector_id == "c2")
    assert "mine" in {v.visit_id for s in route.stops for v in s.visits}


def test_regions_are_solved_in_parallel_and_cover_every_visit_once() -> None:
    visits = _scattered(160, seed=5, spread_m=12_000)
    collectors = [collector(f"c{i:02d}", (i % 5) * 5000 - 10000, (i // 5) * 5000 - 10000) for i in range(30)]
    options = PlanOptions(day=DAY, region_max_stops=60, workers=2)
    plan = plan_day(visits, collectors, options)
    assert_plan_sound(plan, visits, collectors, options)
    assert plan.stats.regions >= 2
    assert sorted(c for r in plan.regions for c in r.collector_ids) == sorted(c.id for c in collectors)
    region_of = {c: r.id for r in plan.regions for c in r.collector_ids}
    assert all(route.region_id == region_of[route.collector_id] for route in plan.routes)
    assert all(region.hull and route.hull for region in plan.regions for route in plan.routes)
    assert len(plan.unplaced) == 0


def test_polishing_across_region_borders_never_makes_the_plan_worse() -> None:
    visits = _scattered(160, seed=8, spread_m=12_000)
    collectors = [collector(f"c{i:02d}", (i % 5) * 5000 - 10000, (i // 5) * 5000 - 10000) for i in range(30)]
    base = PlanOptions(day=DAY, region_max_stops=60, region_min_collectors=5, workers=2, polish_max_stops=0)
    polished_options = PlanOptions(day=DAY, region_max_stops=60, region_min_collectors=5, workers=2)
    rough, polished = plan_day(visits, collectors, base), plan_day(visits, collectors, polished_options)
    assert rough.stats.regions >= 3
    assert_plan_sound(polished, visits, collectors, polished_options)
    assert polished.stats.placed_visits >= rough.stats.placed_visits
    assert polished.total_travel_s <= rough.total_travel_s


def test_polish_groups_are_neighbours_within_the_size_cap() -> None:
    from routing.clustering import build_stops
    from routing.polish import polish_groups
    from routing.problem import RegionTask
    from routing.regions import make_regions

    visits = _scattered(200, seed=9, spread_m=15_000)
    stops, _ = build_stops(visits, PlanOptions(day=DAY))
    drafts = make_regions(stops, max_stops=30, max_regions=100)
    tasks = [
        RegionTask(d.id, d.stops, [collector("c")], DAY, datetime(2026, 6, 9, tzinfo=SHANGHAI), None)  # type: ignore[arg-type]
        for d in drafts
    ]
    groups = polish_groups(tasks, max_stops=90)
    assert groups
    assert all(len(g) >= 2 and sum(len(tasks[i].stops) for i in g) <= 90 for g in groups)
    flat = [i for g in groups for i in g]
    assert len(flat) == len(set(flat))


def test_regions_are_stable_from_day_to_day() -> None:
    visits = _scattered(160, seed=6, spread_m=12_000)
    collectors = [collector(f"c{i:02d}", 0, 0) for i in range(30)]
    monday = plan_day(visits, collectors, PlanOptions(day=DAY, region_max_stops=60, workers=1))
    tuesday_visits = visits[:150] + _scattered(5, seed=7, spread_m=12_000)
    tuesday_visits = [v if i < 150 else visit(f"t{i}", 0, 0) for i, v in enumerate(tuesday_visits)]
    options = PlanOptions(day=DAY + timedelta(days=1), region_max_stops=60, workers=1)
    tuesday = plan_day(tuesday_visits, collectors, options)
    same = {r.id for r in monday.regions} & {r.id for r in tuesday.regions}
    assert len(same) >= len(monday.regions) - 1


def test_bad_input_is_a_coded_error() -> None:
    with pytest.raises(UnknownTimezone):
        plan_day([visit("a", tz="Mars/Olympus")], [collector("c1")], PlanOptions(day=DAY))
    with pytest.raises(InvalidPlanInput):
        plan_day([visit("a"), visit("a")], [collector("c1")], PlanOptions(day=DAY))
    with pytest.raises(InvalidPlanInput):
        plan_day([visit("a", origin=(95.0, 0.0))], [collector("c1")], PlanOptions(day=DAY))
    with pytest.raises(InvalidPlanInput):
        plan_day([visit("a")], [collector("c1", capacity=-1)], PlanOptions(day=DAY))


def test_an_empty_day_is_an_empty_plan() -> None:
    plan = plan_day([], [collector("c1")], PlanOptions(day=DAY))
    assert plan.routes == []
    assert plan.unplaced == []


instances = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 10_000),
        "visits": st.integers(1, 25),
        "collectors": st.integers(1, 3),
        "capacity": st.integers(1, 12),
        "appointments": st.floats(0, 1),
    }
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instance=instances)
def test_random_small_days_are_always_sound(instance: dict[str, float]) -> None:
    rng = random.Random(int(instance["seed"]))
    visits = []
    for i in range(int(instance["visits"])):
        kw: dict[str, object] = {"service_s": rng.randint(5, 15) * 60, "priority": rng.randint(0, 60)}
        if rng.random() < instance["appointments"]:
            start = datetime.combine(DAY, time(rng.randint(6, 22)), tzinfo=SHANGHAI)
            kw.update(window_start=start, window_end=start + timedelta(hours=2))
        visits.append(visit(f"v{i}", rng.uniform(-5000, 5000), rng.uniform(-5000, 5000), **kw))
    shifts = [(time(8), time(16)), (time(14), time(22)), (time(6), time(23))]
    collectors = [
        collector(f"c{i}", rng.uniform(-5000, 5000), 0, shift_start=s, shift_end=e, capacity=int(instance["capacity"]))
        for i, (s, e) in enumerate(shifts[: int(instance["collectors"])])
    ]
    options = PlanOptions(day=DAY, workers=1)
    assert_plan_sound(plan_day(visits, collectors, options), visits, collectors, options)


def test_the_rescue_pass_keeps_the_plan_sound_and_never_places_fewer() -> None:
    rng = random.Random(21)
    evening = datetime.combine(DAY, time(18), tzinfo=SHANGHAI)
    visits = [
        visit(f"v{i:02d}", rng.uniform(-3000, 3000), rng.uniform(-3000, 3000), service_s=900) for i in range(40)
    ] + [
        visit(
            f"e{i:02d}",
            rng.uniform(-3000, 3000),
            rng.uniform(-3000, 3000),
            window_start=evening,
            window_end=evening + timedelta(hours=4),
            service_s=900,
        )
        for i in range(12)
    ]
    collectors = [
        collector("early", shift_start=time(8), shift_end=time(16), capacity=30),
        collector("late", shift_start=time(14), shift_end=time(22), capacity=14),
    ]
    plain = PlanOptions(day=DAY, workers=1, rescue_level=0)
    deeper = PlanOptions(day=DAY, workers=1, rescue_level=2)
    base, rescued = plan_day(visits, collectors, plain), plan_day(visits, collectors, deeper)
    assert_plan_sound(rescued, visits, collectors, deeper)
    assert rescued.stats.placed_visits >= base.stats.placed_visits
