"""Wire schemas of route planning: plan requests, plans, publishing, re-planning, collector profiles."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated
from uuid import UUID

import msgspec

from routing.model import Plan

Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Level = Annotated[int, msgspec.Meta(ge=0, le=5)]


class PlanCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Plan a team's day. Without ``visit_ids``: the team's open visits (requested or assigned, valid
    address), due by ``due_by`` when given. Without ``collector_ids``: the team's active collectors with
    a profile. Admins must name the team; dispatchers and supervisors plan their own."""

    day: date
    team_id: UUID | None = None
    collector_ids: list[UUID] | None = None
    visit_ids: Annotated[list[UUID], msgspec.Meta(max_length=50_000)] | None = None
    due_by: date | None = None
    keep_assignments: bool = True  # assigned visits stay with their collector
    exploration_level: Level = 0
    cluster_radius_m: Annotated[float, msgspec.Meta(ge=0, le=500)] = 50.0


class Replan(msgspec.Struct, forbid_unknown_fields=True):
    """Re-plan one collector or one region of a plan; every other route stays as it was.

    The scope takes what it should do now: its open visits from the plan, visits assigned to the
    collector since, new team visits in the region, and ``add_visit_ids``; cancelled, completed and
    reassigned-away visits drop out.
    """

    collector_id: UUID | None = None
    region_id: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    add_visit_ids: Annotated[list[UUID], msgspec.Meta(max_length=5_000)] = []


class PlanSummary(msgspec.Struct):
    """A plan without its routes."""

    id: UUID
    team_id: UUID
    day: date
    status: str
    parent_id: UUID | None
    requested_by: UUID | None
    created_at: datetime
    published_at: datetime | None
    error: str
    visits: int | None = None
    placed_visits: int | None = None
    total_travel_s: int | None = None


class SkippedCollector(msgspec.Struct):
    """A collector left out of the plan, and why."""

    collector_id: UUID
    reason: str


class PlanDetail(msgspec.Struct):
    """A plan: its status, and once ready the routes (ordered stops with ETAs), regions with hulls,
    unplaced visits with their reason, and totals."""

    summary: PlanSummary
    plan: Plan | None
    skipped_collectors: list[SkippedCollector]


class PublishedVisit(msgspec.Struct):
    """What publishing did to one visit."""

    visit_id: UUID
    result: str  # routed | unchanged | cleared | skipped
    detail: str = ""
    version: int | None = None


class PublishResult(msgspec.Struct):
    """The published plan and what happened to each visit it touches."""

    summary: PlanSummary
    visits: list[PublishedVisit]


class CollectorProfileIn(msgspec.Struct, forbid_unknown_fields=True):
    """A collector's home base, shift (local time in ``timezone``) and daily visit capacity."""

    home_lat: Latitude
    home_lon: Longitude
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    end_lat: Latitude | None = None
    end_lon: Longitude | None = None
    shift_start: time = time(8, 0)
    shift_end: time = time(17, 0)
    capacity: Annotated[int, msgspec.Meta(ge=0, le=200)] = 30


class CollectorProfile(msgspec.Struct):
    """A collector's profile as stored."""

    user_id: UUID
    home_lat: float
    home_lon: float
    end_lat: float | None
    end_lon: float | None
    timezone: str
    shift_start: time
    shift_end: time
    capacity: int
