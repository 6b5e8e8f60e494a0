"""Recording outcomes, confirming disputes and deaths, approving agreements, tracking promises.

``record_outcome`` is the one door for an outcome, whether it comes over HTTP or from a device's
sync push (the sync engine calls it through a registered handler). Never commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from api.cases import repository as cases_repo
from api.cases import service as cases
from api.cases.access import is_field_member
from api.cases.errors import CaseNotCollectable
from api.cases.rules import money
from api.cases.tables import Case, Visit
from api.db import json_value
from api.dispatch.visit_states import VisitStatus
from api.errors import NotYourData
from api.outcomes import effects, schemas
from api.outcomes import repository as repo
from api.outcomes.approval import needs_approval
from api.outcomes.case_states import (
    FINAL,
    PAUSED,
    CaseState,
    CaseStatus,
    Decision,
    Event,
    IllegalCaseTransition,
    OutcomeFacts,
    Policy,
    transition,
)
from api.outcomes.catalogue import (
    AgreementSigned,
    MovedAway,
    NotFound,
    Outcome,
    OutcomeCode,
    PaidOnSite,
    PromiseToPay,
    code_of,
    details_of,
)
from api.outcomes.errors import (
    CaseTransitionRefused,
    CurrencyMismatch,
    OutcomeAlreadyRecorded,
    VisitAlreadyClosed,
    VisitNotAssignedToYou,
)
from api.people.roles import Principal, Role
from api.settings import get_settings

Row = dict[str, Any]


def case_state(case: Row) -> CaseState:
    """The state machine's view of a case row."""
    pending = case["pending_confirmation"] or None
    return CaseState(
        status=CaseStatus(case["status"]),
        refusals=int(case["refusals"]),
        failed_attempts=int(case["failed_attempts"]),
        pending=OutcomeCode(pending) if pending else None,
    )


def policy() -> Policy:
    """The configured limits."""
    return Policy(max_failed_attempts=get_settings().compliance.revisit_max_attempts)


def _facts(outcome: Outcome, case: Row) -> OutcomeFacts:
    code = code_of(outcome)
    if isinstance(outcome, PromiseToPay | AgreementSigned | PaidOnSite) and outcome.currency != case["currency"]:
        raise CurrencyMismatch(f"the case is in {case['currency']}, the outcome in {outcome.currency}")
    tiers = get_settings().compliance.approval_tiers
    return OutcomeFacts(
        code=code,
        needs_approval=isinstance(outcome, AgreementSigned) and needs_approval(outcome.amount, tiers),
        pays_in_full=isinstance(outcome, PaidOnSite) and outcome.amount >= money(case["amount_owed"]),
        new_address=isinstance(outcome, MovedAway) and outcome.new_address is not None,
    )


def _ensure_may_record(actor: Principal, visit: Row) -> None:
    scope = cases.scope_of(visit)
    if actor.role is Role.COLLECTOR:
        if not is_field_member(actor, scope):
            raise VisitNotAssignedToYou("this visit is assigned to another collector")
    elif not actor.manages_team(scope.team_id):
        raise NotYourData("this visit belongs to another team")


async def _existing_result(visit: Row, outcome: Outcome) -> schemas.OutcomeResult:
    """The same outcome again is a duplicate (same answer); a different one is refused."""
    existing = await repo.latest_outcome(visit["id"])
    case = await cases.get_case_or_raise(visit["case"])
    if existing is not None and existing["code"] == code_of(outcome).value:
        stored = json_value(existing["details"], {})
        if stored == details_of(outcome):
            return schemas.OutcomeResult(
                outcome_id=existing["id"],
                visit_id=visit["id"],
                code=existing["code"],
                state=existing["state"],
                visit_version=visit["version"],
                case_status=case["status"],
                duplicate=True,
            )
    recorded = existing["code"] if existing else visit["outcome"]
    raise OutcomeAlreadyRecorded(f"outcome {recorded} is already recorded on this visit", recorded=recorded)


def _decide(case: Row, facts: OutcomeFacts) -> Decision:
    try:
        return transition(case_state(case), facts, policy())
    except IllegalCaseTransition as exc:
        status = CaseStatus(case["status"])
        if status in FINAL or status in PAUSED:
            raise CaseNotCollectable(str(exc)) from None
        raise CaseTransitionRefused(str(exc)) from None


