"""The synthetic city is reproducible and loads through the real import and visit-request doors."""

from __future__ import annotations

from collections import Counter

import pytest

from api.cases.tables import Address, Case, Visit
from api.demo.city import build_city
from api.demo.seed import DemoAlreadySeeded, seed
from api.people.tables import User

pytestmark = pytest.mark.embedded


def test_the_same_seed_builds_the_same_city_and_buildings_are_shared():
    a, b = build_city(seed=3, cases=400), build_city(seed=3, cases=400)
    assert [d.external_ref for d in a.debtors] == [d.external_ref for d in b.debtors]
    assert [(d.home, d.amount_owed) for d in a.debtors] == [(d.home, d.amount_owed) for d in b.debtors]
    assert build_city(seed=4, cases=400).debtors[0] != a.debtors[0]
    per_building = Counter(d.home for d in a.debtors)
    assert max(per_building.values()) >= 2  # apartment blocks: several debtors at one address
    assert {d.team for d in a.debtors} == set(a.teams)


async def test_seed_loads_people_cases_and_visits(db):
    city = build_city(seed=5, cases=300, teams=2, collectors_per_team=4)
    summary = await seed(city, visit_share=0.5)
    assert summary.imported is not None
    assert (summary.imported.created, summary.imported.failed) == (300, 0)
    assert await Case.count() == 300
    assert await Address.count() >= 300
    assert await User.count().where(User.role == "collector") == 8
    assert summary.visits == await Visit.count() > 100
    types = {r["type"] for r in await Visit.select(Visit.type)}
    assert types == {"pressure", "tracing"}
    assert "demo-admin" in summary.tokens
    with pytest.raises(DemoAlreadySeeded):
        await seed(city)
