"""Each outcome's effect on the visit and the case, over HTTP on the real database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.people.roles import Role
from tests.builders import make_case, make_collector, make_staff, make_team, make_visit

pytestmark = pytest.mark.embedded


@pytest.fixture
async def field(client):
    """A team with a dispatcher, a supervisor, a collector, and one assigned visit."""
    team = await make_team()
    dispatcher = await make_staff(Role.DISPATCHER, team)
    supervisor = await make_staff(Role.SUPERVISOR, team)
    collector = await make_collector(team)
    case_id, address_id = await make_case(team, amount_owed="12000.00")
    visit_id = await make_visit(case_id, address_id, team, assigned_to=collector.user_id)
    return {
        "team": team,
        "dispatcher": dispatcher,
        "supervisor": supervisor,
        "collector": collector,
        "case": case_id,
        "address": address_id,
        "visit": visit_id,
    }


async def record(client, visit_id, actor, outcome: dict) -> dict:
    answer = await client.post(f"/v1/visits/{visit_id}/outcome", json={"outcome": outcome}, headers=actor.headers)
    return {"status": answer.status_code, **answer.json()}


async def case_of(client, field) -> dict:
    return (await client.get(f"/v1/cases/{field['case']}", headers=field["dispatcher"].headers)).json()


async def test_nobody_home_raises_a_revisit_until_the_limit_then_escalates(client, field):
    visit = field["visit"]
    for attempt in (1, 2):
        result = await record(client, visit, field["collector"], {"code": "NOH"})
        assert result["status"] == 200, result
        follow = result["follow_up_visit_id"]
        assert follow is not None, attempt
        detail = (await client.get(f"/v1/visits/{follow}", headers=field["dispatcher"].headers)).json()["visit"]
        assert detail["assigned_to"] == str(field["collector"].user_id)
        assert date.fromisoformat(detail["due_date"]) <= date.today() + timedelta(days=7)
        assert detail["origin"] == "revisit:NOH"
        visit = follow
    last = await record(client, visit, field["collector"], {"code": "NFD", "third_party_met": True})
    assert last["case_status"] == "escalated"
    assert last["follow_up_visit_id"] is None
    assert "revisit_limit_reached" in last["flags"]


async def test_address_invalid_is_never_dispatched_again(client, field):
    other_visit = await make_visit(field["case"], field["address"], field["team"])
    result = await record(client, field["visit"], field["collector"], {"code": "INV", "reason": "no such building"})
    assert result["status"] == 200, result
    case = await case_of(client, field)
    assert case["addresses"][0]["valid"] is False
    cancelled = next(v for v in case["visits"] if v["id"] == str(other_visit))
    assert cancelled["status"] == "cancelled"
    again = await client.post(
        "/v1/visits",
        json={"case_id": str(field["case"]), "type": "pressure", "address_id": str(field["address"])},
        headers=field["dispatcher"].headers,
    )
    assert again.json()["code"] == "409.20"


async def test_moved_away_adds_the_new_address_and_a_tracing_visit(client, field):
    outcome = {"code": "MOV", "new_address": {"text": "88 New Street", "lat": 31.3, "lon": 121.5}}
    result = await record(client, field["visit"], field["collector"], outcome)
    assert result["status"] == 200, result
    case = await case_of(client, field)
    by_text = {a["text"]: a for a in case["addresses"]}
    assert by_text["88 New Street"]["valid"] is True
    assert by_text["88 New Street"]["origin"] == "field"
    tracing = next(v for v in case["visits"] if v["id"] == result["follow_up_visit_id"])
    assert (tracing["type"], tracing["address_id"]) == ("tracing", by_text["88 New Street"]["id"])


async def test_promise_to_pay_is_tracked(client, field):
    when = (date.today() + timedelta(days=5)).isoformat()
    result = await record(
        client,
        field["visit"],
        field["collector"],
        {"code": "PTP", "promised_date": when, "amount": "3000.00", "currency": "CNY"},
    )
    assert (result["case_status"], result["state"]) == ("promised", "accepted")
    assert result["promise_id"] is not None
    wrong = await make_visit(field["case"], field["address"], field["team"], assigned_to=field["collector"].user_id)
    refused = await record(
        client, wrong, field["collector"], {"code": "PTP", "promised_date": when, "amount": "1.00", "currency": "USD"}
    )
    assert (refused["status"], refused["error"]) == (422, "CurrencyMismatch")


def agreement(amount: str) -> dict:
    return {
        "code": "AGR",
        "amount": amount,
        "currency": "CNY",
        "payment_method": "bank transfer",
        "instalments": [{"due_date": (date.today() + timedelta(days=30)).isoformat(), "amount": amount}],
    }


@pytest.mark.parametrize(
    ("amount", "tier", "status"),
    [
        ("100000.00", "collector", "approved"),
        ("100000.01", "supervisor", "pending_approval"),
        ("500000.00", "supervisor", "pending_approval"),
        ("999999.99", "director", "pending_approval"),
        ("1000000.01", "general_manager", "pending_approval"),
    ],
)
async def test_agreement_approval_tiers(client, field, amount, tier, status):
    result = await record(client, field["visit"], field["collector"], agreement(amount))
    assert result["status"] == 200, result
    stored = await client.get(f"/v1/agreements/{result['agreement_id']}", headers=field["dispatcher"].headers)
    assert (stored.json()["required_tier"], stored.json()["status"]) == (tier, status)
    assert result["case_status"] == ("in_agreement" if status == "approved" else "agreement_pending")


async def test_approvers_decide_only_within_their_tier(client, field):
    director = await make_staff(Role.SUPERVISOR, field["team"])
    admin = await make_staff(Role.ADMIN)
    bad_tier = await client.patch(
        f"/v1/users/{director.user_id}", json={"approval_tier": "pope"}, headers=admin.headers
    )
    assert bad_tier.json()["error"] == "UnknownApprovalTier"
    tiered = await client.patch(
        f"/v1/users/{director.user_id}", json={"approval_tier": "director"}, headers=admin.headers
    )
    assert tiered.json()["approval_tier"] == "director"
    result = await record(client, field["visit"], field["collector"], agreement("800000.00"))
    agreement_id = result["agreement_id"]
    too_low = await client.post(f"/v1/agreements/{agreement_id}/approve", json={}, headers=field["supervisor"].headers)
    assert (too_low.status_code, too_low.json()["code"]) == (403, "403.36")
    by_dispatcher = await client.post(
        f"/v1/agreements/{agreement_id}/approve", json={}, headers=field["dispatcher"].headers
    )
    assert by_dispatcher.status_code == 403
    approved = await client.post(
        f"/v1/agreements/{agreement_id}/approve", json={"comment": "ok"}, headers=director.headers
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert (await case_of(client, field))["case"]["status"] == "in_agreement"
    twice = await client.post(f"/v1/agreements/{agreement_id}/approve", json={}, headers=director.headers)
    assert twice.json()["error"] == "AgreementNotPending"


async def test_rejected_agreement_returns_the_case_to_open(client, field):
    result = await record(client, field["visit"], field["collector"], agreement("200000.00"))
    rejected = await client.post(
        f"/v1/agreements/{result['agreement_id']}/reject",
        json={"comment": "too slow"},
        headers=field["supervisor"].headers,
    )
    assert rejected.json()["status"] == "rejected"
    assert (await case_of(client, field))["case"]["status"] == "open"


async def test_paid_in_full_closes_collection(client, field):
    result = await record(
        client,
        field["visit"],
        field["collector"],
        {"code": "PAID", "amount": "12000.00", "currency": "CNY", "receipt_number": "R-1"},
    )
    assert result["case_status"] == "paid"
    later = await make_visit(field["case"], field["address"], field["team"], assigned_to=field["collector"].user_id)
    refused = await record(client, later, field["collector"], {"code": "NOH"})
    assert (refused["status"], refused["error"]) == (409, "CaseNotCollectable")


async def test_second_refusal_flags_legal_escalation(client, field):
    first = await record(client, field["visit"], field["collector"], {"code": "REF"})
    assert first["case_status"] == "open"
    again = await make_visit(field["case"], field["address"], field["team"], assigned_to=field["collector"].user_id)
    second = await record(client, again, field["collector"], {"code": "REF"})
    assert second["case_status"] == "legal"
    assert "legal_escalation" in second["flags"]
    assert (await case_of(client, field))["case"]["legal_flag"] is True


@pytest.mark.parametrize(("code", "confirmed_status"), [("DIS", "disputed"), ("DEC", "deceased")])
async def test_dispute_and_death_change_the_case_only_after_a_supervisor_confirms(
    client, field, code, confirmed_status
):
    result = await record(client, field["visit"], field["collector"], {"code": code})
    assert (result["state"], result["case_status"]) == ("pending_confirmation", "open")
    case = (await case_of(client, field))["case"]
    assert (case["status"], case["pending_confirmation"]) == ("open", code)
    by_dispatcher = await client.post(
        f"/v1/cases/{field['case']}/confirmations", json={"decision": "confirm"}, headers=field["dispatcher"].headers
    )
    assert by_dispatcher.status_code == 403
    confirmed = await client.post(
        f"/v1/cases/{field['case']}/confirmations", json={"decision": "confirm"}, headers=field["supervisor"].headers
    )
    assert confirmed.json() == {"case_status": confirmed_status}
    nothing = await client.post(
        f"/v1/cases/{field['case']}/confirmations", json={"decision": "reject"}, headers=field["supervisor"].headers
    )
    assert nothing.json()["error"] == "NothingToConfirm"


async def test_same_outcome_twice_is_a_duplicate_and_a_different_one_is_refused(client, field):
    first = await record(client, field["visit"], field["collector"], {"code": "NOH", "note": "dog barking"})
    again = await record(client, field["visit"], field["collector"], {"code": "NOH", "note": "dog barking"})
    assert again["duplicate"] is True
    assert again["outcome_id"] == first["outcome_id"]
    different = await record(client, field["visit"], field["collector"], {"code": "REF"})
    assert (different["status"], different["code"]) == (409, "409.36")


async def test_only_the_assigned_collector_records_and_not_on_a_cancelled_visit(client, field):
    stranger = await make_collector(field["team"])
    denied = await record(client, field["visit"], stranger, {"code": "NOH"})
    assert (denied["status"], denied["code"]) == (403, "403.35")
    await client.post(
        "/v1/visits/dispatch",
        json={"actions": [{"visit_id": str(field["visit"]), "action": "cancel"}]},
        headers=field["dispatcher"].headers,
    )
    closed = await record(client, field["visit"], field["collector"], {"code": "NOH"})
    assert (closed["status"], closed["error"]) == (409, "VisitAlreadyClosed")


async def test_outcome_payloads_are_validated_by_code(client, field):
    bad = [
        {"code": "PTP", "amount": "10.00", "currency": "CNY"},  # no date
        {"code": "PTP", "promised_date": "2030-01-01", "amount": "-5", "currency": "CNY"},
        {"code": "PAID", "amount": "10.001", "currency": "CNY", "receipt_number": "x"},
        {"code": "XYZ"},
        {**agreement("100.00"), "instalments": [{"due_date": "2030-01-01", "amount": "50.00"}]},
    ]
    for outcome in bad:
        answer = await record(client, field["visit"], field["collector"], outcome)
        assert (answer["status"], answer["code"]) == (400, "400.1"), (outcome, answer)
