"""Wire schemas of outcomes, agreements, promises and confirmations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from api.outcomes.catalogue import Instalment, Outcome


class OutcomeRecord(msgspec.Struct, forbid_unknown_fields=True):
    """An outcome to record on a visit (``outcome.code`` selects its shape)."""

    outcome: Outcome
    device_time: datetime | None = None


class OutcomeResult(msgspec.Struct):
    """What recording an outcome did. ``duplicate`` when the same outcome was already recorded."""

    outcome_id: UUID
    visit_id: UUID
    code: str
    state: str
    visit_version: int
    case_status: str
    duplicate: bool = False
    follow_up_visit_id: UUID | None = None
    agreement_id: UUID | None = None
    promise_id: UUID | None = None
    flags: list[str] = msgspec.field(default_factory=list)


class Agreement(msgspec.Struct):
    """A repayment agreement and where its approval stands."""

    id: UUID
    case_id: UUID
    visit_id: UUID
    amount: Decimal
    currency: str
    instalments: list[Instalment]
    payment_method: str
    terms: dict[str, Any]
    required_tier: str
    status: str
    signature_evidence_id: UUID | None
    document_evidence_id: UUID | None
    created_at: datetime
    decided_by: UUID | None
    decided_at: datetime | None
    decision_comment: str


class Decision(msgspec.Struct, forbid_unknown_fields=True):
    """An approver's or supervisor's decision."""

    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class Confirmation(msgspec.Struct, forbid_unknown_fields=True):
    """A supervisor's answer to a dispute (DIS) or death report (DEC)."""

    decision: Literal["confirm", "reject"]
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class Promise(msgspec.Struct):
    """A tracked promise to pay."""

    id: UUID
    case_id: UUID
    visit_id: UUID
    due_date: date
    amount: Decimal
    currency: str
    status: str
    created_at: datetime
