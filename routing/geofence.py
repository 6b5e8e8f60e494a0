"""Geofence helper for check-ins: how far a check-in is from its address, and whether that is allowed.

Both points are projected into an azimuthal equidistant projection centred on the address, so the
distance is measured in metres on the WGS84 ellipsoid (shapely works in that plane), not in degrees.
"""

from __future__ import annotations

import msgspec
from shapely.geometry import Point

from routing.geo import local_projection


class GeofenceCheck(msgspec.Struct, frozen=True):
    """The distance of a check-in from its address and whether it lies within the allowed radius."""

    distance_m: float
    radius_m: float
    within: bool


def _check_coordinates(lat: float, lon: float) -> None:
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"not a coordinate: lat={lat}, lon={lon}")


def distance_m(address_lat: float, address_lon: float, lat: float, lon: float) -> float:
    """Metres from the address to the check-in position."""
    _check_coordinates(address_lat, address_lon)
    _check_coordinates(lat, lon)
    to_metres, _ = local_projection(address_lat, address_lon)
    centre = Point(to_metres(address_lon, address_lat))
    return float(centre.distance(Point(to_metres(lon, lat))))


def check(address_lat: float, address_lon: float, lat: float, lon: float, radius_m: float) -> GeofenceCheck:
    """Distance of a check-in from its address and whether it is within ``radius_m`` (inclusive)."""
    if radius_m < 0:
        raise ValueError("radius_m must not be negative")
    distance = distance_m(address_lat, address_lon, lat, lon)
    return GeofenceCheck(distance_m=distance, radius_m=radius_m, within=distance <= radius_m)
