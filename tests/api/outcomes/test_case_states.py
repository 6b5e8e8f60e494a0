"""Property tests of the case state machine: no sequence of events reaches an illegal state."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.outcomes.case_states import (
    FINAL,
    CaseState,
    CaseStatus,
    Effect,
    Event,
    IllegalCaseTransition,
    OutcomeFacts,
    Policy,
    transition,
)
from api.outcomes.catalogue import OutcomeCode

pytestmark = pytest.mark.embedded

POLICY = Policy(max_failed_attempts=3, refusals_for_legal=2)

outcome_events = st.builds(
    OutcomeFacts,
    code=st.sampled_from(list(OutcomeCode)),
    needs_approval=st.booleans(),
    pays_in_full=st.booleans(),
    new_address=st.booleans(),
)
events = st.one_of(outcome_events, st.sampled_from(list(Event)))


def assert_legal(state: CaseState, policy: Policy) -> None:
    assert isinstance(state.status, CaseStatus)
    assert state.pending in (None, OutcomeCode.DIS, OutcomeCode.DEC)
    assert state.refusals >= 0
    assert state.failed_attempts >= 0
    if state.status is CaseStatus.ESCALATED:
        assert state.failed_attempts >= policy.max_failed_attempts
    else:
        assert state.failed_attempts < policy.max_failed_attempts or state.status in FINAL | {CaseStatus.DISPUTED}
    if state.status is CaseStatus.LEGAL:
        assert state.refusals >= policy.refusals_for_legal
    if state.status in (CaseStatus.DISPUTED, CaseStatus.DECEASED, CaseStatus.CLOSED):
        assert state.pending is None


@settings(max_examples=400)
@given(st.lists(events, max_size=40))
def test_no_sequence_of_events_reaches_an_illegal_state(sequence):
    state = CaseState()
    for event in sequence:
        before = state
        try:
            decision = transition(state, event, POLICY)
        except IllegalCaseTransition:
            continue  # refused events change nothing: the service answers with a coded error
        state = decision.state
        assert_legal(state, POLICY)
        if before.status in FINAL and event is not Event.REOPENED_UPSTREAM:
            assert event is Event.CLOSED_UPSTREAM


@given(st.lists(events, max_size=30))
def test_final_cases_accept_no_outcome(sequence):
    for status in FINAL:
        for event in sequence:
            if isinstance(event, OutcomeFacts):
                with pytest.raises(IllegalCaseTransition):
                    transition(CaseState(status=status), event, POLICY)


def test_dispute_changes_the_case_only_after_confirmation():
    pending = transition(CaseState(), OutcomeFacts(OutcomeCode.DIS), POLICY)
    assert pending.state.status is CaseStatus.OPEN
    assert pending.state.pending is OutcomeCode.DIS
    assert pending.effects == (Effect.REQUEST_CONFIRMATION,)
    confirmed = transition(pending.state, Event.DISPUTE_CONFIRMED, POLICY)
    assert confirmed.state.status is CaseStatus.DISPUTED
    with pytest.raises(IllegalCaseTransition):
        transition(CaseState(), Event.DEATH_CONFIRMED, POLICY)


def test_second_refusal_flags_legal_escalation():
    once = transition(CaseState(), OutcomeFacts(OutcomeCode.REF), POLICY)
    assert once.state.status is CaseStatus.OPEN
    twice = transition(once.state, OutcomeFacts(OutcomeCode.REF), POLICY)
    assert twice.state.status is CaseStatus.LEGAL
    assert twice.effects == (Effect.FLAG_LEGAL,)


def test_nobody_home_revisits_until_the_limit_then_escalates():
    state = CaseState()
    for attempt in range(1, POLICY.max_failed_attempts):
        decision = transition(state, OutcomeFacts(OutcomeCode.NOH), POLICY)
        assert decision.effects == (Effect.SCHEDULE_REVISIT,), attempt
        state = decision.state
    last = transition(state, OutcomeFacts(OutcomeCode.NFD), POLICY)
    assert last.state.status is CaseStatus.ESCALATED
    assert last.effects == (Effect.ESCALATE,)


def test_agreement_above_authority_waits_for_approval():
    decision = transition(CaseState(), OutcomeFacts(OutcomeCode.AGR, needs_approval=True), POLICY)
    assert decision.state.status is CaseStatus.AGREEMENT_PENDING
    assert Effect.REQUEST_APPROVAL in decision.effects
    approved = transition(decision.state, Event.AGREEMENT_APPROVED, POLICY)
    assert approved.state.status is CaseStatus.IN_AGREEMENT
