"""When visits may happen and when collectors work, as instants (no I/O).

The legal window is a wall-clock window in the debtor's timezone on the plan's day; it becomes two
UTC instants through ``zoneinfo``, so a day on which clocks change is 23 or 25 hours long and the
window keeps its local meaning (08:00-22:00 local is 13 hours of real time on a spring-forward day in
a zone whose change falls inside it, 14 elsewhere). An appointment can only narrow it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from routing.model import Collector, LegalWindow, PlanOptions, Visit

Interval = tuple[datetime, datetime]


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA timezone ``name``; ValueError if there is none by that name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}") from None


def local_instant(day: date, minutes: int, timezone: str) -> datetime:
    """The UTC instant of wall-clock ``minutes`` after local midnight of ``day`` (1440 is next midnight).

    Aware arithmetic on one ``ZoneInfo`` is wall-clock arithmetic, so the offset is the one in force
    at the resulting local time. Wall times skipped by a spring-forward resolve as zoneinfo's fold=0.
    """
    tz = zone(timezone)
    wall = datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=minutes)
    return wall.astimezone(UTC)


def legal_window(visit: Visit, options: PlanOptions) -> Interval:
    """The legal visiting window of a visit on the plan's day, in UTC."""
    window: LegalWindow = options.legal_window
    if visit.jurisdiction is not None:
        window = options.legal_windows.get(visit.jurisdiction, window)
    return (
        local_instant(options.day, window.start_min, visit.timezone),
        local_instant(options.day, window.end_min, visit.timezone),
    )


def visit_window(visit: Visit, options: PlanOptions) -> Interval | None:
    """The window the whole visit must fit in: the legal window narrowed by any appointment; None if empty."""
    start, end = legal_window(visit, options)
    if visit.window_start is not None:
        start = max(start, visit.window_start.astimezone(UTC))
    if visit.window_end is not None:
        end = min(end, visit.window_end.astimezone(UTC))
    if end - start < timedelta(seconds=visit.service_s):
        return None
    return start, end


def shift_interval(collector: Collector, day: date) -> Interval:
    """A collector's shift on ``day`` in UTC (a shift ending before it starts ends the next day)."""
    start_min = collector.shift_start.hour * 60 + collector.shift_start.minute
    end_min = collector.shift_end.hour * 60 + collector.shift_end.minute
    if end_min <= start_min:
        end_min += 24 * 60
    return local_instant(day, start_min, collector.timezone), local_instant(day, end_min, collector.timezone)


def intersect(a: Interval | None, b: Interval | None) -> Interval | None:
    """The overlap of two intervals, None when they do not overlap."""
    if a is None or b is None:
        return None
    start, end = max(a[0], b[0]), min(a[1], b[1])
    return (start, end) if start < end else None


class Clock:
    """Whole seconds since one origin instant: the solver's time axis for a plan."""

    def __init__(self, origin: datetime) -> None:
        self.origin = origin.astimezone(UTC)

    def seconds(self, instant: datetime) -> int:
        """Seconds from the origin to ``instant`` (rounded inward by the caller's choice of floor)."""
        return int((instant.astimezone(UTC) - self.origin).total_seconds())

    def instant(self, seconds: int) -> datetime:
        """The instant ``seconds`` after the origin, in UTC."""
        return self.origin + timedelta(seconds=int(seconds))


def clock_for(day: date, timezones: list[str]) -> Clock:
    """A clock whose origin (the earliest local midnight of ``day`` among the zones) precedes every window."""
    starts = [local_instant(day, 0, tz) for tz in set(timezones)] or [datetime.combine(day, time(0), tzinfo=UTC)]
    return Clock(min(starts))
