"""Carrying out the follow-ups the case state machine asks for after an outcome. Never commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from api.cases import repository as cases_repo
from api.cases.rules import money, normalise_address
from api.cases.tables import Case
from api.dispatch import service as dispatch
from api.dispatch.visit_states import VisitType
from api.outcomes import repository as repo
from api.outcomes.approval import required_tier
from api.outcomes.case_states import Effect
from api.outcomes.catalogue import AgreementSigned, MovedAway, Outcome, PaidOnSite, PromiseToPay
from api.settings import get_settings

Row = dict[str, Any]


@dataclass
class Applied:
    """What the effects produced, for the caller's answer and the case update."""

    case_values: dict[Any, Any] = field(default_factory=dict)
    follow_up_visit_id: UUID | None = None
    agreement_id: UUID | None = None
    promise_id: UUID | None = None
    flags: list[str] = field(default_factory=list)


async def _flag(visit: Row, kind: str, detail: str, applied: Applied) -> None:
    await cases_repo.add_flag(visit["id"], visit["case"], kind, detail)
    applied.flags.append(kind)


async def _invalidate_address(visit: Row, reason: str, actor_id: UUID | None) -> None:
    """Never dispatch there again: mark it, and cancel the other open visits to it."""
    await cases_repo.invalidate_address(visit["address"], reason)
    for other in await cases_repo.open_visits_at_address(visit["address"]):
        if other["id"] != visit["id"]:
            await dispatch.cancel(other, f"address invalid: {reason}", actor_id, kind="cancelled_address_invalid")


async def _add_address(case: Row, outcome: MovedAway) -> UUID | None:
    new = outcome.new_address
    if new is None:
        return None
    timezone = new.timezone or get_settings().compliance.default_timezone
    return await cases_repo.create_address(
        case["id"], "other", new.text, normalise_address(new.text), new.lat, new.lon, timezone, "field"
    )


async def _track_promise(case: Row, visit: Row, outcome_id: UUID, outcome: PromiseToPay) -> UUID:
    await repo.supersede_open_promises(case["id"])
    return await repo.create_promise(
        {
            "case": case["id"],
            "visit": visit["id"],
            "outcome": outcome_id,
            "due_date": outcome.promised_date,
            "amount": outcome.amount,
            "currency": outcome.currency,
        }
    )


async def _record_agreement(
    case: Row, visit: Row, outcome_id: UUID, outcome: AgreementSigned, needs_approval: bool, actor_id: UUID | None
) -> UUID:
    tiers = get_settings().compliance.approval_tiers
    values: Row = {
        "case": case["id"],
        "visit": visit["id"],
        "outcome": outcome_id,
        "amount": outcome.amount,
        "currency": outcome.currency,
        "instalments": [{"due_date": i.due_date.isoformat(), "amount": str(i.amount)} for i in outcome.instalments],
        "payment_method": outcome.payment_method,
        "terms": {
            "place": outcome.place,
            "debtor": case["debtor_name"],
            "case_ref": case["source_ref"],
            "note": outcome.note,
        },
        "required_tier": required_tier(outcome.amount, tiers),
        "status": "pending_approval" if needs_approval else "approved",
        "signature_evidence": outcome.signature_evidence_id,
        "created_by": actor_id,
    }
    if outcome.agreement_id is not None:
        values["id"] = outcome.agreement_id
    return await repo.create_agreement(values)


async def apply(
    effects: tuple[Effect, ...],
    *,
    case: Row,
    visit: Row,
    outcome: Outcome,
    outcome_id: UUID,
    needs_approval: bool,
    actor_id: UUID | None,
) -> Applied:
    """Carry out each effect; returns what changed."""
    applied = Applied()
    for effect in effects:
        await _apply_one(effect, applied, case, visit, outcome, outcome_id, needs_approval, actor_id)
    return applied


async def _apply_one(
    effect: Effect,
    applied: Applied,
    case: Row,
    visit: Row,
    outcome: Outcome,
    outcome_id: UUID,
    needs_approval: bool,
    actor_id: UUID | None,
) -> None:
    if effect is Effect.SCHEDULE_REVISIT:
        follow = await dispatch.raise_follow_up_visit(visit, origin=f"revisit:{type(outcome).__struct_config__.tag}")
        applied.follow_up_visit_id = follow["id"] if follow else None
    elif effect is Effect.ESCALATE:
        await _flag(visit, "revisit_limit_reached", "debtor not met after the configured number of visits", applied)
    elif effect is Effect.MARK_ADDRESS_INVALID:
        await _invalidate_address(visit, getattr(outcome, "reason", "moved away"), actor_id)
    elif effect is Effect.ADD_ADDRESS and isinstance(outcome, MovedAway):
        new_address = await _add_address(case, outcome)
        if new_address is not None:
            follow = await dispatch.raise_follow_up_visit(
                visit, origin="tracing:MOV", type=VisitType.TRACING, address_id=new_address, keep_collector=False
            )
            applied.follow_up_visit_id = follow["id"] if follow else None
    elif effect is Effect.TRACK_PROMISE and isinstance(outcome, PromiseToPay):
        applied.promise_id = await _track_promise(case, visit, outcome_id, outcome)
    elif effect is Effect.RECORD_AGREEMENT and isinstance(outcome, AgreementSigned):
        applied.agreement_id = await _record_agreement(case, visit, outcome_id, outcome, needs_approval, actor_id)
    elif effect is Effect.RECORD_PAYMENT and isinstance(outcome, PaidOnSite):
        applied.case_values[Case.last_payment_at] = cases_repo.now()
        applied.case_values[Case.amount_owed] = max(money(case["amount_owed"]) - outcome.amount, Decimal(0))
    elif effect is Effect.FLAG_LEGAL:
        applied.case_values[Case.legal_flag] = True
        await _flag(visit, "legal_escalation", "the debtor refused twice", applied)
    elif effect is Effect.REQUEST_CONFIRMATION:
        await _flag(visit, "confirmation_needed", f"{type(outcome).__struct_config__.tag} needs a supervisor", applied)
    elif effect is Effect.PRESSURE_VISIT:
        follow = await dispatch.raise_follow_up_visit(visit, origin="rule:promise_broken", type=VisitType.PRESSURE)
        applied.follow_up_visit_id = follow["id"] if follow else None
