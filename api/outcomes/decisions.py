"""Human decisions and dated follow-ups on outcomes: agreement approval, dispute and death
confirmation, promises falling due. Never commits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from api.cases import service as cases
from api.cases.rules import money
from api.db import json_value
from api.dispatch import service as dispatch
from api.dispatch.visit_states import VisitType
from api.errors import NotYourData, RoleNotAllowed
from api.outcomes import repository as repo
from api.outcomes import schemas
from api.outcomes.approval import may_approve, required_tier
from api.outcomes.case_states import CaseStatus, Event
from api.outcomes.catalogue import Instalment, OutcomeCode
from api.outcomes.errors import AgreementNotFound, AgreementNotPending, ApprovalAboveYourTier, NothingToConfirm
from api.outcomes.service import apply_case_event
from api.people import repository as people_repo
from api.people.roles import Principal, Role
from api.settings import get_settings

Row = dict[str, Any]


def to_agreement(row: Row) -> schemas.Agreement:
    """Wire form of an agreement row."""
    return schemas.Agreement(
        id=row["id"],
        case_id=row["case"],
        visit_id=row["visit"],
        amount=money(row["amount"]),
        currency=row["currency"],
        instalments=[
            Instalment(date.fromisoformat(i["due_date"]), Decimal(i["amount"]))
            for i in json_value(row["instalments"], [])
        ],
        payment_method=row["payment_method"],
        terms=json_value(row["terms"], {}),
        required_tier=row["required_tier"],
        status=row["status"],
        signature_evidence_id=row["signature_evidence"],
        document_evidence_id=row["document_evidence"],
        created_at=row["created_at"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        decision_comment=row["decision_comment"],
    )


async def approver_tier(actor: Principal) -> str:
    """The approval tier an actor holds: their own setting, or ``supervisor`` for supervisors."""
    if actor.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise RoleNotAllowed("only supervisors (and admins holding a tier) approve agreements")
    user = await people_repo.get_user(actor.user_id)
    tier = str(user["approval_tier"]) if user else ""
    return tier or ("supervisor" if actor.role is Role.SUPERVISOR else "")


async def get_agreement_or_raise(agreement_id: UUID, viewer: Principal | None, *, for_update: bool = False) -> Row:
    """An agreement the viewer may see (their team's; all for admins and legal)."""
    row = await repo.get_agreement(agreement_id, for_update=for_update)
    if row is None:
        raise AgreementNotFound(f"no agreement with id {agreement_id}")
    if viewer is not None and viewer.role not in (Role.ADMIN, Role.LEGAL) and not viewer.manages_team(row["team_id"]):
        raise NotYourData("this agreement belongs to another team")
    return row


async def decide_agreement(agreement_id: UUID, approve: bool, actor: Principal, comment: str) -> schemas.Agreement:
    """Approve or reject an agreement waiting for approval, within the approver's tier."""
    row = await get_agreement_or_raise(agreement_id, actor, for_update=True)
    if row["status"] != "pending_approval":
        raise AgreementNotPending(f"the agreement is {row['status']}")
    tiers = get_settings().compliance.approval_tiers
    tier = await approver_tier(actor)
    if not may_approve(tier, row["amount"], tiers):
        needed = required_tier(row["amount"], tiers)
        raise ApprovalAboveYourTier(
            f"{row['amount']} {row['currency']} needs tier {needed!r}; you hold {tier!r}", required_tier=needed
        )
    await repo.decide_agreement(agreement_id, "approved" if approve else "rejected", actor.user_id, comment)
    event = Event.AGREEMENT_APPROVED if approve else Event.AGREEMENT_REJECTED
    await apply_case_event(row["case"], event, f"agreement:{'approved' if approve else 'rejected'}", row["visit"])
    return to_agreement(await get_agreement_or_raise(agreement_id, None))


async def list_agreements(
    viewer: Principal, status: str | None, case_id: UUID | None, limit: int, offset: int
) -> list[schemas.Agreement]:
    """Agreements of the viewer's team (all for admins and legal)."""
    team_id = cases.team_filter(viewer, None)
    rows = await repo.list_agreements(team_id=team_id, status=status, case_id=case_id, limit=limit, offset=offset)
    return [to_agreement(r) for r in rows]


async def confirm(case_id: UUID, confirm: bool, actor: Principal, comment: str) -> str:
    """A supervisor confirms or rejects a dispute or death report; only then the case changes."""
    case = await cases.get_case_or_raise(case_id, for_update=True)
    if actor.role not in (Role.SUPERVISOR, Role.ADMIN) or not actor.manages_team(case["team"]):
        raise RoleNotAllowed("a supervisor of the case's team confirms disputes and deaths")
    pending = case["pending_confirmation"]
    if not pending:
        raise NothingToConfirm()
    outcome = await repo.pending_confirmation(case_id, pending)
    events = {
        (OutcomeCode.DIS.value, True): Event.DISPUTE_CONFIRMED,
        (OutcomeCode.DIS.value, False): Event.DISPUTE_REJECTED,
        (OutcomeCode.DEC.value, True): Event.DEATH_CONFIRMED,
        (OutcomeCode.DEC.value, False): Event.DEATH_REJECTED,
    }
    visit_id = outcome["visit"] if outcome else None
    if outcome is not None:
        await repo.decide_outcome(outcome["id"], "confirmed" if confirm else "rejected", actor.user_id)
    state = await apply_case_event(
        case_id, events[(pending, confirm)], f"{pending}:{'confirmed' if confirm else 'rejected'}", visit_id
    )
    return state.status.value


async def resolve_due_promise(promise_id: UUID) -> str | None:
    """Settle one promise whose date passed: kept if a payment arrived since, else broken (new visit)."""
    promise = await repo.get_promise(promise_id, for_update=True)
    if promise is None or promise["status"] != "open":
        return None
    case = await cases.get_case_or_raise(promise["case"], for_update=True)
    paid = case["last_payment_at"] is not None and case["last_payment_at"] >= promise["created_at"]
    status = "kept" if paid else "broken"
    await repo.resolve_promise(promise_id, status)
    if case["status"] != CaseStatus.PROMISED.value:
        return status  # the case moved on (agreement, paid, closed): nothing more to do
    state = await apply_case_event(
        case["id"], Event.PROMISE_KEPT if paid else Event.PROMISE_BROKEN, f"promise:{status}", promise["visit"]
    )
    if not paid and state.status is CaseStatus.OPEN:
        visit = await cases.get_visit_or_raise(promise["visit"])
        await dispatch.raise_follow_up_visit(visit, origin="rule:promise_broken", type=VisitType.PRESSURE)
    return status
