"""``fieldvisit demo seed``: load the synthetic city through the real doors (the importer, the visit
request service), so the demo data behaves exactly like production data."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from uuid import UUID

from api.cases.importer import ImportReport, import_stream
from api.cases.tables import Case
from api.db import write_transaction
from api.demo.city import TIMEZONE, City, Collector, Debtor
from api.dispatch import schemas as dispatch_schemas
from api.dispatch import service as dispatch
from api.dispatch.visit_states import VisitType
from api.errors import DomainError
from api.people import repository as people_repo
from api.people import schemas as people_schemas
from api.people import service as people
from api.people.roles import Principal, Role
from api.routing import service as routing
from api.routing.schemas import CollectorProfileIn

Progress = Callable[[str, int, int], None]
HEADER = [
    "source",
    "external_ref",
    "debtor_name",
    "national_id",
    "phones",
    "amount_owed",
    "currency",
    "days_past_due",
    "contact_state",
    "team",
    "last_contact_at",
    "home_address",
    "home_lat",
    "home_lon",
    "home_timezone",
    "work_address",
    "work_lat",
    "work_lon",
    "work_timezone",
]


class DemoAlreadySeeded(DomainError):
    """The demo city is already in this database: run `fieldvisit demo --reset` (embedded mode) or use an
    empty FIELDVISIT_DATA_DIR / database."""

    code = "409.49"
    status_code = 409


@dataclass
class SeedSummary:
    """What the seed created, and the tokens of the demo staff (shown once)."""

    teams: dict[str, UUID] = field(default_factory=dict)
    collectors: dict[str, UUID] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    imported: ImportReport | None = None
    visits: int = 0
    assigned: int = 0


def _row(debtor: Debtor) -> list[str]:
    work = debtor.work
    return [
        "demo",
        debtor.external_ref,
        debtor.name,
        debtor.national_id,
        ";".join(debtor.phones),
        str(debtor.amount_owed),
        "CNY",
        str(debtor.days_past_due),
        debtor.contact_state,
        debtor.team,
        debtor.last_contact_at.isoformat(),
        debtor.home.text,
        str(debtor.home.lat),
        str(debtor.home.lon),
        TIMEZONE,
        work.text if work else "",
        str(work.lat) if work else "",
        str(work.lon) if work else "",
        TIMEZONE if work else "",
    ]


async def city_csv(city: City, rows_per_chunk: int = 500) -> AsyncIterator[bytes]:
    """The city's cases as the upstream system would send them (CSV), in chunks."""
    yield (",".join(HEADER) + "\n").encode()
    for start in range(0, len(city.debtors), rows_per_chunk):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(_row(d) for d in city.debtors[start : start + rows_per_chunk])
        yield buffer.getvalue().encode()


async def _people(city: City, summary: SeedSummary) -> None:
    async with write_transaction():
        if await people_repo.get_team_by_name(city.teams[0]) is not None:
            raise DemoAlreadySeeded()
        for name in city.teams:
            summary.teams[name] = (await people.create_team(name)).id
        staff: list[tuple[str, Role, UUID | None, str]] = [
            ("demo-admin", Role.ADMIN, None, ""),
            ("demo-legal", Role.LEGAL, None, ""),
        ]
        for name, team in summary.teams.items():
            staff += [
                (f"dispatcher-{name}", Role.DISPATCHER, team, ""),
                (f"supervisor-{name}", Role.SUPERVISOR, team, "supervisor"),
            ]
        staff.append(("director", Role.SUPERVISOR, summary.teams[city.teams[0]], "director"))
        for username, role, team_id, tier in staff:
            user = await people.create_user(
                people_schemas.UserCreate(
                    username=username, role=role, team_id=team_id, approval_tier=tier, display_name=username
                )
            )
            summary.tokens[username] = (await people.issue_staff_token(user.id, "demo")).token
        admin = None
        for collector in city.collectors:
            user = await people.create_user(
                people_schemas.UserCreate(
                    username=collector.username, role=Role.COLLECTOR, team_id=summary.teams[collector.team]
                )
            )
            summary.collectors[collector.username] = user.id
            admin = admin or await _admin_principal()
            await routing.save_profile(user.id, _profile(collector), admin)


async def _admin_principal() -> Principal:
    row = await people_repo.get_user_by_username("demo-admin")
    assert row is not None
    return Principal(user_id=row["id"], username="demo-admin", role=Role.ADMIN, team_id=None)


def _profile(collector: Collector) -> CollectorProfileIn:
    """Home base and shift for route planning; 12 visits a day at most."""
    return CollectorProfileIn(
        home_lat=collector.home.lat,
        home_lon=collector.home.lon,
        timezone=TIMEZONE,
        shift_start=time(collector.shift_start_hour),
        shift_end=time(min(23, collector.shift_end_hour)),
        capacity=12,
    )


async def _visits(
    city: City, summary: SeedSummary, rng: random.Random, share: float, progress: Progress | None
) -> None:
    refs = {d.external_ref: d for d in city.debtors}
    rows = (
        await Case.select(Case.id, Case.external_ref, Case.team)
        .where(Case.source == "demo")
        .order_by(Case.external_ref)
    )
    chosen = [r for r in rows if rng.random() < share]
    by_team: dict[UUID | None, list[UUID]] = {}
    for collector in city.collectors:
        by_team.setdefault(summary.teams[collector.team], []).append(summary.collectors[collector.username])
    for start in range(0, len(chosen), 200):
        async with write_transaction():
            for row in chosen[start : start + 200]:
                debtor = refs[row["external_ref"]]
                assignee = rng.choice(by_team[row["team"]]) if rng.random() < 0.5 else None
                data = dispatch_schemas.VisitCreate(
                    case_id=row["id"],
                    type=VisitType.TRACING if debtor.contact_state == "lost" else VisitType.PRESSURE,
                    due_date=date.today() + timedelta(days=rng.randint(0, 6)),
                    priority=min(1000, debtor.days_past_due),
                    assign_to=assignee,
                )
                await dispatch.request_visit(data, None, origin="demo:seed")
                summary.visits += 1
                summary.assigned += assignee is not None
        if progress:
            progress("visits", min(start + 200, len(chosen)), len(chosen))


async def seed(
    city: City, *, seed_value: int = 7, visit_share: float = 0.35, progress: Progress | None = None
) -> SeedSummary:
    """Create the city's teams, people, cases (through the importer) and visit requests."""
    summary = SeedSummary()
    await _people(city, summary)
    if progress:
        progress("people", 1, 1)

    def imported(rows: int) -> None:
        if progress:
            progress("cases", rows, len(city.debtors))

    summary.imported = await import_stream(city_csv(city), "text/csv", imported)
    await _visits(city, summary, random.Random(seed_value), visit_share, progress)  # noqa: S311 - demo data
    return summary
