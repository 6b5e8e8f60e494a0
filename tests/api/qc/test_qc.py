"""Monthly QC sampling (at least 30% of each collector's completed visits) and supervisor reviews."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.cases.tables import Visit
from api.db import write_transaction
from api.people.roles import Role
from api.qc.service import month_bounds, sample_size
from tests.builders import make_case, make_collector, make_staff, make_team, make_visit

pytestmark = pytest.mark.embedded


async def _completed(team, collector, count: int, when: datetime) -> list:
    case_id, address_id = await make_case(team)
    ids = [await make_visit(case_id, address_id, team, assigned_to=collector.user_id) for _ in range(count)]
    async with write_transaction():
        await Visit.update({Visit.status: "completed", Visit.completed_at: when, Visit.outcome: "NOH"}).where(
            Visit.id.is_in(ids)
        )
    return ids


async def test_each_collector_gets_at_least_30_percent_sampled_once(client):
    team = await make_team()
    supervisor = await make_staff(Role.SUPERVISOR, team)
    anna, ben = await make_collector(team), await make_collector(team)
    march = datetime(2026, 3, 15, 10, tzinfo=UTC)
    annas = await _completed(team, anna, 10, march)
    bens = await _completed(team, ben, 3, march)
    await _completed(team, ben, 4, datetime(2026, 4, 2, tzinfo=UTC))  # another month

    drawn = await client.post("/v1/qc/samples", json={"month": "2026-03"}, headers=supervisor.headers)
    assert drawn.json() == {"month": "2026-03", "drawn": 4, "total_sampled": 4, "completed_visits": 13}
    reviews = (await client.get("/v1/qc/reviews", params={"month": "2026-03"}, headers=supervisor.headers)).json()
    by_collector = {str(anna.user_id): 0, str(ben.user_id): 0}
    for review in reviews:
        by_collector[review["collector_id"]] += 1
        assert review["visit_id"] in {str(v) for v in annas + bens}
    assert by_collector == {str(anna.user_id): 3, str(ben.user_id): 1}

    again = await client.post("/v1/qc/samples", json={"month": "2026-03"}, headers=supervisor.headers)
    assert again.json()["drawn"] == 0

    verdict = await client.post(
        f"/v1/qc/reviews/{reviews[0]['id']}",
        json={"state": "has_issues", "comment": "no photo of the door"},
        headers=supervisor.headers,
    )
    assert verdict.json()["state"] == "has_issues"
    assert verdict.json()["reviewer_id"] == str(supervisor.user_id)
    pending = await client.get("/v1/qc/reviews", params={"state": "pending"}, headers=supervisor.headers)
    assert len(pending.json()) == 3
    assert (await client.get("/v1/qc/reviews", headers=anna.headers)).status_code == 403
    other = await make_staff(Role.SUPERVISOR, await make_team())
    foreign = await client.post(f"/v1/qc/reviews/{reviews[1]['id']}", json={"state": "approved"}, headers=other.headers)
    assert foreign.status_code == 403


@given(st.integers(min_value=0, max_value=10_000), st.floats(min_value=0.01, max_value=1.0))
def test_sample_size_is_at_least_the_share_and_never_more_than_there_is(completed, share):
    size = sample_size(completed, share)
    assert size <= completed
    assert size >= completed * share - 1e-6


def test_month_bounds_cover_december():
    start, end = month_bounds("2026-12")
    assert (start.month, end.year, end.month) == (12, 2027, 1)
