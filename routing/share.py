"""How many and which collectors each region gets (no I/O).

A region's workload is its service time plus an estimate of its travel (the Beardwood-Halton-Hammersley
approximation 0.75 * sqrt(n * area) of a tour through n points), so a spread-out region gets more
hands than a dense one with the same visits. Collectors' numbers are apportioned to regions by
workload (largest remainder), each region receives every shift in proportion (late shifts are what
evening appointments need), and within those quotas collectors go to the regions nearest their home,
improved by pairwise swaps.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from shapely.geometry import MultiPoint

from routing.geo import haversine_matrix_m, local_projection
from routing.model import Collector
from routing.problem import end_of
from routing.regions import RegionDraft

_BHH = 0.75


def _area_m2(draft: RegionDraft) -> float:
    lat0, lon0 = draft.centroid
    to_metres, _ = local_projection(lat0, lon0)
    hull = MultiPoint([to_metres(s.lon, s.lat) for s in draft.stops]).convex_hull
    return max(float(hull.area), 1.0)


def workload_s(draft: RegionDraft, detour_factor: float, speed_kmh: float) -> float:
    """Estimated seconds of work in a region: service plus travel between its stops."""
    service = sum(s.total_service_s for s in draft.stops)
    tour_m = _BHH * math.sqrt(len(draft.stops) * _area_m2(draft)) * detour_factor
    return service + tour_m / (speed_kmh / 3.6)


def apportion(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder), each >= ``minimum`` if it can."""
    n = len(weights)
    if n == 0:
        return []
    floor_each = minimum if total >= minimum * n else 0
    rest = total - floor_each * n
    weight_sum = sum(weights) or 1.0
    exact = [rest * w / weight_sum for w in weights]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(n), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: rest - sum(counts)]:
        counts[i] += 1
    return [c + floor_each for c in counts]


Costs = list[list[float]]


def _costs(collectors: list[Collector], drafts: list[RegionDraft]) -> Costs:
    """Metres from each collector's start and end to each region's centroid."""
    centre_lat = np.array([d.centroid[0] for d in drafts])
    centre_lon = np.array([d.centroid[1] for d in drafts])
    ends = [end_of(c) for c in collectors]
    start = haversine_matrix_m(
        np.array([c.start_lat for c in collectors]), np.array([c.start_lon for c in collectors]), centre_lat, centre_lon
    )
    end = haversine_matrix_m(np.array([e[0] for e in ends]), np.array([e[1] for e in ends]), centre_lat, centre_lon)
    total: Costs = (start + end).tolist()
    return total


def _greedy(
    collectors: list[Collector], cost: Costs, quota: list[int], targets: list[dict[tuple[str, str], int]]
) -> dict[int, int]:
    regions = len(quota)
    pairs = sorted((cost[ci][ri], ci, ri) for ci in range(len(collectors)) for ri in range(regions))
    placed: dict[int, int] = {}
    filled = [0] * regions
    by_class: list[dict[tuple[str, str], int]] = [defaultdict(int) for _ in range(regions)]
    for strict in (True, False):
        for _, ci, ri in pairs:
            if ci in placed or filled[ri] >= quota[ri]:
                continue
            kind = _kind(collectors[ci])
            if strict and by_class[ri][kind] >= targets[ri].get(kind, 0):
                continue
            placed[ci] = ri
            filled[ri] += 1
            by_class[ri][kind] += 1
    return placed


def _kind(collector: Collector) -> tuple[str, str]:
    return collector.shift_start.isoformat(), collector.shift_end.isoformat()


def _improve(collectors: list[Collector], cost: Costs, placed: dict[int, int], rounds: int = 3) -> None:
    members = sorted(placed)
    for _ in range(rounds):
        improved = False
        for a_pos, a in enumerate(members):
            for b in members[a_pos + 1 :]:
                ra, rb = placed[a], placed[b]
                if ra == rb or _kind(collectors[a]) != _kind(collectors[b]):
                    continue
                now = cost[a][ra] + cost[b][rb]
                swapped = cost[a][rb] + cost[b][ra]
                if swapped < now - 1.0:
                    placed[a], placed[b] = rb, ra
                    improved = True
        if not improved:
            return


def share_collectors(
    drafts: list[RegionDraft], collectors: list[Collector], detour_factor: float, speed_kmh: float
) -> list[list[Collector]]:
    """The collectors of each region (in the order of ``drafts``), by workload, home and shift mix."""
    if not drafts:
        return []
    loads = [workload_s(d, detour_factor, speed_kmh) for d in drafts]
    quota = apportion(len(collectors), loads, minimum=1)
    targets: list[dict[tuple[str, str], int]] = [{} for _ in drafts]
    by_kind: dict[tuple[str, str], list[Collector]] = defaultdict(list)
    for collector in collectors:
        by_kind[_kind(collector)].append(collector)
    for kind, members in by_kind.items():
        for ri, count in enumerate(apportion(len(members), [float(q) for q in quota])):
            targets[ri][kind] = count
    cost = _costs(collectors, drafts)
    placed = _greedy(collectors, cost, quota, targets)
    _improve(collectors, cost, placed)
    shares: list[list[Collector]] = [[] for _ in drafts]
    for ci in sorted(placed):
        shares[placed[ci]].append(collectors[ci])
    return shares
