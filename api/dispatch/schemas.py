"""Wire schemas of visit requests and dispatch."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from api.dispatch.visit_states import VisitType
from api.errors import ErrorBody

Reason = Annotated[str, msgspec.Meta(max_length=500)]


class VisitCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A visit request. Without ``address_id`` the case's best valid address is used (home first)."""

    case_id: UUID
    type: VisitType
    address_id: UUID | None = None
    due_date: date | None = None  # default: today + FIELDVISIT_VISIT_DUE_DAYS
    priority: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0
    assign_to: UUID | None = None
    partner_id: UUID | None = None
    appointment_start: datetime | None = None
    appointment_end: datetime | None = None


class DispatchAction(msgspec.Struct, forbid_unknown_fields=True):
    """One change: assign or reassign to a collector, unassign, or cancel.

    ``base_version``, when given, refuses the change if the visit moved on since.
    """

    visit_id: UUID
    action: Literal["assign", "reassign", "unassign", "cancel"]
    collector_id: UUID | None = None
    partner_id: UUID | None = None
    reason: Reason = ""
    base_version: int | None = None


class DispatchRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Many dispatch changes in one call; each succeeds or fails on its own."""

    actions: Annotated[list[DispatchAction], msgspec.Meta(min_length=1, max_length=1000)]


class DispatchResult(msgspec.Struct):
    """What happened to one action."""

    visit_id: UUID
    ok: bool
    version: int | None = None
    status: str | None = None
    error: ErrorBody | None = None


class DispatchResponse(msgspec.Struct):
    """One result per action, in the order sent."""

    results: list[DispatchResult]
