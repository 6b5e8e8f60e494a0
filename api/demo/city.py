"""A synthetic city (pure, seeded): neighbourhoods of buildings over about 30 x 30 km, teams by area,
collectors with home bases, debtors with home (and sometimes work) addresses.

Several debtors live in the same building (same coordinates, same street address), as in real
apartment blocks, so route planning has stops that group visits.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

CENTRE = (31.2304, 121.4737)  # lat, lon
SPAN_KM = 30.0
TIMEZONE = "Asia/Shanghai"
_SURNAMES = ["Li", "Wang", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "Xu", "Sun", "Ma", "Zhu"]
_GIVEN = ["Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Qiang", "Xiu", "Jun", "Hui", "Ling", "Tao", "Ping", "Bo"]
_STREETS = ["Garden", "River", "Lake", "Pine", "Harbour", "Silk", "Bamboo", "Lotus", "Maple", "Jade", "Willow"]


@dataclass(frozen=True)
class Place:
    """A building: coordinates and a street address."""

    lat: float
    lon: float
    text: str


@dataclass(frozen=True)
class Collector:
    """A field collector of a team, living near its area."""

    username: str
    team: str
    home: Place
    shift_start_hour: int
    shift_end_hour: int


@dataclass(frozen=True)
class Debtor:
    """One case's upstream row."""

    external_ref: str
    name: str
    national_id: str
    phones: list[str]
    amount_owed: Decimal
    days_past_due: int
    contact_state: str
    team: str
    last_contact_at: datetime
    home: Place
    work: Place | None


@dataclass
class City:
    """Everything the seed needs."""

    teams: list[str] = field(default_factory=list)
    collectors: list[Collector] = field(default_factory=list)
    debtors: list[Debtor] = field(default_factory=list)


def offset(lat: float, lon: float, north_km: float, east_km: float) -> tuple[float, float]:
    """A point ``north_km`` / ``east_km`` away (equirectangular: fine at city scale)."""
    return lat + north_km / 111.32, lon + east_km / (111.32 * math.cos(math.radians(lat)))


def _neighbourhoods(rng: random.Random, count: int) -> list[tuple[float, float]]:
    half = SPAN_KM / 2
    return [offset(*CENTRE, rng.uniform(-half, half), rng.uniform(-half, half)) for _ in range(count)]


def _buildings(rng: random.Random, centres: list[tuple[float, float]], per_centre: int) -> list[Place]:
    places = []
    for n, (lat, lon) in enumerate(centres):
        street = f"{_STREETS[n % len(_STREETS)]} Road"
        for b in range(per_centre):
            b_lat, b_lon = offset(lat, lon, rng.gauss(0, 0.45), rng.gauss(0, 0.45))
            places.append(Place(round(b_lat, 6), round(b_lon, 6), f"No. {b + 1} {street}, Block {n + 1}"))
    return places


def team_of(place: Place, teams: list[str]) -> str:
    """Teams split the city into west-to-east bands."""
    west = CENTRE[1] - SPAN_KM / 2 / (111.32 * math.cos(math.radians(CENTRE[0])))
    width = SPAN_KM / (111.32 * math.cos(math.radians(CENTRE[0]))) / len(teams)
    return teams[min(len(teams) - 1, max(0, int((place.lon - west) / width)))]


def _debtor(rng: random.Random, n: int, home: Place, work: Place | None, team: str, now: datetime) -> Debtor:
    dpd = rng.choice([rng.randint(1, 30), rng.randint(31, 90), rng.randint(91, 400)])
    amount = Decimal(str(round(math.exp(rng.gauss(9.3, 1.0)), 2))).quantize(Decimal("0.01"))
    return Debtor(
        external_ref=f"C{n:06d}",
        name=f"{rng.choice(_SURNAMES)} {rng.choice(_GIVEN)}",
        national_id=f"{rng.randint(110000, 659999)}{rng.randint(1950, 2004)}{rng.randint(1000000, 9999999)}",
        phones=[f"+86 1{rng.randint(30, 99)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"],
        amount_owed=min(amount, Decimal("2000000.00")),
        days_past_due=dpd,
        contact_state="lost" if rng.random() < 0.2 else "reachable",
        team=team,
        last_contact_at=now - timedelta(hours=rng.uniform(2, 96)),
        home=home,
        work=work,
    )


def build_city(
    seed: int = 7, cases: int = 3000, teams: int = 3, collectors_per_team: int = 12, now: datetime | None = None
) -> City:
    """The city for a seed: the same seed always gives the same city."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by design
    now = now or datetime.now(UTC)
    city = City(teams=[f"team-{name}" for name in ("west", "central", "east", "far-east")[:teams]])
    centres = _neighbourhoods(rng, max(8, cases // 75))
    buildings = _buildings(rng, centres, per_centre=max(4, cases // len(centres) // 2))
    for t, team in enumerate(city.teams):
        own = [b for b in buildings if team_of(b, city.teams) == team] or buildings
        for c in range(collectors_per_team):
            home = rng.choice(own)
            start = rng.choice([8, 8, 9, 10, 12])
            city.collectors.append(
                Collector(f"collector-{t + 1}-{c + 1:02d}", team, home, start, min(22, start + rng.choice([8, 9, 10])))
            )
    for n in range(cases):
        home = rng.choice(buildings)
        work = rng.choice(buildings) if rng.random() < 0.3 else None
        city.debtors.append(_debtor(rng, n, home, work, team_of(home, city.teams), now))
    return city
