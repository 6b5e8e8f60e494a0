"""Values the evidence engine takes and returns (msgspec Structs, also used on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from evidence.kinds import EvidenceKind, ItemState


class Flag(msgspec.Struct, frozen=True):
    """Something doubtful about an item: hostile or unreadable content, missing consent, unsafe name."""

    code: str
    detail: str


class Derived(msgspec.Struct, frozen=True):
    """A file made from an item, with its parents' hashes and how it was made."""

    role: str
    sha256: str
    size: int
    content_type: str
    parents: list[str]
    recipe: dict[str, Any]


class Item(msgspec.Struct, frozen=True):
    """An evidence item and what is known about it."""

    id: UUID
    visit_id: UUID
    case_id: UUID
    kind: EvidenceKind
    sha256: str
    size: int | None
    content_type: str
    state: ItemState
    capture: dict[str, Any]
    media: dict[str, Any]
    flags: list[Flag]
    filename: str
    declared_by: UUID | None
    device_id: UUID | None
    declared_at: datetime
    received_at: datetime | None
    verified_at: datetime | None
    processed_at: datetime | None
    derived: list[Derived] = msgspec.field(default_factory=list)

    @property
    def present(self) -> bool:
        """True once the bytes arrived and were verified."""
        return self.state in (ItemState.VERIFIED, ItemState.PROCESSED)


class DeclareItem(msgspec.Struct, frozen=True):
    """A declaration: the phone's id for the item, its visit, kind and the sha256 computed at capture."""

    id: UUID
    visit_id: UUID
    case_id: UUID
    kind: EvidenceKind
    sha256: str
    content_type: str = ""
    size: int | None = None
    capture: dict[str, Any] = msgspec.field(default_factory=dict)
    filename: str = ""


class Declared(msgspec.Struct, frozen=True):
    """The item after a declaration; ``duplicate`` when the same declaration was already made."""

    item: Item
    duplicate: bool
