"""HTTP doors of quality control."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import Parameter, QueryParameter

from api.auth import allow
from api.errors import NotYourData
from api.http import Offset, errors, transactional
from api.people.roles import Principal, Role
from api.qc import schemas, service
from api.qc.errors import ReviewNotFound
from api.settings import get_settings

Limit = Annotated[int, Parameter(ge=1, le=500, description="page size")]
ReviewState = Annotated[str | None, QueryParameter(name="state", description="pending, approved, has_issues, rejected")]


class QcController(Controller):
    """Monthly QC samples (default 30% of each collector's completed visits) and their review."""

    path = "/v1/qc"
    tags = ["quality control"]

    @post("/samples", guards=[allow(Role.SUPERVISOR, Role.ADMIN)], status_code=200)
    @transactional
    async def sample(self, data: schemas.SampleRequest) -> schemas.SampleResult:
        """Draw (or top up) a month's sample; the periodic job does this for the month that just ended."""
        return await service.sample_month(data.month, get_settings().compliance.qc_sample_share)

    @get("/reviews", guards=[allow(Role.SUPERVISOR, Role.DISPATCHER, Role.ADMIN)])
    async def list_reviews(
        self,
        principal: Principal,
        month: str | None = None,
        review_state: ReviewState = None,
        collector_id: UUID | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[schemas.Review]:
        """Reviews of your team (states: pending, approved, has_issues, rejected)."""
        return await service.list_reviews(principal, month, review_state, collector_id, limit, offset)

    @post(
        "/reviews/{review_id:uuid}",
        guards=[allow(Role.SUPERVISOR, Role.ADMIN)],
        status_code=200,
        responses=errors(ReviewNotFound, NotYourData),
    )
    @transactional
    async def review(self, review_id: UUID, data: schemas.ReviewUpdate, principal: Principal) -> schemas.Review:
        """Record your verdict on a sampled visit, with comments."""
        return await service.review(review_id, data, principal)


ROUTES: list[Any] = [QcController]
