"""HTTP doors of route planning: plans (JSON, GeoJSON, SVG), publishing, re-planning, collector profiles."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.params import Parameter

from api.auth import STAFF_MANAGERS, allow
from api.errors import NotYourData
from api.http import errors, transactional
from api.people.roles import Principal
from api.routing import schemas, service
from routing.errors import (
    CollectorProfileNotFound,
    InvalidPlanInput,
    PlanAlreadyPublished,
    PlanNotFound,
    PlanNotReady,
    PlanSuperseded,
    ReplanScopeUnknown,
    UnknownTimezone,
)
from routing.geojson import plan_geojson
from routing.svg import plan_svg

Limit = Annotated[int, Parameter(ge=1, le=200, description="page size")]
_REF = "plan id, optionally with .geojson or .svg"


class PlanController(Controller):
    """Daily route plans of a team: dispatchers, supervisors (of the team) and admins only."""

    path = "/v1/routing/plans"
    tags = ["routing"]
    guards = [allow(*STAFF_MANAGERS)]

    @post("/", status_code=202, responses=errors(InvalidPlanInput, NotYourData))
    @transactional
    async def request_plan(self, data: schemas.PlanCreate, principal: Principal) -> schemas.PlanSummary:
        """Plan a team's day. Answers at once with the pending plan; a job computes it (poll its status).

        The plan holds, per collector, the ordered stops with ETAs (inside the legal visiting window in
        the debtor's timezone, narrowed by appointments), region and collector hulls, the total travel
        time, and every visit it could not place with the reason."""
        return await service.request_plan(data, principal)

    @get("/", responses=errors(NotYourData))
    async def list_plans(
        self, principal: Principal, team_id: UUID | None = None, day: date | None = None, limit: Limit = 50
    ) -> list[schemas.PlanSummary]:
        """Plans of your team, newest first (admins: any team)."""
        return await service.list_plans(principal, team_id, day, limit)

    @get(
        "/{ref:str}",
        responses=errors(PlanNotFound, PlanNotReady, NotYourData),
        description=(
            "`GET /v1/routing/plans/{id}`: the plan as JSON (or MessagePack). "
            "`GET /v1/routing/plans/{id}.geojson`: a GeoJSON FeatureCollection (regions, collector areas, "
            "route lines, numbered stops, unplaced visits; every feature has a `kind` property). "
            "`GET /v1/routing/plans/{id}.svg`: a picture of the plan, one colour per collector."
        ),
    )
    async def get_plan(self, ref: Annotated[str, Parameter(description=_REF)], principal: Principal) -> Response[Any]:
        """A plan: JSON detail, GeoJSON (``{id}.geojson``) or an SVG picture (``{id}.svg``)."""
        raw, _, suffix = ref.partition(".")
        try:
            plan_id = UUID(raw)
        except ValueError:
            raise PlanNotFound(f"{ref!r} is not a plan id") from None
        if suffix == "":
            return Response(await service.plan_detail(plan_id, principal))
        if suffix not in ("geojson", "svg"):
            raise PlanNotFound(f"plans are served as JSON, .geojson or .svg, not .{suffix}")
        _, body = await service.ready_plan(plan_id, principal)
        if suffix == "svg":
            return Response(plan_svg(body.plan), media_type="image/svg+xml")
        content = msgspec.json.encode(plan_geojson(body.plan, plan_id=str(plan_id)))
        return Response(content, media_type="application/geo+json")

    @post(
        "/{plan_id:uuid}/publish",
        status_code=200,
        responses=errors(PlanNotFound, PlanNotReady, PlanAlreadyPublished, PlanSuperseded, NotYourData),
    )
    @transactional
    async def publish(self, plan_id: UUID, principal: Principal) -> schemas.PublishResult:
        """Publish a ready plan: each routed visit gets its collector, stop order and ETA (phones receive
        them with the visit in their next sync pull); earlier published plans of the day are superseded."""
        return await service.publish(plan_id, principal)

    @post(
        "/{plan_id:uuid}/replan",
        status_code=202,
        responses=errors(PlanNotFound, PlanNotReady, ReplanScopeUnknown, InvalidPlanInput, NotYourData),
    )
    @transactional
    async def replan(self, plan_id: UUID, data: schemas.Replan, principal: Principal) -> schemas.PlanSummary:
        """Re-plan one collector or one region of a plan (a new plan; every other route is kept as it was)."""
        return await service.request_replan(plan_id, data, principal)


class CollectorProfileController(Controller):
    """Where each collector's day starts and ends, the shift, and the daily visit capacity."""

    path = "/v1/routing/collectors"
    tags = ["routing"]
    guards = [allow(*STAFF_MANAGERS)]

    @put("/{user_id:uuid}", responses=errors(CollectorProfileNotFound, UnknownTimezone, InvalidPlanInput, NotYourData))
    @transactional
    async def save_profile(
        self, user_id: UUID, data: schemas.CollectorProfileIn, principal: Principal
    ) -> schemas.CollectorProfile:
        """Set a collector's home base, shift (local time) and capacity (a dispatcher of the team)."""
        return await service.save_profile(user_id, data, principal)

    @get("/{user_id:uuid}", responses=errors(CollectorProfileNotFound, NotYourData))
    async def get_profile(self, user_id: UUID, principal: Principal) -> schemas.CollectorProfile:
        """A collector's routing profile."""
        return await service.get_profile(user_id, principal)


ROUTES: list[Any] = [PlanController, CollectorProfileController]
