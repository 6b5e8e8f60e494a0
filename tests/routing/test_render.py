"""GeoJSON and SVG of a plan."""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET
from datetime import date

from routing.geojson import plan_geojson
from routing.model import PlanOptions
from routing.planner import plan_day
from routing.svg import plan_svg
from tests.routing.values import collector, visit

DAY = date(2026, 6, 10)


def _plan():  # type: ignore[no-untyped-def]
    rng = random.Random(3)
    visits = [visit(f"v{i}", rng.uniform(-3000, 3000), rng.uniform(-3000, 3000)) for i in range(20)]
    visits.append(visit("far", 500_000, 0))
    return plan_day(visits, [collector("c1", -1000, 0), collector("c2", 1000, 0)], PlanOptions(day=DAY, workers=1))


def test_geojson_has_regions_areas_routes_numbered_stops_and_unplaced() -> None:
    plan = _plan()
    doc = json.loads(json.dumps(plan_geojson(plan, plan_id="p1")))
    assert doc["type"] == "FeatureCollection"
    kinds = [f["properties"]["kind"] for f in doc["features"]]
    assert {"region", "collector_area", "route", "start", "stop", "unplaced"} <= set(kinds)
    stops = [f for f in doc["features"] if f["properties"]["kind"] == "stop"]
    assert len(stops) == sum(len(r.stops) for r in plan.routes)
    for route in plan.routes:
        orders = [f["properties"]["order"] for f in stops if f["properties"]["collector_id"] == route.collector_id]
        assert orders == list(range(1, len(route.stops) + 1))
    for feature in doc["features"]:
        geometry = feature["geometry"]
        if geometry["type"] == "Polygon":
            ring = geometry["coordinates"][0]
            assert ring[0] == ring[-1]
            assert len(ring) >= 4
        if geometry["type"] == "Point":
            lon, lat = geometry["coordinates"]
            assert -180 <= lon <= 180
            assert -90 <= lat <= 90
    lines = [f for f in doc["features"] if f["properties"]["kind"] == "route"]
    assert len({f["properties"]["colour"] for f in lines}) == len(lines)


def test_svg_is_a_picture_with_areas_and_numbered_stops() -> None:
    plan = _plan()
    svg = plan_svg(plan)
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    numbers = [t.text for t in root.iter(f"{ns}text") if t.text and t.text.isdigit()]
    assert len(numbers) == sum(len(r.stops) for r in plan.routes)
    assert len(list(root.iter(f"{ns}polyline"))) == len(plan.routes)
    assert len(list(root.iter(f"{ns}polygon"))) >= len(plan.regions) + len(plan.routes)
    assert "no_collector_in_reach" in svg
