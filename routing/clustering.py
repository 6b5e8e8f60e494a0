"""Visits at one place become one stop (no I/O).

Visits with the same normalised address key are one place whatever their coordinates; places within
``cluster_radius_m`` of a cluster's leader join it (leader clustering, so a stop never spreads over
more than twice the radius, unlike single-linkage chains along a street). A place's visits are then
split into stops that share a pin (the collector a dispatcher chose), a common window long enough
for all their service, and at most ``stop_max_visits`` visits.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime

import msgspec

from routing.geo import haversine_m
from routing.model import PlanOptions, Reason, Unplaced, Visit
from routing.windows import Interval, visit_window

_METRES_PER_DEGREE = 111_194.9


class Stop(msgspec.Struct, frozen=True, kw_only=True):
    """One place a collector stops at, with the visits done there and the window they all fit in."""

    id: str
    lat: float
    lon: float
    timezone: str
    visit_ids: list[str]
    service_s: list[int]
    window_start: datetime
    window_end: datetime  # the last visit ends by then
    priority: int
    collector_id: str | None = None

    @property
    def total_service_s(self) -> int:
        return sum(self.service_s)


def normalise_address(text: str) -> str:
    """A comparison key for a written address: case, punctuation and spacing ignored."""
    kept = "".join(ch.lower() if ch.isalnum() else " " for ch in text)
    return " ".join(kept.split())


def _places(visits: list[Visit]) -> list[list[Visit]]:
    by_key: dict[str, list[Visit]] = defaultdict(list)
    places: list[list[Visit]] = []
    for visit in visits:
        if visit.address_key:
            by_key[visit.address_key].append(visit)
        else:
            places.append([visit])
    places.extend(by_key.values())
    for place in places:
        place.sort(key=lambda v: v.id)
    places.sort(key=lambda p: (p[0].lat, p[0].lon, p[0].id))
    return places


def _leader_clusters(places: list[list[Visit]], radius_m: float) -> list[list[Visit]]:
    if radius_m <= 0 or not places:
        return [list(p) for p in places]
    max_abs_lat = min(89.0, max(abs(p[0].lat) for p in places))
    cell_lat = radius_m / _METRES_PER_DEGREE
    cell_lon = cell_lat / max(math.cos(math.radians(max_abs_lat)), 1e-6)  # widest needed: a superset of neighbours
    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    leaders: list[tuple[float, float]] = []
    clusters: list[list[Visit]] = []
    for place in places:
        lat, lon = place[0].lat, place[0].lon
        ci, cj = math.floor(lat / cell_lat), math.floor(lon / cell_lon)
        best, best_d = -1, radius_m
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for index in grid.get((ci + di, cj + dj), ()):
                    d = haversine_m(lat, lon, *leaders[index])
                    if d <= best_d:
                        best, best_d = index, d
        if best < 0:
            grid[(ci, cj)].append(len(leaders))
            leaders.append((lat, lon))
            clusters.append(list(place))
        else:
            clusters[best].extend(place)
    return clusters


def _split(cluster: list[tuple[Visit, Interval]], options: PlanOptions) -> list[list[tuple[Visit, Interval]]]:
    groups: list[list[tuple[Visit, Interval]]] = []
    ordered = sorted(cluster, key=lambda vw: (vw[0].collector_id or "", vw[1][1], vw[1][0], vw[0].id))
    current: list[tuple[Visit, Interval]] = []
    window: Interval | None = None
    for visit, vw in ordered:
        if current and window is not None:
            same_pin = current[0][0].collector_id == visit.collector_id
            start, end = max(window[0], vw[0]), min(window[1], vw[1])
            service = sum(v.service_s for v, _ in current) + visit.service_s
            if same_pin and len(current) < options.stop_max_visits and (end - start).total_seconds() >= service:
                current.append((visit, vw))
                window = (start, end)
                continue
            groups.append(current)
        current, window = [(visit, vw)], vw
    if current:
        groups.append(current)
    return groups


def _stop(group: list[tuple[Visit, Interval]], leader: Visit) -> Stop:
    group = sorted(group, key=lambda vw: vw[0].id)
    return Stop(
        id=f"stop:{group[0][0].id}",
        lat=leader.lat,
        lon=leader.lon,
        timezone=leader.timezone,
        visit_ids=[v.id for v, _ in group],
        service_s=[v.service_s for v, _ in group],
        window_start=max(w[0] for _, w in group),
        window_end=min(w[1] for _, w in group),
        priority=min(100, sum(max(0, v.priority) for v, _ in group)),
        collector_id=group[0][0].collector_id,
    )


def build_stops(visits: list[Visit], options: PlanOptions) -> tuple[list[Stop], list[Unplaced]]:
    """Cluster visits into stops; visits whose own window is empty come back as unplaced."""
    unplaced: list[Unplaced] = []
    windows: dict[str, Interval] = {}
    for visit in visits:
        window = visit_window(visit, options)
        if window is None:
            detail = "the appointment does not overlap the legal visiting window (or is shorter than the visit)"
            unplaced.append(Unplaced(visit.id, Reason.OUTSIDE_EVERY_WINDOW, detail, visit.lat, visit.lon))
        else:
            windows[visit.id] = window
    placeable = [v for v in visits if v.id in windows]
    stops: list[Stop] = []
    for cluster in _leader_clusters(_places(placeable), options.cluster_radius_m):
        leader = cluster[0]
        for group in _split([(v, windows[v.id]) for v in cluster], options):
            stops.append(_stop(group, leader))
    stops.sort(key=lambda s: s.id)
    return stops, unplaced
