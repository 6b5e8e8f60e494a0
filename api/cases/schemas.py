"""Wire schemas of cases, addresses, visits, the timeline, flags and the case feed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec


class Address(msgspec.Struct):
    """A place of the debtor."""

    id: UUID
    kind: str
    text: str
    lat: float | None
    lon: float | None
    timezone: str
    valid: bool
    invalid_reason: str
    origin: str


class Case(msgspec.Struct):
    """A case as dispatchers see it (the national id only as its last 4 characters)."""

    id: UUID
    source: str
    external_ref: str
    debtor_name: str
    national_id_last4: str
    amount_owed: Decimal
    currency: str
    days_past_due: int
    stage: str
    status: str
    contact_state: str
    team_id: UUID | None
    legal_flag: bool
    pending_confirmation: str
    version: int
    updated_at: datetime


class Visit(msgspec.Struct):
    """A visit."""

    id: UUID
    case_id: UUID
    address_id: UUID
    team_id: UUID | None
    type: str
    status: str
    origin: str
    requested_at: datetime
    due_date: date
    assigned_to: UUID | None
    partner_id: UUID | None
    priority: int
    attempt: int
    outcome: str | None
    outcome_at: datetime | None
    checked_in_at: datetime | None
    completed_at: datetime | None
    cancel_reason: str
    stop_order: int | None
    eta: datetime | None
    plan_id: UUID | None
    version: int


class TimelineEntry(msgspec.Struct):
    """One change in a visit's life."""

    id: int
    visit_id: UUID
    at: datetime
    kind: str
    actor_id: UUID | None
    device_id: UUID | None
    data: dict[str, Any]


class Flag(msgspec.Struct):
    """A flag raised on a visit."""

    id: UUID
    visit_id: UUID
    case_id: UUID
    kind: str
    detail: str
    raised_at: datetime


class VisitDetail(msgspec.Struct):
    """A visit with its address, timeline and flags."""

    visit: Visit
    address: Address
    timeline: list[TimelineEntry]
    flags: list[Flag]


class CaseDetail(msgspec.Struct):
    """A case with its addresses, visits and timeline."""

    case: Case
    phones: list[str]
    addresses: list[Address]
    visits: list[Visit]
    timeline: list[TimelineEntry]
    flags: list[Flag]


class CaseEvent(msgspec.Struct):
    """A case status change, as the upstream system receives it."""

    id: int
    case_id: UUID
    source_ref: str
    at: datetime
    from_status: str
    to_status: str
    reason: str
    visit_id: UUID | None
    data: dict[str, Any]


class CaseEventPage(msgspec.Struct):
    """A page of the case feed. Read again with ``cursor`` until ``has_more`` is false."""

    events: list[CaseEvent]
    cursor: str
    has_more: bool
