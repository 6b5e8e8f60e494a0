"""Regions from H3 cells and each region's share of collectors."""

from __future__ import annotations

import math
import random
from datetime import date, time

import h3
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.clustering import build_stops
from routing.model import PlanOptions, Visit
from routing.regions import make_regions, region_has_point
from routing.share import apportion, apportion_evenly, share_collectors
from tests.routing.values import collector, visit

DAY = date(2026, 6, 10)


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(0, 500), weights=st.lists(st.floats(0, 1e6), min_size=1, max_size=40), minimum=st.integers(0, 2)
)
def test_apportion_hands_out_exactly_the_total_in_proportion(total: int, weights: list[float], minimum: int) -> None:
    counts = apportion(total, weights, minimum)
    assert sum(counts) == total
    assert all(c >= 0 for c in counts)
    if total >= minimum * len(weights):
        assert all(c >= minimum for c in counts)
    weight_sum = sum(weights)
    if weight_sum > 0 and minimum == 0:
        for count, weight in zip(counts, weights, strict=True):
            assert abs(count - total * weight / weight_sum) < 1 + 1e-9


@settings(max_examples=60, deadline=None)
@given(total=st.integers(0, 500), weights=st.lists(st.floats(0, 1e6), min_size=1, max_size=40))
def test_apportion_evenly_leaves_no_region_thinner_than_it_must(total: int, weights: list[float]) -> None:
    counts = apportion_evenly(total, weights)
    assert sum(counts) == total
    assert all(c >= 0 for c in counts)
    positive = [i for i, w in enumerate(weights) if w > 0]
    if positive and total >= len(positive):
        assert all(counts[i] >= 1 for i in positive)
    if positive:
        worst = max(weights[i] / counts[i] if counts[i] else math.inf for i in positive)
        # moving any one head to the thinnest region cannot make the thinnest one better off
        for donor in (i for i, c in enumerate(counts) if c > 0):
            for taker in positive:
                if taker == donor:
                    continue
                moved = list(counts)
                moved[donor] -= 1
                moved[taker] += 1
                after = max(weights[i] / moved[i] if moved[i] else math.inf for i in positive)
                assert after >= worst * (1 - 1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 400), cap=st.integers(20, 150))
def test_regions_cover_every_stop_once_within_the_cap_and_their_cells(seed: int, n: int, cap: int) -> None:
    rng = random.Random(seed)
    visits = [visit(f"v{i}", rng.gauss(0, 6000), rng.gauss(0, 6000)) for i in range(n)]
    stops, _ = build_stops(visits, PlanOptions(day=DAY))
    regions = make_regions(stops, max_stops=cap, max_regions=1000)
    ids = [s.id for r in regions for s in r.stops]
    assert sorted(ids) == sorted(s.id for s in stops)
    assert len({r.id for r in regions}) == len(regions)
    for region in regions:
        for stop in region.stops:
            assert region_has_point(region.cells, stop.lat, stop.lon)
        others = [r for r in regions if r is not region]
        assert not any(region_has_point(o.cells, s.lat, s.lon) for o in others for s in region.stops)
        fine_enough = all(h3.get_resolution(c) < 9 for c in region.cells)
        assert len(region.stops) <= cap or not fine_enough


def test_max_regions_caps_the_count_by_merging() -> None:
    rng = random.Random(1)
    visits = [visit(f"v{i}", rng.gauss(0, 8000), rng.gauss(0, 8000)) for i in range(300)]
    stops, _ = build_stops(visits, PlanOptions(day=DAY))
    assert len(make_regions(stops, max_stops=30, max_regions=3)) <= 3


def test_evening_heavy_regions_get_the_late_shifts() -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    evening = datetime.combine(DAY, time(18), tzinfo=tz)
    west = [
        visit(f"w{i}", -20_000 + 50 * i, 0, window_start=evening, window_end=evening + timedelta(hours=4))
        for i in range(60)
    ]
    east = [visit(f"e{i}", 20_000 + 50 * i, 0) for i in range(60)]
    stops, _ = build_stops(west + east, PlanOptions(day=DAY, cluster_radius_m=10))
    regions = make_regions(stops, max_stops=70, max_regions=10)
    assert len(regions) == 2
    late = [collector(f"late{i}", 0, 0, shift_start=time(14), shift_end=time(22)) for i in range(4)]
    early = [collector(f"early{i}", 0, 0, shift_start=time(8), shift_end=time(16)) for i in range(4)]
    shares = share_collectors(regions, late + early, DAY, 1.35, 25.0)
    west_at = next(i for i, r in enumerate(regions) if r.stops[0].visit_ids[0].startswith("w"))
    west, east = shares[west_at], shares[1 - west_at]
    # The early shift cannot do a single evening visit: the evening region gets late shifts only,
    # and more of them than the region whose visits any shift can do.
    assert all(c.id.startswith("late") for c in west)
    assert sum(c.id.startswith("late") for c in west) > sum(c.id.startswith("late") for c in east)
    assert len(west) + len(east) == 8


def test_late_shifts_follow_the_evening_visits_not_the_region_size() -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    evening = datetime.combine(DAY, time(18), tzinfo=tz)

    def side(prefix: str, x0: float, evenings: int) -> list[Visit]:
        return [
            visit(f"{prefix}{i}", x0 + 60 * (i % 20), 60 * (i // 20), address_key=f"{prefix}{i}")
            if i >= evenings
            else visit(
                f"{prefix}{i}",
                x0 + 60 * (i % 20),
                60 * (i // 20),
                address_key=f"{prefix}{i}",
                window_start=evening,
                window_end=evening + timedelta(hours=4),
            )
            for i in range(100)
        ]

    # Two regions of the same size; the west has six times the evening visits of the east.
    west, east = side("w", -20_000, 60), side("e", 20_000, 10)
    stops, _ = build_stops(west + east, PlanOptions(day=DAY, cluster_radius_m=10))
    regions = make_regions(stops, max_stops=120, max_regions=10)
    assert len(regions) == 2
    late = [collector(f"late{i}", 0, 0, shift_start=time(14), shift_end=time(22)) for i in range(4)]
    day = [collector(f"day{i}", 0, 0, shift_start=time(8), shift_end=time(16)) for i in range(6)]
    shares = share_collectors(regions, late + day, DAY, 1.35, 25.0)
    west_at = next(i for i, r in enumerate(regions) if r.stops[0].visit_ids[0].startswith("w"))
    lates = [sum(c.id.startswith("late") for c in share) for share in shares]
    # By head count the late shift would be split 2:2, as the regions are the same size.
    assert lates[west_at] == 3
    assert lates[1 - west_at] == 1
