"""Wire schemas of sync as the application fills them: what a phone gets at the door, conflicts,
device health. The engine's own shapes (push, results, removals) live in ``sync.protocol``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from sync.protocol import Removal


class DoorAddress(msgspec.Struct):
    """The address to visit."""

    id: UUID
    kind: str
    text: str
    lat: float | None
    lon: float | None
    timezone: str
    valid: bool


class DoorCase(msgspec.Struct):
    """What a collector needs about the debt at the door, and no more (national id: last 4 only)."""

    id: UUID
    debtor_name: str
    national_id_last4: str
    phones: list[str]
    preferred_phone: str
    amount_owed: Decimal
    currency: str
    days_past_due: int
    stage: str
    status: str
    contact_state: str
    version: int


class PreviousOutcome(msgspec.Struct):
    """An earlier outcome on the same case."""

    visit_id: UUID
    code: str
    at: datetime


class OpenPromise(msgspec.Struct):
    """The promise to pay being tracked on the case."""

    due_date: date
    amount: Decimal
    currency: str


class VisitAtDoor(msgspec.Struct):
    """A visit in the collector's scope, as the phone stores it."""

    id: UUID
    version: int
    status: str
    type: str
    due_date: date
    priority: int
    attempt: int
    outcome: str | None
    stop_order: int | None
    eta: datetime | None
    plan_id: UUID | None
    appointment_start: datetime | None
    appointment_end: datetime | None
    address: DoorAddress
    case: DoorCase
    previous_outcomes: list[PreviousOutcome]
    promise: OpenPromise | None


class ConflictView(msgspec.Struct):
    """A conflict with both sides and, once resolved, the decision."""

    id: UUID
    mutation_id: UUID
    device_id: UUID
    user_id: UUID
    entity: str
    entity_id: UUID
    kind: str
    reason: str
    fields: list[str]
    device_side: dict[str, Any]
    server_side: dict[str, Any]
    status: str
    resolution: str
    resolved_value: dict[str, Any]
    resolved_by: UUID | None
    resolved_at: datetime | None
    note: str
    created_at: datetime


class PullResponse(msgspec.Struct):
    """What changed in the collector's scope after ``cursor``. Pull again with the new cursor while
    ``has_more``; store the cursor only after the page is applied."""

    protocol: int
    server_time: datetime
    cursor: str
    has_more: bool
    visits: list[VisitAtDoor]
    removals: list[Removal]
    conflicts: list[ConflictView]


class Resolution(msgspec.Struct, forbid_unknown_fields=True):
    """A dispatcher's decision on a conflict: take the device's side, keep the server's, or write a merged
    value (``value``: for a field conflict, ``{"<field>": <value>}``)."""

    resolution: Literal["take_device", "keep_server", "merged"]
    value: dict[str, Any] = msgspec.field(default_factory=dict)
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class DeviceHealth(msgspec.Struct):
    """A device as dispatchers watch it."""

    device_id: UUID
    user_id: UUID
    label: str
    app_version: str
    revoked: bool
    last_seen_at: datetime | None
    last_pull_at: datetime | None
    last_push_at: datetime | None
    cursor: str
    last_seq: int
    last_fix_at: datetime | None
    pending_conflicts: int
