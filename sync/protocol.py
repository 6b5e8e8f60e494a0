"""The device sync protocol's wire shapes (shared by every version the server still speaks).

A push carries mutations in the device's own order; each gets one result. A pull returns what
changed in the user's scope after a cursor. ``SUPPORTED`` lists the protocol versions accepted:
an older app keeps pushing with its version as long as it is listed here (a version adapter in
``sync.push.upgrade`` rewrites an old mutation into the current shape).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import msgspec

CURRENT = 1
SUPPORTED = frozenset({1})
MAX_BATCH = 500


class Status(StrEnum):
    """What the server did with a mutation."""

    APPLIED = "applied"  # done as asked
    DUPLICATE = "duplicate"  # its effect already existed (e.g. the same outcome recorded before)
    MERGED = "merged"  # applied on a newer server state; the fields did not overlap, or kept as superseded
    CONFLICT = "conflict"  # kept, not applied: a human decides (see conflict_id)
    REJECTED = "rejected"  # invalid or not allowed (see error); retryable ones may be pushed again


class Location(msgspec.Struct, forbid_unknown_fields=True):
    """Where the device was when the mutation was made."""

    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    accuracy_m: Annotated[float, msgspec.Meta(ge=0, le=100_000)] | None = None
    mock: bool = False  # the OS reported a mock-location provider
    fix_time: datetime | None = None


MAX_COUNTER = 2**53 - 1
"""The largest sequence number, version or duration a device may send: what a JavaScript app holds
exactly, and far inside the 64-bit columns that store them (a larger one failed there as a 500)."""
Counter = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNTER)]


class MutationIn(msgspec.Struct, forbid_unknown_fields=True):
    """One change made on a device.

    ``id`` is generated on the device and makes the mutation idempotent; ``seq`` is the device's own
    order; ``base_version`` is the version of the target the device saw when it made the change;
    ``elapsed_ms`` is the monotonic time since the device's last successful sync (device clocks lie).
    """

    id: UUID
    seq: Counter
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    device_time: datetime
    target: UUID | None = None
    base_version: Counter | None = None
    elapsed_ms: Counter | None = None
    location: Location | None = None
    payload: dict[str, Any] = msgspec.field(default_factory=dict)


class PushRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A batch of mutations, in the device's order."""

    protocol: int
    mutations: Annotated[list[MutationIn], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


class MutationError(msgspec.Struct):
    """Why a mutation was rejected."""

    error: str
    code: str
    detail: str
    retryable: bool = False


class MutationResult(msgspec.Struct, omit_defaults=True):
    """What happened to one mutation. A replayed mutation id gets its first result again (``replay``)."""

    id: UUID
    seq: int
    status: Status
    versions: dict[str, int] = msgspec.field(default_factory=dict)
    conflict_id: UUID | None = None
    error: MutationError | None = None
    detail: str = ""
    data: dict[str, Any] = msgspec.field(default_factory=dict)
    replay: bool = False


class PushResponse(msgspec.Struct):
    """One result per mutation, in the order sent."""

    protocol: int
    server_time: datetime
    results: list[MutationResult]


class Removal(msgspec.Struct):
    """An entity that left the device's scope, and why (reassigned, unassigned, cancelled, closed)."""

    entity: str
    id: UUID
    reason: str