async def record_outcome(
    visit_id: UUID,
    outcome: Outcome,
    actor: Principal,
    *,
    device_time: datetime | None = None,
    outcome_id: UUID | None = None,
) -> schemas.OutcomeResult:
    """Record a visit's outcome and carry out what it means for the case."""
    visit = await cases.get_visit_or_raise(visit_id, for_update=True)
    _ensure_may_record(actor, visit)
    if visit["outcome"] is not None:
        return await _existing_result(visit, outcome)
    if visit["status"] in (VisitStatus.COMPLETED.value, VisitStatus.CANCELLED.value):
        raise VisitAlreadyClosed(f"the visit is {visit['status']}", visit_status=visit["status"])
    case = await cases.get_case_or_raise(visit["case"], for_update=True)
    facts = _facts(outcome, case)
    decision = _decide(case, facts)
    pending = facts.code in (OutcomeCode.DIS, OutcomeCode.DEC)
    record: Row = {
        "visit": visit["id"],
        "case": case["id"],
        "code": facts.code.value,
        "details": details_of(outcome),
        "state": "pending_confirmation" if pending else "accepted",
        "device_time": device_time,
        "recorded_by": actor.user_id,
        "device": actor.device_id,
    }
    if outcome_id is not None:
        record["id"] = outcome_id
    new_outcome_id = await repo.create_outcome(record)
    now = cases_repo.now()
    version = await cases.change_visit(
        visit,
        {
            Visit.status: VisitStatus.COMPLETED.value,
            Visit.outcome: facts.code.value,
            Visit.outcome_at: now,
            Visit.completed_at: now,
        },
        "outcome_recorded",
        actor=actor.user_id,
        device=actor.device_id,
        data={"code": facts.code.value, "outcome_id": str(new_outcome_id)},
    )
    applied = await effects.apply(
        decision.effects,
        case=case,
        visit=visit,
        outcome=outcome,
        outcome_id=new_outcome_id,
        needs_approval=facts.needs_approval,
        actor_id=actor.user_id,
    )
    if isinstance(outcome, NotFound) and outcome.third_party_met and not outcome.nothing_disclosed:
        await cases_repo.add_flag(visit["id"], case["id"], "third_party_disclosure", "debt disclosed to a third party")
        applied.flags.append("third_party_disclosure")
    await _write_case(case, decision.state, f"outcome:{facts.code.value}", visit["id"], applied.case_values)
    return schemas.OutcomeResult(
        outcome_id=new_outcome_id,
        visit_id=visit["id"],
        code=facts.code.value,
        state=record["state"],
        visit_version=version,
        case_status=decision.state.status.value,
        follow_up_visit_id=applied.follow_up_visit_id,
        agreement_id=applied.agreement_id,
        promise_id=applied.promise_id,
        flags=applied.flags,
    )


async def _write_case(
    case: Row, state: CaseState, reason: str, visit_id: UUID | None, extra: dict[Any, Any] | None = None
) -> None:
    values: dict[Any, Any] = {
        Case.refusals: state.refusals,
        Case.failed_attempts: state.failed_attempts,
        Case.pending_confirmation: state.pending.value if state.pending else "",
        **(extra or {}),
    }
    await cases.set_case_status(case, state.status.value, reason, visit_id=visit_id, values=values)


async def apply_case_event(case_id: UUID, event: Event, reason: str, visit_id: UUID | None = None) -> CaseState:
    """Apply a follow-up event (approval, confirmation, promise) to a case."""
    case = await cases.get_case_or_raise(case_id, for_update=True)
    try:
        decision = transition(case_state(case), event, policy())
    except IllegalCaseTransition as exc:
        raise CaseTransitionRefused(str(exc)) from None
    await _write_case(case, decision.state, reason, visit_id)
    return decision.state


async def force_outcome(
    visit_id: UUID, outcome: Outcome, collector: Principal, decided_by: UUID, *, outcome_id: UUID | None = None
) -> schemas.OutcomeResult:
    """Record an outcome a dispatcher accepted from a conflict, whatever happened to the visit meanwhile.

    The visit is given back to the collector who did the work (reopened if it was cancelled) and an
    outcome recorded since is superseded, never deleted. Follow-ups the superseded outcome raised stay
    for the dispatcher to cancel if they no longer apply.
    """
    visit = await cases.get_visit_or_raise(visit_id, for_update=True)
    values: dict[Any, Any] = {}
    if visit["status"] in (VisitStatus.CANCELLED.value, VisitStatus.COMPLETED.value):
        values[Visit.status] = VisitStatus.ASSIGNED.value
    if visit["assigned_to"] != collector.user_id and visit["partner"] != collector.user_id:
        values[Visit.assigned_to] = collector.user_id
    if visit["outcome"] is not None:
        values[Visit.outcome] = None
        await repo.supersede_outcomes(visit_id)
    if values:
        await cases.change_visit(
            visit, values, "reopened_for_review", actor=decided_by, data={"for_collector": str(collector.user_id)}
        )
    return await record_outcome(visit_id, outcome, collector, outcome_id=outcome_id)
