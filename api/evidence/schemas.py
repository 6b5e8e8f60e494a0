"""Wire schemas of the evidence context (items and flags come from the engine's own Structs)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from evidence.models import Item
from sync.protocol import MAX_COUNTER

Sha256 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$", description="lowercase hex sha256")]
DeclarableKind = Literal["photo", "recording", "signature", "document"]
Money = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,15}(\.[0-9]{1,2})?$", description="decimal, e.g. 1200.50")]


class Location(msgspec.Struct, forbid_unknown_fields=True):
    """Where the phone was at capture."""

    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    accuracy_m: Annotated[float, msgspec.Meta(ge=0)] | None = None


class EvidenceDeclare(msgspec.Struct, forbid_unknown_fields=True):
    """A phone declares an item before (or while) its bytes travel; ``id`` is made on the phone."""

    id: UUID
    visit_id: UUID
    kind: DeclarableKind
    sha256: Sha256
    content_type: Annotated[str, msgspec.Meta(max_length=100)] = ""
    size: Annotated[int, msgspec.Meta(gt=0, le=MAX_COUNTER)] | None = None  # bytes; bounded like every stored count
    captured_at: datetime | None = None
    location: Location | None = None
    consent: bool | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    filename: Annotated[str, msgspec.Meta(max_length=255)] = ""


class VisitEvidence(msgspec.Struct):
    """The media a visit expects (declared) and which are present (bytes verified)."""

    visit_id: UUID
    expected: int
    present: int
    missing: list[UUID]
    items: list[Item]


class CustodyEntry(msgspec.Struct):
    """One custody link."""

    seq: int
    action: str
    at: str
    actor_id: str | None
    device_id: str | None
    address: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class BrokenLinkInfo(msgspec.Struct):
    """The first link that does not hold."""

    seq: int
    reason: str


class ChainVerification(msgspec.Struct):
    """Whether an item's custody chain is intact, and if not where it breaks."""

    item_id: UUID
    valid: bool
    length: int
    head: str | None
    first_broken: BrokenLinkInfo | None = None


class ItemCustody(msgspec.Struct):
    """An item's custody log and its verification."""

    item_id: UUID
    links: list[CustodyEntry]
    verification: ChainVerification


class Instalment(msgspec.Struct, forbid_unknown_fields=True):
    """One payment of a repayment plan."""

    due_date: date
    amount: Money


class Parties(msgspec.Struct, forbid_unknown_fields=True):
    """Who agrees: the creditor, the debtor (name and the last digits of their id), the collector."""

    creditor: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    debtor_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    collector_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    debtor_id_last4: Annotated[str, msgspec.Meta(max_length=4)] = ""


class AgreementTermsIn(msgspec.Struct, forbid_unknown_fields=True):
    """The terms the debtor signs."""

    amount: Money
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
    instalments: Annotated[list[Instalment], msgspec.Meta(min_length=1, max_length=120)]
    payment_method: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    parties: Parties
    place: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    signed_at: datetime


class AgreementCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A signed repayment agreement: the terms plus the declared signature item (a PNG)."""

    id: UUID
    visit_id: UUID
    terms: AgreementTermsIn
    signature_evidence_id: UUID


class ExportCreate(msgspec.Struct, forbid_unknown_fields=True):
    """What to export: a whole case, or some visits (of one case)."""

    case_id: UUID | None = None
    visit_ids: Annotated[list[UUID], msgspec.Meta(max_length=500)] = msgspec.field(default_factory=list)
