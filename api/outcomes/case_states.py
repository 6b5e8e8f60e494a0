"""The case state machine (pure): what each visit outcome and each follow-up event does to a case.

``transition(state, event, policy)`` returns the new state and the effects the service must carry
out (schedule a revisit, mark an address invalid, ask for approval, ...), or raises
``IllegalCaseTransition``. The property tests drive it with random event sequences.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from api.outcomes.catalogue import OutcomeCode


class CaseStatus(StrEnum):
    """Where a case stands."""

    OPEN = "open"  # in collection
    PROMISED = "promised"  # a promise to pay is outstanding
    AGREEMENT_PENDING = "agreement_pending"  # a signed plan waits for approval
    IN_AGREEMENT = "in_agreement"  # an approved repayment plan runs
    ESCALATED = "escalated"  # revisits exhausted without finding the debtor
    LEGAL = "legal"  # refused twice: flagged for legal escalation
    DISPUTED = "disputed"  # dispute confirmed by a supervisor: collection paused
    PAID = "paid"  # paid in full
    DECEASED = "deceased"  # death confirmed by a supervisor
    CLOSED = "closed"  # closed upstream


FINAL = frozenset({CaseStatus.PAID, CaseStatus.DECEASED, CaseStatus.CLOSED})
PAUSED = frozenset({CaseStatus.DISPUTED})


class Event(StrEnum):
    """Events that are not visit outcomes."""

    AGREEMENT_APPROVED = "agreement_approved"
    AGREEMENT_REJECTED = "agreement_rejected"
    PROMISE_BROKEN = "promise_broken"
    PROMISE_KEPT = "promise_kept"
    DISPUTE_CONFIRMED = "dispute_confirmed"
    DISPUTE_REJECTED = "dispute_rejected"
    DEATH_CONFIRMED = "death_confirmed"
    DEATH_REJECTED = "death_rejected"
    CLOSED_UPSTREAM = "closed_upstream"
    REOPENED_UPSTREAM = "reopened_upstream"


class Effect(StrEnum):
    """Follow-ups the service carries out after a transition."""

    SCHEDULE_REVISIT = "schedule_revisit"  # NOH/NFD: visit again within the due days
    ESCALATE = "escalate"  # revisit limit reached
    MARK_ADDRESS_INVALID = "mark_address_invalid"  # INV, MOV: never dispatch there again
    ADD_ADDRESS = "add_address"  # MOV with a new address
    TRACING_VISIT = "tracing_visit"  # MOV: trace the debtor at the new address
    TRACK_PROMISE = "track_promise"  # PTP
    RECORD_AGREEMENT = "record_agreement"  # AGR
    REQUEST_APPROVAL = "request_approval"  # AGR above the collector's authority
    RECORD_PAYMENT = "record_payment"  # PAID
    FLAG_LEGAL = "flag_legal"  # second refusal
    REQUEST_CONFIRMATION = "request_confirmation"  # DIS, DEC
    PRESSURE_VISIT = "pressure_visit"  # a broken promise


@dataclass(frozen=True)
class CaseState:
    """The parts of a case the machine reads and writes."""

    status: CaseStatus = CaseStatus.OPEN
    refusals: int = 0
    failed_attempts: int = 0  # consecutive NOH/NFD since the debtor was last met
    pending: OutcomeCode | None = None  # DIS or DEC waiting for a supervisor


@dataclass(frozen=True)
class Policy:
    """Configurable limits."""

    max_failed_attempts: int = 3
    refusals_for_legal: int = 2


@dataclass(frozen=True)
class OutcomeFacts:
    """What the machine must know about an outcome beyond its code."""

    code: OutcomeCode
    needs_approval: bool = False  # AGR above the collector's authority
    pays_in_full: bool = False  # PAID covering the amount owed
    new_address: bool = False  # MOV with an address learned


@dataclass(frozen=True)
class Decision:
    """The new state and what to do about it."""

    state: CaseState
    effects: tuple[Effect, ...] = ()


class IllegalCaseTransition(Exception):
    """The event is not allowed in the case's current state."""


def _met(state: CaseState, status: CaseStatus | None = None, **changes: object) -> CaseState:
    """The debtor was met (or traced anew): the failed-attempt streak ends, an escalation lifts."""
    if status is None:
        status = CaseStatus.OPEN if state.status is CaseStatus.ESCALATED else state.status
    return replace(state, failed_attempts=0, status=status, **changes)  # type: ignore[arg-type]


