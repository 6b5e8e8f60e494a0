"""Visits at one place become one stop."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.clustering import build_stops, normalise_address
from routing.geo import haversine_m
from routing.model import PlanOptions, Reason
from tests.routing.values import visit

DAY = date(2026, 6, 10)
OPTIONS = PlanOptions(day=DAY)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_visits_in_one_building_become_one_stop_with_their_service_summed() -> None:
    visits = [visit("a", service_s=600), visit("b", 3, 4, service_s=300), visit("c", -10, 20, service_s=900)]
    stops, unplaced = build_stops(visits, OPTIONS)
    assert unplaced == []
    assert len(stops) == 1
    assert stops[0].visit_ids == ["a", "b", "c"]
    assert stops[0].total_service_s == 1800


def test_places_farther_apart_than_the_radius_stay_apart() -> None:
    stops, _ = build_stops([visit("a"), visit("b", 49, 0), visit("c", 200, 0)], OPTIONS)
    assert sorted(s.visit_ids for s in stops) == [["a", "b"], ["c"]]


def test_same_normalised_address_is_one_stop_whatever_the_coordinates() -> None:
    key = normalise_address("12, Nanjing Rd.  (East)")
    assert key == normalise_address("12 nanjing rd east")
    stops, _ = build_stops([visit("a", address_key=key), visit("b", 400, 0, address_key=key)], OPTIONS)
    assert [s.visit_ids for s in stops] == [["a", "b"]]


def test_appointments_that_do_not_overlap_make_separate_stops_at_one_place() -> None:
    morning = datetime.combine(DAY, time(9), tzinfo=SHANGHAI)
    evening = datetime.combine(DAY, time(19), tzinfo=SHANGHAI)
    visits = [
        visit("a", window_start=morning, window_end=morning.replace(hour=11)),
        visit("b", window_start=evening, window_end=evening.replace(hour=21)),
        visit("c"),
    ]
    stops, _ = build_stops(visits, OPTIONS)
    assert len(stops) == 2
    for stop in stops:
        assert (stop.window_end - stop.window_start).total_seconds() >= stop.total_service_s


def test_visits_pinned_to_different_collectors_are_different_stops() -> None:
    stops, _ = build_stops([visit("a", collector_id="c1"), visit("b", collector_id="c2")], OPTIONS)
    assert sorted((s.collector_id, s.visit_ids) for s in stops) == [("c1", ["a"]), ("c2", ["b"])]


def test_a_big_building_is_split_into_stops_of_bounded_size() -> None:
    stops, _ = build_stops([visit(f"v{i:02d}") for i in range(30)], PlanOptions(day=DAY, stop_max_visits=12))
    assert sorted(len(s.visit_ids) for s in stops) == [6, 12, 12]


def test_an_appointment_outside_the_legal_window_is_unplaced_with_its_reason() -> None:
    night = datetime.combine(DAY, time(22, 30), tzinfo=SHANGHAI)
    stops, unplaced = build_stops([visit("late", window_start=night, window_end=night.replace(hour=23))], OPTIONS)
    assert stops == []
    assert [(u.visit_id, u.reason) for u in unplaced] == [("late", Reason.OUTSIDE_EVERY_WINDOW)]


points = st.lists(
    st.tuples(st.floats(-2_000, 2_000), st.floats(-2_000, 2_000), st.sampled_from([None, "k1", "k2"])),
    min_size=1,
    max_size=60,
)


@settings(max_examples=100, deadline=None)
@given(points=points, radius=st.sampled_from([0.0, 25.0, 50.0, 150.0]))
def test_every_visit_is_in_exactly_one_stop_and_stops_stay_compact(
    points: list[tuple[float, float, str | None]], radius: float
) -> None:
    visits = [visit(f"v{i}", dx, dy, address_key=key) for i, (dx, dy, key) in enumerate(points)]
    stops, unplaced = build_stops(visits, PlanOptions(day=DAY, cluster_radius_m=radius))
    assert unplaced == []
    ids = [v for s in stops for v in s.visit_ids]
    assert sorted(ids) == sorted(v.id for v in visits)
    by_id = {v.id: v for v in visits}
    for stop in stops:
        for vid in stop.visit_ids:
            v = by_id[vid]
            if v.address_key is None:  # keyed visits join their address whatever the distance
                assert haversine_m(stop.lat, stop.lon, v.lat, v.lon) <= radius + 1e-6
