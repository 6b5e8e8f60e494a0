"""Regions: groups of H3 cells holding at most a few hundred stops, planned together (no I/O).

Cells come from H3's fixed hierarchy, so the same streets fall in the same region day after day:
a coarse cell (resolution ``base_res``) that holds too many stops is split into its children, down
to ``max_res``; then the smallest groups are merged into the nearest group that still has room.
A region's id is its smallest cell id, so an unchanged region keeps its id.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import h3

from routing.clustering import Stop
from routing.geo import haversine_m

FINEST = 9


@dataclass
class RegionDraft:
    """A region being formed: its cells and the stops in them."""

    cells: list[str]
    stops: list[Stop]

    def __post_init__(self) -> None:
        self._lat = sum(s.lat for s in self.stops)
        self._lon = sum(s.lon for s in self.stops)

    @property
    def id(self) -> str:
        return f"region:{min(self.cells)}"

    @property
    def centroid(self) -> tuple[float, float]:
        n = max(1, len(self.stops))
        return self._lat / n, self._lon / n

    def absorb(self, other: RegionDraft) -> None:
        """Take over another draft's cells and stops."""
        self.cells.extend(other.cells)
        self.stops.extend(other.stops)
        self._lat += other._lat
        self._lon += other._lon


def _split(stops: list[Stop], cells: list[str], res: int, max_stops: int, max_res: int) -> list[RegionDraft]:
    by_cell: dict[str, list[int]] = defaultdict(list)
    for index, cell in enumerate(cells):
        by_cell[h3.cell_to_parent(cell, res)].append(index)
    drafts: list[RegionDraft] = []
    for cell in sorted(by_cell):
        members = by_cell[cell]
        if len(members) <= max_stops or res >= max_res:
            drafts.append(RegionDraft([cell], [stops[i] for i in members]))
        else:
            drafts.extend(_split([stops[i] for i in members], [cells[i] for i in members], res + 1, max_stops, max_res))
    return drafts


def _nearest_with_room(drafts: list[RegionDraft], small: RegionDraft, limit: int | None) -> RegionDraft | None:
    lat, lon = small.centroid
    best: tuple[float, str, RegionDraft] | None = None
    for other in drafts:
        if other is small or (limit is not None and len(other.stops) + len(small.stops) > limit):
            continue
        key = (haversine_m(lat, lon, *other.centroid), other.id, other)
        if best is None or key[:2] < best[:2]:
            best = key
    return best[2] if best else None


def _merge(drafts: list[RegionDraft], max_stops: int, max_regions: int) -> list[RegionDraft]:
    drafts = list(drafts)
    while len(drafts) > 1:
        drafts.sort(key=lambda d: (len(d.stops), d.id))
        too_many = len(drafts) > max_regions
        merged = False
        for small in drafts:
            if not too_many and len(small.stops) > max_stops // 2:
                break
            target = _nearest_with_room(drafts, small, None if too_many else max_stops)
            if target is not None:
                target.absorb(small)
                drafts.remove(small)
                merged = True
                break
        if not merged:
            break
    return sorted(drafts, key=lambda d: d.id)


def point_cell(lat: float, lon: float, res: int) -> str:
    """The cell at ``res`` that a point belongs to in region terms: the ancestor of its finest cell.

    H3 children do not tile their parent exactly, so this can differ from ``latlng_to_cell(lat, lon, res)``;
    regions are built, and tested for membership, this one way.
    """
    return str(h3.cell_to_parent(h3.latlng_to_cell(lat, lon, FINEST), res))


def region_has_point(cells: list[str], lat: float, lon: float) -> bool:
    """True when the point falls in one of the cells (as regions assign points)."""
    found = set(cells)
    return any(point_cell(lat, lon, r) in found for r in {h3.get_resolution(c) for c in found})


def make_regions(
    stops: list[Stop], max_stops: int, max_regions: int, base_res: int = 5, max_res: int = FINEST
) -> list[RegionDraft]:
    """Group stops into regions of at most ``max_stops`` stops (fewer than ``max_regions`` regions)."""
    if not stops:
        return []
    cells = [h3.latlng_to_cell(s.lat, s.lon, max_res) for s in stops]
    drafts = _split(stops, cells, base_res, max_stops, max_res)
    return _merge(drafts, max_stops, max(1, max_regions))


def region_count_limit(collectors: int, min_collectors_per_region: int) -> int:
    """How many regions a team can staff with at least ``min_collectors_per_region`` collectors each."""
    return max(1, math.floor(collectors / max(1, min_collectors_per_region)))
