"""A pull answers in JSON or MessagePack (``Accept``) from the same Structs: both decode to the same answer,
page by page, with what JSON writers disagree on (unicode and escapes, nulls, whole-number floats,
datetimes with and without microseconds), removals and resolutions; coded errors come in either format."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec
import pytest

from api.cases.tables import Address, Case, Visit
from api.db import write_transaction
from api.sync.schemas import PullResponse
from tests.api.sync.test_pull_statement import _busy_day
from tests.builders import Actor, make_case, make_collector, make_team, make_visit

NAME = 'Zoë 张伟 "Qiáo" \\ O\u2019Brien\t😀'


async def _odd_visits(team: UUID, anna: Actor) -> None:
    """Visits with what JSON writers disagree on: unicode and escapes, nulls, whole-number floats,
    datetimes with and without microseconds, an empty phone list."""
    case_id, address_id = await make_case(team, lat=31.0, lon=-0.5)
    bare_case, bare_address = await make_case(team)
    odd = await make_visit(case_id, address_id, team, assigned_to=anna.user_id)
    bare = await make_visit(bare_case, bare_address, team, assigned_to=anna.user_id)
    async with write_transaction():
        await Case.update({Case.debtor_name: NAME, Case.phones: ["+86 ☎ 1", "\u2028"]}).where(Case.id == case_id)
        await Case.update({Case.phones: []}).where(Case.id == bare_case)
        await Address.update({Address.lat: None, Address.lon: None, Address.text: "路 1\n"}).where(
            Address.id == bare_address
        )
        await Visit.update(
            {
                Visit.eta: datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
                Visit.appointment_start: datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC),
                Visit.appointment_end: datetime(2026, 3, 4, 6, 0, 0, 500000, tzinfo=UTC),
                Visit.stop_order: 3,
            }
        ).where(Visit.id == odd)
    assert bare


async def _both(client, actor: Actor, cursor: str | None, limit: int) -> tuple[PullResponse, PullResponse]:
    params: dict[str, object] = {"protocol": 1, "limit": limit, **({"cursor": cursor} if cursor else {})}
    answers = []
    for media in ("application/json", "application/msgpack"):
        answer = await client.get("/v1/sync/pull", params=params, headers={**actor.headers, "Accept": media})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith(media)
        decode = msgspec.json.decode if media.endswith("json") else msgspec.msgpack.decode
        answers.append(decode(answer.content, type=PullResponse))
    return answers[0], answers[1]


@pytest.mark.embedded
async def test_json_and_msgpack_pulls_decode_to_the_same_answer(client, phones):
    anna, first, second, shared = await _busy_day(client, phones)
    await _odd_visits(anna.team_id, anna)
    cursor, seen, removed, resolved = None, set(), set(), 0
    while True:
        as_json, as_msgpack = await _both(client, anna, cursor, 2)
        assert msgspec.structs.replace(as_msgpack, server_time=as_json.server_time) == as_json
        seen |= {v.id for v in as_json.visits}
        removed |= {(r.reason, r.id) for r in as_json.removals}
        resolved += len(as_json.conflicts)
        cursor = as_json.cursor
        if not as_json.has_more:
            break
    assert {first, second, shared} <= seen
    assert {reason for reason, _ in removed} == {"reassigned", "cancelled"}
    assert resolved == 1
    names = {v.case.debtor_name for v in (await _both(client, anna, None, 200))[0].visits}
    assert NAME in names


@pytest.mark.embedded
@pytest.mark.parametrize("media", ["application/json", "application/msgpack"])
async def test_a_pull_in_either_format_keeps_the_coded_errors(client, media):
    anna = await make_collector(await make_team())
    headers = {**anna.headers, "Accept": media}
    old = await client.get("/v1/sync/pull", params={"protocol": 0}, headers=headers)
    bad = await client.get("/v1/sync/pull", params={"protocol": 1, "cursor": "x"}, headers=headers)
    decode = msgspec.json.decode if media.endswith("json") else msgspec.msgpack.decode
    assert (old.status_code, decode(old.content)["code"]) == (426, "426.50")
    assert (bad.status_code, decode(bad.content)["code"]) == (400, "400.50")
