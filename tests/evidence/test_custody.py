"""The custody chain with plain values: any change, removal, insertion or reordering is named."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence.custody import GENESIS, Link, link_from_json, make_link, verify_chain

pytestmark = pytest.mark.embedded
ITEM = "5b0c3a8e-2a7e-4d51-9a61-3f4c2b1d0e9f"
ACTIONS = ["declared", "received", "verified", "processed", "viewed", "exported"]


def chain(length: int) -> list[Link]:
    links: list[Link] = []
    start = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    for n in range(length):
        previous = links[-1] if links else None
        links.append(
            make_link(
                previous,
                item_id=ITEM,
                action=ACTIONS[n % len(ACTIONS)],
                at=start + timedelta(seconds=n),
                actor_id=None,
                device_id=None,
                address="10.0.0.1",
                details={"n": n, "sha256": "ab" * 32, "名字": "张三"},
            )
        )
    return links


def test_a_fresh_chain_verifies_and_survives_jsonl():
    links = chain(6)
    assert links[0].prev_hash == GENESIS
    report = verify_chain(ITEM, [link_from_json(link.as_json()) for link in links])
    assert report.valid
    assert report.head == links[-1].hash


@given(st.integers(2, 8), st.data())
def test_any_altered_field_breaks_the_chain_at_that_link(length, data):
    links = chain(length)
    index = data.draw(st.integers(0, length - 1))
    field = data.draw(st.sampled_from(["action", "at", "address", "details", "actor_id"]))
    value = {"action": "viewed!", "at": "2030-01-01T00:00:00.000000+00:00", "address": "x", "details": {"n": -1}}.get(
        field, "00000000-0000-0000-0000-000000000001"
    )
    links[index] = dataclasses.replace(links[index], **{field: value})
    report = verify_chain(ITEM, links)
    assert not report.valid
    assert report.first_broken is not None
    assert report.first_broken.seq == index + 1


@given(st.integers(3, 8), st.data())
def test_removed_or_swapped_links_are_found(length, data):
    links = chain(length)
    index = data.draw(st.integers(0, length - 2))
    removed = links[:index] + links[index + 1 :]
    assert verify_chain(ITEM, removed).first_broken.seq == index + 1  # type: ignore[union-attr]
    swapped = list(links)
    swapped[index], swapped[index + 1] = swapped[index + 1], swapped[index]
    assert verify_chain(ITEM, swapped).first_broken.seq == index + 1  # type: ignore[union-attr]


def test_a_rehashed_forgery_still_breaks_at_the_next_link():
    links = chain(4)
    forged = make_link(links[0], item_id=ITEM, action="received", at=datetime.now(UTC), actor_id=None,
                       device_id=None, address="forged", details={})  # fmt: skip
    report = verify_chain(ITEM, [links[0], forged, links[2], links[3]])
    assert report.first_broken is not None
    assert report.first_broken.seq == 3
