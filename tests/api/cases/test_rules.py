"""The visits the system raises itself: the 24-hour pressure rule, lost contact, broken promises."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from api.cases.tables import Case, Visit
from api.db import write_transaction
from api.dispatch.rules import raise_rule_visits
from api.outcomes import jobs as outcome_jobs
from api.outcomes.tables import Promise
from api.people.roles import Role
from api.queue.runner import JobContext
from api.settings import get_settings
from tests.builders import make_case, make_collector, make_staff, make_team, make_visit

pytestmark = pytest.mark.embedded
NOW = datetime.now(UTC)


async def _set(case_id, **values):
    async with write_transaction():
        await Case.update({getattr(Case, k): v for k, v in values.items()}).where(Case.id == case_id)


async def _visits(case_id) -> list[dict]:
    return await Visit.select().where(Visit.case == case_id).order_by(Visit.requested_at)


async def test_reachable_case_unpaid_24_hours_after_contact_gets_one_pressure_visit(db):
    team = await make_team()
    due, fresh, paid = (await make_case(team))[0], (await make_case(team))[0], (await make_case(team))[0]
    await _set(due, last_contact_at=NOW - timedelta(hours=25))
    await _set(fresh, last_contact_at=NOW - timedelta(hours=23))
    await _set(paid, last_contact_at=NOW - timedelta(hours=30), last_payment_at=NOW - timedelta(hours=2))

    first = await raise_rule_visits(NOW)
    assert first == {"pressure": 1, "tracing": 0}
    visits = await _visits(due)
    assert [(v["type"], v["origin"], v["status"]) for v in visits] == [("pressure", "rule:pressure_24h", "requested")]
    assert visits[0]["due_date"] == date.today() + timedelta(days=get_settings().compliance.visit_due_days)
    assert await _visits(fresh) == []
    assert await _visits(paid) == []
    assert await raise_rule_visits(NOW) == {"pressure": 0, "tracing": 0}  # one visit per contact


async def test_lost_contact_case_gets_a_tracing_visit(db):
    team = await make_team()
    lost, _ = await make_case(team, contact_state="lost")
    assert (await raise_rule_visits(NOW))["tracing"] == 1
    assert [(v["type"], v["origin"]) for v in await _visits(lost)] == [("tracing", "rule:lost_contact")]
    assert (await raise_rule_visits(NOW))["tracing"] == 0


async def test_rules_skip_cases_without_a_valid_address_and_closed_cases(db):
    team = await make_team()
    closed, _ = await make_case(team, contact_state="lost", status="closed")
    assert await raise_rule_visits(NOW) == {"pressure": 0, "tracing": 0}
    assert await _visits(closed) == []


async def _promise(client, team, promised: date):
    dispatcher = await make_staff(Role.DISPATCHER, team)
    collector = await make_collector(team)
    case_id, address_id = await make_case(team)
    visit = await make_visit(case_id, address_id, team, assigned_to=collector.user_id)
    outcome = {"code": "PTP", "promised_date": promised.isoformat(), "amount": "500.00", "currency": "CNY"}
    answer = await client.post(f"/v1/visits/{visit}/outcome", json={"outcome": outcome}, headers=collector.headers)
    assert answer.json()["case_status"] == "promised"
    return case_id, dispatcher


async def test_a_promise_date_passing_unpaid_raises_a_new_visit(client):
    team = await make_team()
    case_id, dispatcher = await _promise(client, team, date.today() - timedelta(days=1))
    counts = await outcome_jobs.check_promises(JobContext(get_settings(), None, 1))
    assert counts == {"kept": 0, "broken": 1}
    case = (await client.get(f"/v1/cases/{case_id}", headers=dispatcher.headers)).json()
    assert case["case"]["status"] == "open"
    new = [v for v in case["visits"] if v["origin"] == "rule:promise_broken"]
    assert len(new) == 1
    assert new[0]["type"] == "pressure"
    assert (await Promise.select(Promise.status).first())["status"] == "broken"
    again = await outcome_jobs.check_promises(JobContext(get_settings(), None, 1))
    assert again == {"kept": 0, "broken": 0}


async def test_a_promise_paid_before_its_date_is_kept(client):
    team = await make_team()
    case_id, dispatcher = await _promise(client, team, date.today() - timedelta(days=1))
    await _set(case_id, last_payment_at=datetime.now(UTC))
    counts = await outcome_jobs.check_promises(JobContext(get_settings(), None, 1))
    assert counts == {"kept": 1, "broken": 0}
    case = (await client.get(f"/v1/cases/{case_id}", headers=dispatcher.headers)).json()
    assert case["case"]["status"] == "open"
    assert not [v for v in case["visits"] if v["origin"] == "rule:promise_broken"]


async def test_a_promise_not_yet_due_is_left_alone(client):
    team = await make_team()
    await _promise(client, team, date.today() + timedelta(days=3))
    assert await outcome_jobs.check_promises(JobContext(get_settings(), None, 1)) == {"kept": 0, "broken": 0}
