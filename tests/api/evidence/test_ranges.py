"""HTTP Range parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.evidence.ranges import parse_range
from evidence.errors import RangeNotSatisfiable

pytestmark = pytest.mark.embedded


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-10", (990, 999)),
        ("bytes=0-5000", (0, 999)),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
    ],
)
def test_ranges(header, expected):
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5-2", "bytes=-0"])
def test_unsatisfiable_ranges_are_coded(header):
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 1000)


@given(st.integers(1, 10_000), st.integers(0, 20_000), st.integers(0, 20_000))
def test_a_satisfiable_range_stays_inside_the_file(size, start, end):
    try:
        found = parse_range(f"bytes={start}-{end}", size)
    except RangeNotSatisfiable:
        assert start >= size or end < start
        return
    assert found is not None
    assert 0 <= found[0] <= found[1] < size
