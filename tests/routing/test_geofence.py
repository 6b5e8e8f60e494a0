"""The geofence helper against geodesic (pyproj) and haversine references."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from routing import geofence
from routing.geo import haversine_m

GEOD = Geod(ellps="WGS84")

latitudes = st.floats(min_value=-80, max_value=80)
longitudes = st.floats(min_value=-179.5, max_value=179.5)
bearings = st.floats(min_value=0, max_value=360)
distances = st.floats(min_value=1.0, max_value=50_000.0)


@settings(max_examples=300, deadline=None)
@given(lat=latitudes, lon=longitudes, bearing=bearings, metres=distances)
def test_distance_is_within_one_percent_of_the_geodesic_and_haversine(
    lat: float, lon: float, bearing: float, metres: float
) -> None:
    lon2, lat2, _ = GEOD.fwd(lon, lat, bearing, metres)
    measured = geofence.distance_m(lat, lon, lat2, lon2)
    assert measured == pytest.approx(metres, rel=0.01)
    assert measured == pytest.approx(haversine_m(lat, lon, lat2, lon2), rel=0.01)


def test_degrees_are_not_metres_at_high_latitude() -> None:
    # 0.01 degree of longitude is ~1,113 m at the equator but ~557 m at 60 degrees north.
    assert geofence.distance_m(60.0, 10.0, 60.0, 10.01) == pytest.approx(557.6, rel=0.01)
    assert geofence.distance_m(0.0, 10.0, 0.0, 10.01) == pytest.approx(1113.2, rel=0.01)


@pytest.mark.parametrize(("metres", "within"), [(0.0, True), (299.0, True), (301.0, False), (5_000.0, False)])
def test_within_radius_is_inclusive_and_exact_to_the_metre(metres: float, within: bool) -> None:
    lon2, lat2, _ = GEOD.fwd(121.47, 31.23, 45.0, metres)
    result = geofence.check(31.23, 121.47, lat2, lon2, radius_m=300.0)
    assert result.within is within
    assert math.isclose(result.distance_m, metres, abs_tol=0.5)
    assert result.radius_m == 300.0


def test_bad_coordinates_and_radius_are_refused() -> None:
    with pytest.raises(ValueError, match="coordinate"):
        geofence.distance_m(91.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="radius"):
        geofence.check(0.0, 0.0, 0.0, 0.0, radius_m=-1.0)
