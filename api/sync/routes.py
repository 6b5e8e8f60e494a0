"""HTTP doors of sync: pull and push for devices; conflicts and device health for dispatchers.
The protocol is written down in ``docs/sync-protocol.md``."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import Parameter

from api.auth import APP_VERSION_HEADER, STAFF_MANAGERS, allow, device_only
from api.cases.errors import CaseNotFound, VisitNotFound
from api.db import single_write
from api.errors import NotYourData
from api.http import Offset, errors, transactional
from api.people.roles import Principal
from api.sync import resolutions, schemas, service
from api.sync.errors import ResolutionNotPossible
from sync.errors import (
    BatchTooLarge,
    ConflictAlreadyResolved,
    ConflictNotFound,
    ProtocolVersionUnsupported,
)
from sync.feed import CursorInvalid
from sync.protocol import PushRequest, PushResponse

Limit = Annotated[int, Parameter(ge=1, le=1000, description="page size (feed entries)")]
Protocol = Annotated[int, Parameter(description="the sync protocol version the app speaks (1)")]


class SyncController(Controller):
    """The device protocol: pull changes with a cursor, push mutations (each gets its own result)."""

    path = "/v1/sync"
    tags = ["sync"]

    @get("/pull", guards=[device_only], responses=errors(CursorInvalid, ProtocolVersionUnsupported))
    async def pull(
        self, principal: Principal, protocol: Protocol, cursor: str | None = None, limit: Limit = 200
    ) -> schemas.PullResponse:
        """Changes in your scope after ``cursor``: visits with what is needed at the door (upserts), visits you
        lost with the reason (reassigned, unassigned, cancelled, closed), and resolved conflicts of yours. Keep
        pulling with the returned cursor while ``has_more``. Without a cursor: everything from the beginning."""
        page = await service.pull(principal, cursor, limit, protocol)
        if service.pull_due(principal, page.cursor, protocol):  # device health, coalesced (see record_pull)
            async with single_write():  # one upsert
                await service.record_pull(principal, page.cursor, protocol)
        return page

    @post("/push", guards=[device_only], status_code=200, responses=errors(ProtocolVersionUnsupported, BatchTooLarge))
    @transactional
    async def push(self, request: Request[Any, Any, Any], data: PushRequest, principal: Principal) -> PushResponse:
        """Apply a batch of mutations in the device's order. Each gets its own result: ``applied``,
        ``duplicate``, ``merged``, ``conflict`` (held for review, see ``conflict_id``) or ``rejected`` (with a
        coded error; ``retryable`` ones should be pushed again). A mutation id the server has seen returns its
        first result (``replay``) and changes nothing. Types: visit.check_in, visit.check_out, visit.add_note,
        visit.record_outcome, visit.sign_agreement, case.update_contact, evidence.declare."""
        return await service.push(principal, data, request.headers.get(APP_VERSION_HEADER))


class ConflictController(Controller):
    """Conflicts held for review: both sides, the fields in dispute, soft or hard."""

    path = "/v1/sync/conflicts"
    tags = ["sync"]

    @get("/", guards=[allow(*STAFF_MANAGERS)])
    async def list_conflicts(
        self,
        principal: Principal,
        status: str | None = "open",
        user_id: UUID | None = None,
        entity_id: UUID | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        offset: Offset = 0,
    ) -> list[schemas.ConflictView]:
        """Conflicts of your team (``status=open`` by default; ``status=resolved`` for the record)."""
        rows = await resolutions.list_for(principal, status, user_id, entity_id, limit, offset)
        return [service.conflict_view(r) for r in rows]

    @get("/{conflict_id:uuid}", guards=[allow(*STAFF_MANAGERS)], responses=errors(ConflictNotFound, NotYourData))
    async def get_conflict(self, principal: Principal, conflict_id: UUID) -> schemas.ConflictView:
        """One conflict."""
        return service.conflict_view(await resolutions.get_for(principal, conflict_id))

    @post(
        "/{conflict_id:uuid}/resolve",
        guards=[allow(*STAFF_MANAGERS)],
        status_code=200,
        responses=errors(
            ConflictNotFound, ConflictAlreadyResolved, NotYourData, ResolutionNotPossible, VisitNotFound, CaseNotFound
        ),
    )
    @transactional
    async def resolve(self, principal: Principal, conflict_id: UUID, data: schemas.Resolution) -> schemas.ConflictView:
        """Resolve a conflict: ``take_device`` (apply what the device did), ``keep_server``, or ``merged`` (write
        ``value``). Applied atomically, written to the timeline, and sent to the device in its next pull."""
        row = await resolutions.resolve(conflict_id, data.resolution, data.value, data.note, principal)
        return service.conflict_view(row)


class DeviceHealthController(Controller):
    """Dispatchers' view of their team's devices."""

    path = "/v1/sync/devices"
    tags = ["sync"]

    @get("/", guards=[allow(*STAFF_MANAGERS)])
    async def device_health(self, principal: Principal, user_id: UUID | None = None) -> list[schemas.DeviceHealth]:
        """Per device: last pull, last push, cursor, pending conflicts, app version, last location fix time."""
        return await service.device_health(principal, user_id)


ROUTES: list[Any] = [SyncController, ConflictController, DeviceHealthController]
