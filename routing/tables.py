"""Tables of the routing engine. Engine tables hold ids of application records as plain UUIDs
(no foreign keys into ``api``), so the engine never depends on the application."""

from __future__ import annotations

from piccolo.columns import UUID, Date, DoublePrecision, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class RoutePlan(Table, tablename="route_plan"):
    """A day's plan for a team: the request, then (once computed) the plan itself as JSON.

    status: pending -> running -> ready | failed; ready -> published | superseded.
    A re-plan is a new row whose ``parent`` is the plan it started from.
    """

    id = UUID(primary_key=True)
    team_id = UUID(index=True)
    day = Date(index=True)
    status = Varchar(length=12, index=True, default="pending")
    requested_by = UUID(null=True, default=None)
    parent = UUID(null=True, default=None)
    request = Text(default="{}")  # what was asked (msgspec JSON)
    body = Text(default="")  # the computed plan (msgspec JSON of routing.model.Plan)
    error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None)
    published_by = UUID(null=True, default=None)


class CollectorProfile(Table, tablename="collector_profile"):
    """Where a collector's day starts and ends, the shift in local time, and the visit capacity."""

    user_id = UUID(primary_key=True)
    home_lat = DoublePrecision()
    home_lon = DoublePrecision()
    end_lat = DoublePrecision(null=True, default=None)
    end_lon = DoublePrecision(null=True, default=None)
    timezone = Varchar(length=64)
    shift_start_min = Integer(default=8 * 60)
    shift_end_min = Integer(default=17 * 60)
    capacity = Integer(default=30)
    updated_at = Timestamptz(default=TimestamptzNow())
