"""How many and which collectors each region gets (no I/O).

A region's workload is its service time plus an estimate of its travel (the Beardwood-Halton-Hammersley
approximation 0.75 * sqrt(n * area) of a tour through n points), so a spread-out region gets more
hands than a dense one with the same visits. Collectors are grouped by shift. The day is cut into
slots at the shifts' starts and ends; each stop's work is spread over the slots of its window so
that every slot is loaded in proportion to the hands on duty in it, and a slot's work goes to the
shifts on duty then. Each shift's collectors are apportioned to regions by that work, or by the work
of the hours only that shift covers (a late shift's evening) where that share is larger; a shift
covering hours alone is apportioned so that no region's hands are stretched much thinner than
another's (Adams' method). Within those quotas collectors go to the regions nearest their home,
improved by pairwise swaps.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from datetime import date
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from shapely.geometry import MultiPoint

from routing.geo import haversine_matrix_m, local_projection
from routing.model import Collector
from routing.problem import end_of
from routing.regions import RegionDraft
from routing.windows import shift_interval

_BHH = 0.75
_FIT_ROUNDS = 30
# A shift that alone covers at least this part of its hours (a late shift's evening) is apportioned
# evenly (Adams); others by largest remainder, which keeps big regions their full share.
_SCARCE = 0.5
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


Slot = tuple[float, float]


def _slots(kinds: list[Kind]) -> list[Slot]:
    """The stretches of the day between consecutive shift starts and ends that some shift covers."""
    bounds = sorted({t for kind in kinds for t in kind})
    return [(a, b) for a, b in pairwise(bounds) if any(k[0] <= a and b <= k[1] for k in kinds)]


def _overlaps(draft: RegionDraft, slots: list[Slot]) -> npt.NDArray[np.float64]:
    """Seconds of each stop's window inside each slot (stops x slots)."""
    opens = np.array([s.window_start.timestamp() for s in draft.stops])
    closes = np.array([s.window_end.timestamp() for s in draft.stops])
    starts, ends = np.array([s[0] for s in slots]), np.array([s[1] for s in slots])
    overlap: npt.NDArray[np.float64] = np.clip(
        np.minimum(closes[:, None], ends[None, :]) - np.maximum(opens[:, None], starts[None, :]), 0, None
    )
    return overlap


def _split(overlap: npt.NDArray[np.float64], weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each stop's share of each slot: window overlap x the slot's weight, normalised per stop."""
    weight = overlap * weights[None, :]
    total = weight.sum(axis=1, keepdims=True)
    share: npt.NDArray[np.float64] = np.divide(
        weight, total, out=np.full_like(weight, 1.0 / weight.shape[1]), where=total > 0
    )
    return share


def _balanced_weights(
    overlaps: list[npt.NDArray[np.float64]], per_stop: list[float], supply: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Slot weights under which every slot of the day gets work in proportion to the hands on duty then.

    Spreading a stop's work by head count alone gave the late shift its head-count share of every
    all-day stop, so regions got late collectors by their size, not by their evening visits, which
    only the late shift can do (the 20,000-visit bench had regions with 30 evening visits per late
    collector). Fitted this way (iterative proportional fitting, a few dozen multiplications), the
    evening hours fill with the visits only they can take and all-day stops go where hands are spare.
    """
    work = sum(p * len(o) for o, p in zip(overlaps, per_stop, strict=True))
    target = supply / max(float(supply.sum()), 1.0) * work
    weights = np.ones_like(supply)
    for _ in range(_FIT_ROUNDS):
        load = sum(_split(o, weights).sum(axis=0) * p for o, p in zip(overlaps, per_stop, strict=True))
        weights = weights * np.sqrt(np.divide(target, load, out=np.ones_like(target), where=load > 0))
        weights = weights / weights.max()
    return weights


def _slot_work(
    draft: RegionDraft,
    overlap: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    detour_factor: float,
    speed_kmh: float,
) -> npt.NDArray[np.float64]:
    """A region's seconds of work in each slot: the service that falls in it plus a tour through those stops.

    The tour is estimated per slot, not as a share of the region's tour: the few evening visits of a
    region are far apart, so each costs more travel than an all-day stop among many.
    """
    share = _split(overlap, weights)
    service = np.array([s.total_service_s for s in draft.stops], dtype=np.float64) @ share
    tour_m = _BHH * np.sqrt(share.sum(axis=0) * _area_m2(draft)) * detour_factor
    work: npt.NDArray[np.float64] = service + tour_m / (speed_kmh / 3.6)
    return work


def _need(
    demand: npt.NDArray[np.float64], by_slot: npt.NDArray[np.float64], alone: npt.NDArray[np.bool_]
) -> list[float]:
    """A shift's weight in each region: its share of the region's work, or its share of the work in the
    hours only it covers (the evening, for a late shift) where that is larger."""
    share = demand / max(float(demand.sum()), 1e-9)
    only = by_slot[:, alone].sum(axis=1)
    if only.sum() > 0:
        share = np.maximum(share, only / only.sum())
    weights: list[float] = share.tolist()
    return weights


def apportion_evenly(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` so that the largest weight per head is as small as it can be (Adams' method).

    Largest-remainder rounding can leave one region a head short where its share was 3.4 and
    another's 4.5; in the hours only one shift covers, that short region then had to drop visits.
    Heads go one by one to the region with most weight per head it already has, so every region with
    some weight gets one before any gets a second.
    """
    if not any(w > 0 for w in weights):
        return apportion(total, weights)
    counts = [0] * len(weights)
    heap = [(False, -w, i) for i, w in enumerate(weights) if w > 0]  # (has a head, -weight per head, region)
    heapq.heapify(heap)
    for _ in range(total):
        _, _, i = heapq.heappop(heap)
        counts[i] += 1
        heapq.heappush(heap, (True, -weights[i] / counts[i], i))
    return counts


def shift_targets(
    drafts: list[RegionDraft], collectors: list[Collector], day: date, detour_factor: float, speed_kmh: float
) -> list[dict[Kind, int]]:
    """How many collectors of each shift each region gets; every region gets at least one if there are enough."""
    by_kind: dict[Kind, int] = defaultdict(int)
    for collector in collectors:
        by_kind[_kind(collector, day)] += 1
    kinds = sorted(by_kind)
    heads = [by_kind[k] for k in kinds]
    slots = _slots(kinds)
    # hands on duty in each slot, by shift (slots x shifts, in head-seconds)
    cover = np.array(
        [[h * (b - a) if k[0] <= a and b <= k[1] else 0.0 for k, h in zip(kinds, heads, strict=True)] for a, b in slots]
    )
    supply = cover.sum(axis=1)
    overlaps = [_overlaps(d, slots) for d in drafts]
    per_stop = [workload_s(d, detour_factor, speed_kmh) / len(d.stops) for d in drafts]
    weights = _balanced_weights(overlaps, per_stop, supply)
    by_slot = np.array(
        [_slot_work(d, o, weights, detour_factor, speed_kmh) for d, o in zip(drafts, overlaps, strict=True)]
    )
    demand = by_slot @ (cover / supply[:, None])  # a slot's work goes to the shifts on duty, by hands
    targets: list[dict[Kind, int]] = [{} for _ in drafts]
    for k, kind in enumerate(kinds):
        alone = cover[:, k] == supply
        hours = sum(b - a for (a, b), only in zip(slots, alone, strict=True) if only) / (kind[1] - kind[0])
        split = apportion_evenly if hours >= _SCARCE else apportion
        for ri, count in enumerate(split(by_kind[kind], _need(demand[:, k], by_slot, alone))):
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
