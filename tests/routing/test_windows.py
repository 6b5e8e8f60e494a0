"""Legal visiting windows in the debtor's local time, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.model import LegalWindow, PlanOptions, Visit
from routing.windows import legal_window, local_instant, visit_window

ZONES = ["America/New_York", "Europe/London", "Europe/Berlin", "Australia/Sydney", "Asia/Shanghai", "America/Santiago"]


def _visit(tz: str, **kw: object) -> Visit:
    return Visit(id="v", lat=0.0, lon=0.0, timezone=tz, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        (date(2026, 3, 7), "2026-03-07T13:00:00+00:00", "2026-03-08T03:00:00+00:00"),  # EST
        (date(2026, 3, 8), "2026-03-08T12:00:00+00:00", "2026-03-09T02:00:00+00:00"),  # clocks went forward at 02:00
        (date(2026, 11, 1), "2026-11-01T13:00:00+00:00", "2026-11-02T03:00:00+00:00"),  # clocks went back at 02:00
    ],
)
def test_new_york_window_follows_the_clock_change(day: date, start: str, end: str) -> None:
    window = legal_window(_visit("America/New_York"), PlanOptions(day=day))
    assert window == (datetime.fromisoformat(start), datetime.fromisoformat(end))


def test_a_window_spanning_the_change_has_the_real_length() -> None:
    # Europe/London goes forward at 01:00 UTC on 2026-03-29: 00:00-12:00 local is 11 hours of real time.
    options = PlanOptions(day=date(2026, 3, 29), legal_window=LegalWindow(0, 12 * 60))
    start, end = legal_window(_visit("Europe/London"), options)
    assert end - start == timedelta(hours=11)


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    tz=st.sampled_from(ZONES),
    start_h=st.integers(0, 12),
    length_h=st.integers(1, 12),
)
def test_legal_window_is_the_local_wall_clock_window(day: date, tz: str, start_h: int, length_h: int) -> None:
    options = PlanOptions(day=day, legal_window=LegalWindow(start_h * 60, (start_h + length_h) * 60))
    start, end = legal_window(_visit(tz), options)
    zone = ZoneInfo(tz)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    assert local_start.date() == day
    # A wall time skipped by a spring-forward lands an hour later; everything else is exact.
    assert local_start.time() in (time(start_h), time(start_h + 1))
    assert local_end.time().minute == 0


def test_appointment_narrows_and_can_empty_the_window() -> None:
    day = date(2026, 6, 10)
    tz = ZoneInfo("Asia/Shanghai")
    at = datetime.combine(day, time(21, 30), tzinfo=tz)
    narrowed = visit_window(
        _visit("Asia/Shanghai", window_start=at, window_end=at + timedelta(hours=2)), PlanOptions(day=day)
    )
    assert narrowed == (at.astimezone(UTC), datetime.combine(day, time(22), tzinfo=tz).astimezone(UTC))
    too_late = datetime.combine(day, time(22, 30), tzinfo=tz)
    visit = _visit("Asia/Shanghai", window_start=too_late, window_end=too_late + timedelta(hours=1))
    assert visit_window(visit, PlanOptions(day=day)) is None
    squeezed = _visit("Asia/Shanghai", service_s=3600, window_start=at)
    assert visit_window(squeezed, PlanOptions(day=day)) is None  # 30 minutes left, an hour of work


def test_local_instant_of_1440_minutes_is_next_midnight() -> None:
    assert local_instant(date(2026, 3, 8), 1440, "America/New_York") == datetime(2026, 3, 9, 4, tzinfo=UTC)
