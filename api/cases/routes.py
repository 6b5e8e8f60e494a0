"""HTTP doors of cases: lists, detail, the case-status feed, the upstream import."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import Parameter

from api.auth import STAFF_MANAGERS, allow
from api.cases import importer, schemas, service
from api.cases.errors import CaseNotFound, ImportFormatUnknown, ImportHeaderInvalid
from api.errors import NotYourData, RequestBodyTooLarge
from api.http import Offset, errors
from api.openapi import REQUEST_BODY_OPT, text_body
from api.people.roles import Principal, Role
from sync.feed import CursorInvalid

Limit = Annotated[int, Parameter(ge=1, le=500, description="page size")]
READERS = (*STAFF_MANAGERS, Role.LEGAL)


class CaseController(Controller):
    """Cases under collection (dispatchers and supervisors of the team, legal, admins)."""

    path = "/v1/cases"
    tags = ["cases"]

    @get("/", guards=[allow(*READERS)], responses=errors(NotYourData))
    async def list_cases(
        self,
        principal: Principal,
        team_id: UUID | None = None,
        status: str | None = None,
        stage: str | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[schemas.Case]:
        """Cases by status and stage (early 1-30, middle 31-90, late 90+ days past due), newest change first."""
        rows = await service.list_cases(principal, team_id, status, stage, limit, offset)
        return [service.to_case(r) for r in rows]

    @get("/events", guards=[allow(Role.ADMIN, Role.SUPERVISOR)], responses=errors(CursorInvalid))
    async def case_events(
        self, principal: Principal, cursor: str | None = None, limit: Limit = 100
    ) -> schemas.CaseEventPage:
        """The case-status feed for the upstream system: ordered, paged by ``cursor``; it never skips an
        event that commits late and never repeats one past a cursor. Within one case, order events by
        ``data.case_version`` (concurrent writers can commit a case's events out of feed order). Supervisors
        see their team's."""
        return await service.case_feed(cursor, limit, principal)

    @get("/{case_id:uuid}", guards=[allow(*READERS)], responses=errors(CaseNotFound, NotYourData))
    async def get_case(self, case_id: UUID, principal: Principal) -> schemas.CaseDetail:
        """A case with its addresses, phones, visits, timeline and flags."""
        return await service.case_detail(case_id, principal)

    @post(
        "/import",
        guards=[allow(Role.ADMIN, Role.SUPERVISOR)],
        request_max_body_size=1024 * 1024 * 1024,
        responses=errors(ImportFormatUnknown, ImportHeaderInvalid, RequestBodyTooLarge),
        status_code=200,
        opt={REQUEST_BODY_OPT: text_body("the cases, streamed", "text/csv", "application/x-ndjson")},
    )
    async def import_cases(self, request: Request[Any, Any, Any]) -> importer.ImportReport:
        """Import cases from the upstream system: CSV (``text/csv``) or JSON Lines (``application/x-ndjson``),
        streamed. Upserts by (source, external_ref); importing the same file twice changes nothing. Bad rows
        are reported with their row number and never stop the good ones. See ``docs/import.md`` for columns."""
        content_type = request.headers.get("content-type", "")
        return await importer.import_stream(request.stream(), content_type)


ROUTES: list[Any] = [CaseController]
