"""Hulls of regions and routes (shapely), computed in metres around their own centre (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence

from shapely.geometry import MultiPoint, Polygon

from routing.geo import local_projection

Rings = list[list[list[float]]]


def hull(points: Sequence[tuple[float, float]], buffer_m: float = 120.0) -> Rings:
    """The convex hull of (lat, lon) points widened by ``buffer_m``, as GeoJSON polygon rings of [lon, lat]."""
    if not points:
        return []
    lat0 = sum(p[0] for p in points) / len(points)
    lon0 = sum(p[1] for p in points) / len(points)
    to_metres, to_degrees = local_projection(lat0, lon0)
    shape = MultiPoint([to_metres(lon, lat) for lat, lon in points]).convex_hull.buffer(buffer_m, quad_segs=4)
    assert isinstance(shape, Polygon)
    ring = [to_degrees(x, y) for x, y in shape.exterior.coords]
    return [[[round(lon, 6), round(lat, 6)] for lon, lat in ring]]
