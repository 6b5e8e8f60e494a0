"""HTTP doors of visits: request, list, detail, bulk dispatch."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import Parameter

from api.auth import STAFF_MANAGERS, allow
from api.cases import schemas as case_schemas
from api.cases import service as cases
from api.cases.errors import (
    AddressMarkedInvalid,
    AddressNotFound,
    AddressNotOfCase,
    CaseNotCollectable,
    CaseNotFound,
    NoValidAddress,
    VisitNotFound,
)
from api.dispatch import schemas, service
from api.dispatch.errors import CollectorNotInTeam
from api.errors import NotYourData
from api.http import Offset, errors, transactional
from api.people.roles import Principal, Role

Limit = Annotated[int, Parameter(ge=1, le=500, description="page size")]


class VisitController(Controller):
    """Visits: dispatchers and supervisors manage their team's; collectors read their own (they sync)."""

    path = "/v1/visits"
    tags = ["visits"]

    @post(
        "/",
        guards=[allow(*STAFF_MANAGERS)],
        responses=errors(
            CaseNotFound,
            AddressNotFound,
            AddressNotOfCase,
            AddressMarkedInvalid,
            NoValidAddress,
            CaseNotCollectable,
            CollectorNotInTeam,
            NotYourData,
        ),
    )
    @transactional
    async def request_visit(self, data: schemas.VisitCreate, principal: Principal) -> case_schemas.Visit:
        """Request a visit (due in 7 days unless given). A visit to an address marked invalid is refused:
        invalid addresses are never dispatched again."""
        return cases.to_visit(await service.request_visit(data, principal))

    @get("/", guards=[allow(*STAFF_MANAGERS, Role.LEGAL)], responses=errors(NotYourData))
    async def list_visits(
        self,
        principal: Principal,
        status: str | None = None,
        team_id: UUID | None = None,
        collector_id: UUID | None = None,
        due_before: date | None = None,
        due_after: date | None = None,
        overdue: bool = False,
        case_id: UUID | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[case_schemas.Visit]:
        """Visits by status, team, collector, due date or overdue (open and past due), by due date."""
        return await service.list_visits(
            principal,
            status=status,
            team_id=team_id,
            collector_id=collector_id,
            due_before=due_before,
            due_after=due_after,
            overdue=overdue,
            case_id=case_id,
            limit=limit,
            offset=offset,
        )

    @get("/{visit_id:uuid}", responses=errors(VisitNotFound, NotYourData))
    async def get_visit(self, visit_id: UUID, principal: Principal) -> case_schemas.VisitDetail:
        """A visit with its address, timeline and flags (collectors: only their own)."""
        return await cases.visit_detail(visit_id, principal)

    @post("/dispatch", guards=[allow(*STAFF_MANAGERS)], status_code=200)
    @transactional
    async def dispatch(self, data: schemas.DispatchRequest, principal: Principal) -> schemas.DispatchResponse:
        """Assign, reassign, unassign or cancel one visit or many. Each action gets its own result; a refused
        action (another team's visit, a completed visit, a stale ``base_version``) leaves the others applied."""
        return await service.dispatch(data, principal)


ROUTES: list[Any] = [VisitController]
