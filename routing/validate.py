"""Checks on planner input, so bad data is a coded error instead of a crash deep in the solver."""

from __future__ import annotations

import math

from routing.errors import InvalidPlanInput, UnknownTimezone
from routing.model import Collector, PlanOptions, Visit
from routing.windows import zone

_MAX_SERVICE_S = 12 * 3600


def _coordinate(what: str, lat: float | None, lon: float | None) -> None:
    if lat is None or lon is None:
        return
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidPlanInput(f"{what}: lat/lon ({lat}, {lon}) is not a coordinate")


def _timezone(what: str, name: str) -> None:
    try:
        zone(name)
    except ValueError:
        raise UnknownTimezone(f"{what}: {name!r} is not a known IANA timezone") from None


def _visit(visit: Visit) -> None:
    what = f"visit {visit.id}"
    _coordinate(what, visit.lat, visit.lon)
    _timezone(what, visit.timezone)
    if not 0 <= visit.service_s <= _MAX_SERVICE_S:
        raise InvalidPlanInput(f"{what}: service_s must be between 0 and {_MAX_SERVICE_S}")
    if not 0 <= visit.priority <= 100:
        raise InvalidPlanInput(f"{what}: priority must be between 0 and 100")
    for instant in (visit.window_start, visit.window_end):
        if instant is not None and instant.tzinfo is None:
            raise InvalidPlanInput(f"{what}: appointment times must carry a timezone")


def _collector(collector: Collector) -> None:
    what = f"collector {collector.id}"
    _coordinate(what, collector.start_lat, collector.start_lon)
    _coordinate(what, collector.end_lat, collector.end_lon)
    _timezone(what, collector.timezone)
    if collector.capacity < 0:
        raise InvalidPlanInput(f"{what}: capacity must not be negative")
    if (collector.end_lat is None) != (collector.end_lon is None):
        raise InvalidPlanInput(f"{what}: give both end_lat and end_lon, or neither")


def _options(options: PlanOptions) -> None:
    if not 1971 <= options.day.year <= 9998:
        raise InvalidPlanInput(f"{options.day} is not a day that can be planned")
    windows = [options.legal_window, *options.legal_windows.values()]
    if any(not 0 <= w.start_min < w.end_min <= 1440 for w in windows):
        raise InvalidPlanInput("a legal window must satisfy 0 <= start < end <= 1440 minutes")
    if not (0 <= options.exploration_level <= 5 and 0 <= options.rescue_level <= 5):
        raise InvalidPlanInput("exploration_level and rescue_level must be between 0 and 5")
    if min(options.region_max_stops, options.region_min_collectors, options.stop_max_visits) < 1:
        raise InvalidPlanInput("region_max_stops, region_min_collectors and stop_max_visits must be positive")
    if options.cluster_radius_m < 0:
        raise InvalidPlanInput("cluster_radius_m must not be negative")
    if options.detour_factor < 1 or options.speed_kmh <= 0:
        raise InvalidPlanInput("detour_factor must be >= 1 and speed_kmh > 0")


def validate(visits: list[Visit], collectors: list[Collector], options: PlanOptions) -> None:
    """Raise a coded error for the first unusable visit, collector or option."""
    _options(options)
    for ids, what in (([v.id for v in visits], "visit"), ([c.id for c in collectors], "collector")):
        if len(set(ids)) != len(ids):
            raise InvalidPlanInput(f"a {what} id appears twice")
    for visit in visits:
        _visit(visit)
    for collector in collectors:
        _collector(collector)
