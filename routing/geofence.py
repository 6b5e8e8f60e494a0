"""Geofence helper for check-ins: how far a check-in is from its address, and whether that is allowed.

The distance is the geodesic on the WGS84 ellipsoid (pyproj's ``Geod``, Karney's algorithm), in
metres, not degrees: what an azimuthal equidistant projection centred on the address would give,
without building a projection per address (a sync push checks hundreds of check-ins a second).
"""

from __future__ import annotations

import msgspec
from pyproj import Geod

_WGS84 = Geod(ellps="WGS84")


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
    _, _, metres = _WGS84.inv(address_lon, address_lat, lon, lat)
    return float(metres)


def check(address_lat: float, address_lon: float, lat: float, lon: float, radius_m: float) -> GeofenceCheck:
    """Distance of a check-in from its address and whether it is within ``radius_m`` (inclusive)."""
    if radius_m < 0:
        raise ValueError("radius_m must not be negative")
    distance = distance_m(address_lat, address_lon, lat, lon)
    return GeofenceCheck(distance_m=distance, radius_m=radius_m, within=distance <= radius_m)
