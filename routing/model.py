"""Plain values the engine takes and returns: visits, collectors, options in; a plan out.

Ids are strings the application chooses (its UUIDs as text); the engine never looks inside them.
Instants are timezone-aware datetimes; local times (shifts, the legal window) are read in the
timezone named next to them.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

import msgspec


class Visit(msgspec.Struct, frozen=True, kw_only=True):
    """One visit to route: where, in which timezone, how long, how important, and when it may happen."""

    id: str
    lat: float
    lon: float
    timezone: str
    service_s: int = 600
    priority: int = 0  # 0..100, higher is more important (see routing.priority)
    address_key: str | None = None  # normalised address or building id: equal keys -> one stop
    window_start: datetime | None = None  # an appointment narrows the legal window
    window_end: datetime | None = None
    jurisdiction: str | None = None  # picks a legal window from PlanOptions.legal_windows
    collector_id: str | None = None  # pinned to this collector (a dispatcher's assignment)


class Collector(msgspec.Struct, frozen=True, kw_only=True):
    """A collector's day: where it starts and ends, the shift in local time, and the visit capacity."""

    id: str
    start_lat: float
    start_lon: float
    end_lat: float | None = None  # None: back to the start
    end_lon: float | None = None
    timezone: str
    shift_start: time = time(8, 0)
    shift_end: time = time(17, 0)  # earlier than the start: the shift ends the next day
    capacity: int = 30  # max visits per day


class LegalWindow(msgspec.Struct, frozen=True):
    """The visiting window in the debtor's local time, as minutes after local midnight (end may be 1440)."""

    start_min: int = 8 * 60
    end_min: int = 22 * 60


class PlanOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How to plan a day. Defaults suit a city-sized team; every knob is explicit."""

    day: date
    legal_window: LegalWindow = LegalWindow()
    legal_windows: dict[str, LegalWindow] = {}  # by jurisdiction
    cluster_radius_m: float = 50.0
    stop_max_visits: int = 12
    region_max_stops: int = 320
    region_min_collectors: int = 10  # never more regions than the team can staff with this many each
    exploration_level: int = 0  # 1 gave ~4% less travel for ~2.2x the time on the 1,000-visit bench
    detour_factor: float = 1.35
    speed_kmh: float = 25.0
    workers: int = 0  # processes for regions; 0: one per CPU
    solver_threads: int = 1  # threads inside one region's solve
    spill: bool = True
    rescue_level: int = 1  # regions still leaving stops out are solved again at this level; 0: off
    polish_max_stops: int = 1000  # neighbouring regions re-solved together from their routes; 0: off


class Reason(StrEnum):
    """Why a visit is not in the plan."""

    OUTSIDE_EVERY_WINDOW = "outside_every_window"
    OVER_CAPACITY = "over_capacity"
    NO_COLLECTOR_IN_REACH = "no_collector_in_reach"
    ADDRESS_NOT_LOCATED = "address_not_located"  # set by the application: no usable coordinates


class Unplaced(msgspec.Struct, frozen=True):
    """A visit the plan could not place, why, and where it is (for the map)."""

    visit_id: str
    reason: Reason
    detail: str = ""
    lat: float | None = None
    lon: float | None = None


class PlannedVisit(msgspec.Struct, frozen=True):
    """A visit inside a stop, with its own ETA (stops serve their visits one after another)."""

    visit_id: str
    eta: datetime
    service_s: int


class PlannedStop(msgspec.Struct, frozen=True):
    """One stop of a route: a place and the visits done there, in order, with arrival and wait."""

    stop_id: str
    order: int
    lat: float
    lon: float
    timezone: str
    eta: datetime  # when the first visit begins
    departure: datetime
    travel_s: int  # from the previous place
    wait_s: int
    visits: list[PlannedVisit]


class Route(msgspec.Struct, frozen=True):
    """One collector's day: ordered stops, totals, and the hull of the stops (GeoJSON coordinates)."""

    collector_id: str
    region_id: str
    start_at: datetime
    end_at: datetime
    travel_s: int
    service_s: int
    stops: list[PlannedStop]
    hull: list[list[list[float]]]  # polygon rings, [lon, lat]
    start: tuple[float, float]  # lat, lon
    end: tuple[float, float]


class Region(msgspec.Struct, frozen=True):
    """A group of H3 cells planned together, the collectors it got, and the hull of its stops."""

    id: str
    cells: list[str]
    collector_ids: list[str]
    stop_count: int
    visit_count: int
    hull: list[list[list[float]]]


class PlanStats(msgspec.Struct, frozen=True):
    """How the plan was made: sizes and seconds spent."""

    visits: int
    stops: int
    regions: int
    collectors: int
    placed_visits: int
    spilled_in: int
    seconds: float


class Plan(msgspec.Struct, frozen=True):
    """A day's plan: one route per collector used, the regions, what could not be placed and why."""

    day: date
    routes: list[Route]
    regions: list[Region]
    unplaced: list[Unplaced]
    total_travel_s: int
    stats: PlanStats
