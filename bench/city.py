"""A seeded synthetic city for routing benchmarks: neighbourhood clusters over 30 x 30 km.

65% of visits keep the full legal window; the rest have an evening window (18:00-22:00) or a 2-hour
appointment; service takes 5-15 minutes; some visits share a building (same address key). Collectors
live anywhere in the city and work a mix of morning, day and late shifts.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from routing.model import Collector, Visit

CENTRE = (31.23, 121.47)
TIMEZONE = "Asia/Shanghai"
SIDE_M = 30_000.0
SHIFTS = ((time(8), time(16)), (time(10), time(18)), (time(14), time(22)))
SHIFT_WEIGHTS = (0.35, 0.3, 0.35)


def _offset(lat: float, lon: float, dx_m: float, dy_m: float) -> tuple[float, float]:
    return lat + dy_m / 111_195.0, lon + dx_m / (111_195.0 * math.cos(math.radians(lat)))


def _inside(value: float) -> float:
    return min(SIDE_M / 2, max(-SIDE_M / 2, value))


def _window(rng: random.Random, day: date) -> tuple[datetime | None, datetime | None]:
    tz = ZoneInfo(TIMEZONE)
    draw = rng.random()
    if draw < 0.65:
        return None, None
    if draw < 0.75:
        start = datetime.combine(day, time(18), tzinfo=tz)
        return start.astimezone(UTC), (start + timedelta(hours=4)).astimezone(UTC)
    start = datetime.combine(day, time(9), tzinfo=tz) + timedelta(minutes=30 * rng.randrange(0, 21))
    return start.astimezone(UTC), (start + timedelta(hours=2)).astimezone(UTC)


def make_visits(n: int, day: date, seed: int) -> list[Visit]:
    """``n`` visits in neighbourhood clusters; about 12% share a building with an earlier visit."""
    rng = random.Random(seed)
    hoods = [
        (_inside(rng.uniform(-15_000, 15_000)), _inside(rng.uniform(-15_000, 15_000)), rng.uniform(300, 1_200))
        for _ in range(max(6, n // 50))
    ]
    weights = [rng.uniform(0.3, 1.0) for _ in hoods]
    visits: list[Visit] = []
    buildings: list[tuple[float, float, str]] = []
    for index in range(n):
        if buildings and rng.random() < 0.12:
            lat, lon, key = rng.choice(buildings)
        else:
            x0, y0, sigma = rng.choices(hoods, weights)[0]
            x, y = _inside(rng.gauss(x0, sigma)), _inside(rng.gauss(y0, sigma))
            lat, lon = _offset(*CENTRE, x, y)
            key = f"building-{index}"
            buildings.append((lat, lon, key))
        start, end = _window(rng, day)
        visits.append(
            Visit(
                id=f"v{index:06d}",
                lat=lat,
                lon=lon,
                timezone=TIMEZONE,
                service_s=60 * rng.randint(5, 15),
                priority=rng.randint(0, 60),
                address_key=key,
                window_start=start,
                window_end=end,
            )
        )
    return visits


def make_collectors(n: int, seed: int, capacity: int = 40) -> list[Collector]:
    """``n`` collectors living anywhere in the city, with a mix of shifts."""
    rng = random.Random(seed + 1)
    collectors = []
    for index in range(n):
        lat, lon = _offset(*CENTRE, rng.uniform(-15_000, 15_000), rng.uniform(-15_000, 15_000))
        shift = rng.choices(SHIFTS, SHIFT_WEIGHTS)[0]
        collectors.append(
            Collector(
                id=f"c{index:04d}",
                start_lat=lat,
                start_lon=lon,
                timezone=TIMEZONE,
                shift_start=shift[0],
                shift_end=shift[1],
                capacity=capacity,
            )
        )
    return collectors