def _outcome(state: CaseState, facts: OutcomeFacts, policy: Policy) -> Decision:
    code = facts.code
    if code is OutcomeCode.PTP:
        return Decision(_met(state, status=CaseStatus.PROMISED), (Effect.TRACK_PROMISE,))
    effects: tuple[Effect, ...]
    if code is OutcomeCode.AGR:
        if facts.needs_approval:
            status, effects = CaseStatus.AGREEMENT_PENDING, (Effect.RECORD_AGREEMENT, Effect.REQUEST_APPROVAL)
        else:
            status, effects = CaseStatus.IN_AGREEMENT, (Effect.RECORD_AGREEMENT,)
        return Decision(_met(state, status=status), effects)
    if code is OutcomeCode.PAID:
        paid = CaseStatus.PAID if facts.pays_in_full else None
        return Decision(_met(state, status=paid), (Effect.RECORD_PAYMENT,))
    if code is OutcomeCode.REF:
        refusals = state.refusals + 1
        if refusals >= policy.refusals_for_legal:
            return Decision(_met(state, status=CaseStatus.LEGAL, refusals=refusals), (Effect.FLAG_LEGAL,))
        return Decision(_met(state, refusals=refusals))
    if code in (OutcomeCode.NOH, OutcomeCode.NFD):
        failed = state.failed_attempts + 1
        if failed >= policy.max_failed_attempts:
            return Decision(replace(state, status=CaseStatus.ESCALATED, failed_attempts=failed), (Effect.ESCALATE,))
        return Decision(replace(state, failed_attempts=failed), (Effect.SCHEDULE_REVISIT,))
    if code is OutcomeCode.MOV:
        if facts.new_address:
            effects = (Effect.MARK_ADDRESS_INVALID, Effect.ADD_ADDRESS, Effect.TRACING_VISIT)
            return Decision(_met(state), effects)
        return Decision(state, (Effect.MARK_ADDRESS_INVALID,))
    if code is OutcomeCode.INV:
        return Decision(state, (Effect.MARK_ADDRESS_INVALID,))
    # DIS, DEC: nothing changes until a supervisor confirms.
    if state.pending is not None and state.pending is not code:
        raise IllegalCaseTransition(f"{state.pending.value} already waits for confirmation")
    return Decision(_met(state, pending=code), (Effect.REQUEST_CONFIRMATION,))


def _follow_up(state: CaseState, event: Event) -> Decision:
    s = state.status
    if event is Event.AGREEMENT_APPROVED and s is CaseStatus.AGREEMENT_PENDING:
        return Decision(replace(state, status=CaseStatus.IN_AGREEMENT))
    if event is Event.AGREEMENT_REJECTED and s is CaseStatus.AGREEMENT_PENDING:
        return Decision(replace(state, status=CaseStatus.OPEN))
    if event is Event.PROMISE_BROKEN and s is CaseStatus.PROMISED:
        return Decision(replace(state, status=CaseStatus.OPEN), (Effect.PRESSURE_VISIT,))
    if event is Event.PROMISE_KEPT and s is CaseStatus.PROMISED:
        return Decision(replace(state, status=CaseStatus.OPEN))
    if event is Event.DISPUTE_CONFIRMED and state.pending is OutcomeCode.DIS:
        return Decision(replace(state, status=CaseStatus.DISPUTED, pending=None))
    if event is Event.DEATH_CONFIRMED and state.pending is OutcomeCode.DEC:
        return Decision(replace(state, status=CaseStatus.DECEASED, pending=None))
    if (event is Event.DISPUTE_REJECTED and state.pending is OutcomeCode.DIS) or (
        event is Event.DEATH_REJECTED and state.pending is OutcomeCode.DEC
    ):
        return Decision(replace(state, pending=None))
    raise IllegalCaseTransition(f"{event.value} does not apply to a {s.value} case")


def transition(state: CaseState, event: OutcomeFacts | Event, policy: Policy | None = None) -> Decision:
    """Apply one event to a case; raises ``IllegalCaseTransition`` when it does not apply."""
    policy = policy or Policy()
    if event is Event.CLOSED_UPSTREAM:
        return Decision(CaseState(status=CaseStatus.CLOSED, refusals=state.refusals))
    if event is Event.REOPENED_UPSTREAM:
        if state.status not in FINAL:
            raise IllegalCaseTransition(f"a {state.status.value} case is not closed")
        return Decision(CaseState(status=CaseStatus.OPEN, refusals=state.refusals))
    if state.status in FINAL:
        name = event.code.value if isinstance(event, OutcomeFacts) else event.value
        raise IllegalCaseTransition(f"the case is {state.status.value}: {name} no longer applies")
    if isinstance(event, OutcomeFacts):
        if state.status in PAUSED:
            raise IllegalCaseTransition(f"collection is paused on a {state.status.value} case")
        return _outcome(state, event, policy)
    return _follow_up(state, event)
