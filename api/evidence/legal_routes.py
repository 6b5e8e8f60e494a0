"""HTTP doors for legal exports: request a bundle for a case or visits, follow it, download it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post

from api.auth import allow
from api.cases.access import get_visit_scope
from api.cases.tables import Case
from api.evidence import access, schemas
from api.evidence.config import evidence_config
from api.evidence.item_routes import NO_COMPRESSION
from api.evidence.ranges import file_response
from api.http import errors, transactional
from api.people.roles import Principal, Role
from evidence import exports
from evidence.errors import ExportNotFound, ExportNotReady, ExportScopeInvalid, RangeNotSatisfiable


class ExportView(msgspec.Struct):
    """An export: its state and, once ready, the bundle's sha256 and size."""

    id: UUID
    case_id: UUID
    visit_ids: list[UUID]
    state: str
    sha256: str
    size: int
    item_count: int
    notes: list[str]
    created_at: datetime
    finished_at: datetime | None
    download: str


def _view(info: exports.ExportInfo) -> ExportView:
    return ExportView(**info.__dict__, download=f"/v1/legal/exports/{info.id}/download")


async def _scope(data: schemas.ExportCreate) -> tuple[UUID, list[UUID]]:
    """The case and visits to export: a case, or visits that all belong to one case."""
    if data.visit_ids:
        cases = set()
        for visit_id in data.visit_ids:
            scope = await get_visit_scope(visit_id)
            if scope is None:
                raise ExportScopeInvalid(f"no visit {visit_id}")
            cases.add(scope.case_id)
        if len(cases) != 1 or (data.case_id is not None and data.case_id not in cases):
            raise ExportScopeInvalid("the visits of one export must belong to one case")
        return cases.pop(), list(dict.fromkeys(data.visit_ids))
    if data.case_id is None:
        raise ExportScopeInvalid("name a case_id or visit_ids")
    if not await Case.exists().where(Case.id == data.case_id):
        raise ExportScopeInvalid(f"no case {data.case_id}")
    return data.case_id, []


class LegalExportController(Controller):
    """Verifiable evidence bundles for court (legal and admins only)."""

    path = "/v1/legal/exports"
    tags = ["legal"]
    guards = [allow(Role.LEGAL, Role.ADMIN)]

    @post("/", status_code=202, responses=errors(ExportScopeInvalid))
    @transactional
    async def request_export(
        self, request: Request[Any, Any, Any], data: schemas.ExportCreate, principal: Principal
    ) -> ExportView:
        """Ask for a bundle of a case (all its visits) or of some visits of one case; a job builds it.

        The ZIP holds manifest.json, originals/, derived/, agreements/, custody.jsonl, timeline.jsonl,
        SHA256SUMS and a README telling an expert how to verify it (`fieldvisit evidence verify`)."""
        case_id, visit_ids = await _scope(data)
        who = access.who(principal, request.client.host if request.client else None)
        return _view(await exports.request_export(case_id, visit_ids, who, evidence_config().defer))

    @get("/{export_id:uuid}", responses=errors(ExportNotFound))
    async def get_export(self, export_id: UUID) -> ExportView:
        """An export's state; once ``ready`` its sha256 and size (the hash of the whole ZIP)."""
        return _view(await exports.get_export_or_raise(export_id))

    @get(
        "/{export_id:uuid}/download",
        opt=NO_COMPRESSION,
        media_type="application/zip",
        responses=errors(ExportNotFound, ExportNotReady, RangeNotSatisfiable),
    )
    @transactional
    async def download(self, request: Request[Any, Any, Any], export_id: UUID, principal: Principal) -> Response[Any]:
        """The bundle (HTTP Range supported, for resuming). Every download is logged."""
        info, path = await exports.ready_file(evidence_config(), export_id)
        range_header = request.headers.get("range")
        who = access.who(principal, request.client.host if request.client else None)
        response = file_response(path, "application/zip", range_header, f"evidence-{export_id}.zip")
        await exports.log_download(export_id, who, range_header or "all")
        response.headers["X-Bundle-SHA256"] = info.sha256
        return response
