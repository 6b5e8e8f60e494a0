"""What every plan must satisfy, checked visit by visit in each debtor's own timezone."""

from __future__ import annotations

from datetime import datetime, timedelta

from routing.model import Collector, Plan, PlanOptions, Visit
from routing.windows import legal_window, shift_interval, zone


def assert_plan_sound(plan: Plan, visits: list[Visit], collectors: list[Collector], options: PlanOptions) -> None:
    """Each visit once; every ETA inside its legal window (local time) and appointment; capacity; shifts."""
    by_visit = {v.id: v for v in visits}
    by_collector = {c.id: c for c in collectors}
    routed = [pv.visit_id for r in plan.routes for s in r.stops for pv in s.visits]
    assert len(routed) == len(set(routed)), "a visit is in two places"
    assert sorted(routed + [u.visit_id for u in plan.unplaced]) == sorted(by_visit), "visits lost or invented"
    for route in plan.routes:
        collector = by_collector[route.collector_id]
        shift_start, shift_end = shift_interval(collector, options.day)
        assert shift_start <= route.start_at <= route.end_at <= shift_end
        assert sum(len(s.visits) for s in route.stops) <= collector.capacity
        previous_end = route.start_at
        for stop in route.stops:
            assert stop.eta >= previous_end, "stops overlap in time"
            previous_end = stop.departure
            for planned in stop.visits:
                visit = by_visit[planned.visit_id]
                _assert_in_windows(visit, planned.eta, options)
                assert visit.collector_id in (None, route.collector_id)
        assert previous_end <= route.end_at


def _assert_in_windows(visit: Visit, eta_utc: datetime, options: PlanOptions) -> None:
    local = eta_utc.astimezone(zone(visit.timezone))
    end = local + timedelta(seconds=visit.service_s)
    window = options.legal_windows.get(visit.jurisdiction or "", options.legal_window)
    start_min = local.hour * 60 + local.minute + local.second / 60
    end_min = (end.date() - options.day).days * 1440 + end.hour * 60 + end.minute + end.second / 60
    assert local.date() == options.day, f"{visit.id} planned on {local.date()}"
    assert window.start_min <= start_min, f"{visit.id} starts at {local.time()} local, before the legal window"
    assert end_min <= window.end_min, f"{visit.id} ends at {end.time()} local, after the legal window"
    legal_start, legal_end = legal_window(visit, options)
    assert legal_start <= eta_utc
    assert end <= legal_end
    if visit.window_start is not None:
        assert eta_utc >= visit.window_start
    if visit.window_end is not None:
        assert end <= visit.window_end
