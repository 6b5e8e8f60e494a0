"""Re-planning one collector or one region keeps the rest of the plan as it was."""

from __future__ import annotations

import random
from datetime import date

from routing.model import PlanOptions
from routing.planner import plan_day
from routing.replan import region_contains, replan_scope
from tests.routing.checks import assert_plan_sound
from tests.routing.values import collector, visit

DAY = date(2026, 6, 10)
OPTIONS = PlanOptions(day=DAY, workers=1)


def _day() -> tuple[list, list]:  # type: ignore[type-arg]
    rng = random.Random(11)
    visits = [visit(f"v{i:02d}", rng.uniform(-4000, 4000), rng.uniform(-4000, 4000)) for i in range(36)]
    collectors = [collector("c1", -3000, 0), collector("c2", 3000, 0), collector("c3", 0, 3000)]
    return visits, collectors


def _visits_of(route) -> list[str]:  # type: ignore[no-untyped-def]
    return [v.visit_id for s in route.stops for v in s.visits]


def test_replanning_one_collector_leaves_the_others_unchanged() -> None:
    visits, collectors = _day()
    plan = plan_day(visits, collectors, OPTIONS)
    target = plan.routes[0]
    others = plan.routes[1:]
    mine = _visits_of(target)
    cancelled, added = mine[0], visit("new", 100, 100)
    scope = [v for v in visits if v.id in set(mine) - {cancelled}] + [added]
    collector_of = {c.id: c for c in collectors}
    replanned = replan_scope(plan, [collector_of[target.collector_id]], scope, OPTIONS, target.region_id)
    after = {r.collector_id: r for r in replanned.routes}
    for route in others:
        assert after[route.collector_id] == route  # every field: stops, order, ETAs, hull, travel
    new_mine = _visits_of(after[target.collector_id])
    assert "new" in new_mine
    assert cancelled not in new_mine
    assert cancelled not in {u.visit_id for u in replanned.unplaced}  # cancelled: gone from the plan
    still = [v for v in visits if v.id != cancelled] + [added]
    assert_plan_sound(replanned, still, collectors, OPTIONS)


def test_a_visit_reassigned_to_the_replanned_collector_leaves_its_old_route_only() -> None:
    visits, collectors = _day()
    plan = plan_day(visits, collectors, OPTIONS)
    first, second, third = plan.routes
    moved = _visits_of(second)[0]
    scope = [v for v in visits if v.id in set(_visits_of(first)) | {moved}]
    collector_of = {c.id: c for c in collectors}
    replanned = replan_scope(plan, [collector_of[first.collector_id]], scope, OPTIONS, first.region_id)
    after = {r.collector_id: r for r in replanned.routes}
    assert moved in _visits_of(after[first.collector_id])
    assert _visits_of(after[second.collector_id]) == [v for v in _visits_of(second) if v != moved]
    kept = [s for s in second.stops if moved not in {v.visit_id for v in s.visits}]
    assert [s.eta for s in after[second.collector_id].stops] == [s.eta for s in kept]
    assert after[third.collector_id] == third
    assert_plan_sound(replanned, visits, collectors, OPTIONS)


def test_replanning_a_region_touches_only_its_collectors() -> None:
    rng = random.Random(12)
    west = [visit(f"w{i}", -20_000 + rng.uniform(-2000, 2000), rng.uniform(-2000, 2000)) for i in range(30)]
    east = [visit(f"e{i}", 20_000 + rng.uniform(-2000, 2000), rng.uniform(-2000, 2000)) for i in range(30)]
    collectors = [collector(f"cw{i}", -20_000, 0) for i in range(3)] + [
        collector(f"ce{i}", 20_000, 0) for i in range(3)
    ]
    options = PlanOptions(day=DAY, workers=1, region_max_stops=35, region_min_collectors=3)
    plan = plan_day(west + east, collectors, options)
    assert plan.stats.regions == 2
    region = next(r for r in plan.regions if region_contains(r, west[0].lat, west[0].lon))
    assert all(region_contains(region, v.lat, v.lon) for v in west)
    assert not any(region_contains(region, v.lat, v.lon) for v in east)
    scope_collectors = [c for c in collectors if c.id in region.collector_ids]
    added = visit("w-new", -20_000, 500)
    replanned = replan_scope(plan, scope_collectors, [*west[1:], added], options, region.id)
    before = {r.collector_id: r for r in plan.routes}
    for route in replanned.routes:
        if route.collector_id not in region.collector_ids:
            assert route == before[route.collector_id]
    west_visits = {v for r in replanned.routes if r.region_id == region.id for v in _visits_of(r)}
    assert "w-new" in west_visits
    assert west[0].id not in west_visits
