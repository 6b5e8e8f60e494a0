"""How many and which collectors each region gets (no I/O).

A region's workload is its service time plus an estimate of its travel (the Beardwood-Halton-Hammersley
approximation 0.75 * sqrt(n * area) of a tour through n points), so a spread-out region gets more
hands than a dense one with the same visits. Collectors are grouped by shift; each stop's work is
shared among the shifts that overlap its window (weighted by overlap and head count), so a region
full of evening appointments gets late shifts and not just hands. Each shift's collectors are
apportioned to regions by the work that falls to that shift (largest remainder), and within those
quotas go to the regions nearest their home, improved by pairwise swaps.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

import numpy as np
import numpy.typing as npt
from shapely.geometry import MultiPoint

from routing.geo import haversine_matrix_m, local_projection
from routing.model import Collector
from routing.problem import end_of
from routing.regions import RegionDraft
from routing.windows import shift_interval

_BHH = 0.75
Kind = tuple[float, float]  # a shift as UTC epoch seconds


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
    if sum(weights) <= 0:
        weights = [1.0] * n
    weight_sum = sum(weights)
    exact = [rest * w / weight_sum for w in weights]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(n), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: rest - sum(counts)]:
        counts[i] += 1
    return [c + floor_each for c in counts]


def _kind(collector: Collector, day: date) -> Kind:
    start, end = shift_interval(collector, day)
    return start.timestamp(), end.timestamp()


def _shift_demand(
    draft: RegionDraft, kinds: list[Kind], heads: list[int], detour_factor: float, speed_kmh: float
) -> npt.NDArray[np.float64]:
    """The work of a region that falls to each shift: each stop shared by window overlap x head count."""
    opens = np.array([s.window_start.timestamp() for s in draft.stops])
    closes = np.array([s.window_end.timestamp() for s in draft.stops])
    starts, ends = np.array([k[0] for k in kinds]), np.array([k[1] for k in kinds])
    overlap = np.clip(np.minimum(closes[:, None], ends[None, :]) - np.maximum(opens[:, None], starts[None, :]), 0, None)
    weight = overlap * np.array(heads, dtype=np.float64)[None, :]
    total = weight.sum(axis=1, keepdims=True)
    share = np.divide(weight, total, out=np.full_like(weight, 1.0 / len(kinds)), where=total > 0)
    per_stop = workload_s(draft, detour_factor, speed_kmh) / len(draft.stops)
    demand: npt.NDArray[np.float64] = (share * per_stop).sum(axis=0)
    return demand


def shift_targets(
    drafts: list[RegionDraft], collectors: list[Collector], day: date, detour_factor: float, speed_kmh: float
) -> list[dict[Kind, int]]:
    """How many collectors of each shift each region gets; every region gets at least one if there are enough."""
    by_kind: dict[Kind, int] = defaultdict(int)
    for collector in collectors:
        by_kind[_kind(collector, day)] += 1
    kinds = sorted(by_kind)
    heads = [by_kind[k] for k in kinds]
    demand = np.array([_shift_demand(d, kinds, heads, detour_factor, speed_kmh) for d in drafts])
    targets: list[dict[Kind, int]] = [{} for _ in drafts]
    for k, kind in enumerate(kinds):
        for ri, count in enumerate(apportion(by_kind[kind], demand[:, k].tolist())):
            targets[ri][kind] = count
    _staff_every_region(targets, demand.sum(axis=1).tolist())
    return targets


def _staff_every_region(targets: list[dict[Kind, int]], load: list[float]) -> None:
    """Move one collector from the region with most hands per work to each region left with none."""
    for empty in [i for i, t in enumerate(targets) if sum(t.values()) == 0]:
        donors = [i for i, t in enumerate(targets) if sum(t.values()) > 1]
        if not donors:
            return
        donor = max(donors, key=lambda i: (sum(targets[i].values()) / max(load[i], 1.0), -i))
        kind = max(targets[donor], key=lambda k: targets[donor][k])
        targets[donor][kind] -= 1
        targets[empty][kind] = targets[empty].get(kind, 0) + 1


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


def _greedy(kinds: list[Kind], cost: Costs, targets: list[dict[Kind, int]]) -> dict[int, int]:
    """Nearest first, within each region's quota of each shift."""
    pairs = sorted((cost[ci][ri], ci, ri) for ci in range(len(kinds)) for ri in range(len(targets)))
    placed: dict[int, int] = {}
    left = [dict(t) for t in targets]
    for _, ci, ri in pairs:
        if ci not in placed and left[ri].get(kinds[ci], 0) > 0:
            placed[ci] = ri
            left[ri][kinds[ci]] -= 1
    return placed


def _improve(kinds: list[Kind], cost: Costs, placed: dict[int, int], rounds: int = 3) -> None:
    """Swap two collectors of the same shift between regions when both get nearer home."""
    members = sorted(placed)
    for _ in range(rounds):
        improved = False
        for a_pos, a in enumerate(members):
            for b in members[a_pos + 1 :]:
                ra, rb = placed[a], placed[b]
                if ra == rb or kinds[a] != kinds[b]:
                    continue
                now = cost[a][ra] + cost[b][rb]
                swapped = cost[a][rb] + cost[b][ra]
                if swapped < now - 1.0:
                    placed[a], placed[b] = rb, ra
                    improved = True
        if not improved:
            return


def share_collectors(
    drafts: list[RegionDraft], collectors: list[Collector], day: date, detour_factor: float, speed_kmh: float
) -> list[list[Collector]]:
    """The collectors of each region (in the order of ``drafts``), by workload, shift and home."""
    if not drafts or not collectors:
        return [[] for _ in drafts]
    targets = shift_targets(drafts, collectors, day, detour_factor, speed_kmh)
    kinds = [_kind(c, day) for c in collectors]
    cost = _costs(collectors, drafts)
    placed = _greedy(kinds, cost, targets)
    _improve(kinds, cost, placed)
    shares: list[list[Collector]] = [[] for _ in drafts]
    for ci in sorted(placed):
        shares[placed[ci]].append(collectors[ci])
    return shares
