"""A plan as GeoJSON: regions, collector areas, route lines, numbered stops and unplaced visits (no I/O)."""

from __future__ import annotations

from typing import Any

from routing.colours import collector_colours
from routing.model import Plan, Route

Feature = dict[str, Any]


def _feature(geometry: dict[str, Any], **properties: Any) -> Feature:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _route_features(route: Route, colour: str) -> list[Feature]:
    cid = route.collector_id
    path = [[route.start[1], route.start[0]], *([s.lon, s.lat] for s in route.stops), [route.end[1], route.end[0]]]
    features = [
        _feature(
            {"type": "Polygon", "coordinates": route.hull}, kind="collector_area", collector_id=cid, colour=colour
        ),
        _feature(
            {"type": "LineString", "coordinates": path},
            kind="route",
            collector_id=cid,
            colour=colour,
            region_id=route.region_id,
            travel_s=route.travel_s,
            service_s=route.service_s,
            stops=len(route.stops),
            start_at=route.start_at.isoformat(),
            end_at=route.end_at.isoformat(),
        ),
        _feature({"type": "Point", "coordinates": path[0]}, kind="start", collector_id=cid, colour=colour),
    ]
    for stop in route.stops:
        features.append(
            _feature(
                {"type": "Point", "coordinates": [stop.lon, stop.lat]},
                kind="stop",
                collector_id=cid,
                colour=colour,
                order=stop.order,
                eta=stop.eta.isoformat(),
                departure=stop.departure.isoformat(),
                visit_ids=[v.visit_id for v in stop.visits],
                visit_etas=[v.eta.isoformat() for v in stop.visits],
            )
        )
    return features


def plan_geojson(plan: Plan, *, plan_id: str | None = None) -> dict[str, Any]:
    """The plan as a GeoJSON FeatureCollection, with a ``kind`` property on every feature."""
    colours = collector_colours([r.collector_id for r in plan.routes])
    features: list[Feature] = [
        _feature(
            {"type": "Polygon", "coordinates": region.hull},
            kind="region",
            region_id=region.id,
            stop_count=region.stop_count,
            visit_count=region.visit_count,
            collector_ids=region.collector_ids,
        )
        for region in plan.regions
        if region.hull
    ]
    for route in plan.routes:
        features.extend(_route_features(route, colours[route.collector_id]))
    features.extend(
        _feature(
            {"type": "Point", "coordinates": [u.lon, u.lat]}, kind="unplaced", visit_id=u.visit_id, reason=str(u.reason)
        )
        for u in plan.unplaced
        if u.lat is not None and u.lon is not None
    )
    properties = {"day": plan.day.isoformat(), "total_travel_s": plan.total_travel_s, "plan_id": plan_id}
    return {"type": "FeatureCollection", "properties": properties, "features": features}
