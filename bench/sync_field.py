"""Shared by the sync and load benchmarks: a PostgreSQL database with many collectors, each with one
enrolled device and a day of assigned visits, seeded through the product's own doors.

- cases go through the upstream importer (``import_stream``, its bulk path);
- people and devices through the people service (enrolment code redeemed, as a phone does);
- visits through the dispatch service (``request_visit`` with ``assign_to``), so every visit has its
  timeline, its version and its rows in the collector's sync feed, exactly as in production.

Seeding 500 x 40 takes a minute or two, so the seeded database is kept as a template
(``<name>_seed_<collectors>x<visits>``) and each run starts from a fresh copy of it
(``CREATE DATABASE ... TEMPLATE``: a file copy, about a second). ``--reseed`` rebuilds the template.
The devices' tokens are kept in the template's own ``bench_device`` table.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_sync"
COLLECTORS_PER_TEAM = 50


@dataclass(frozen=True)
class Device:
    """One seeded phone: its collector, its token, and its visit ids."""

    user_id: str
    device_id: str
    token: str
    visits: int


def database_of(url: str) -> str:
    """The database a PostgreSQL URL names (its query, e.g. ``?host=/var/run/postgresql``, aside)."""
    return urlsplit(url).path.lstrip("/")


def with_database(url: str, name: str) -> str:
    """``url`` naming database ``name`` instead, everything else (a Unix socket in its query) kept."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def _admin(url: str) -> Any:
    import asyncpg

    return await asyncpg.connect(with_database(url, "postgres"))


async def _exists(url: str) -> bool:
    name = database_of(url)
    admin = await _admin(url)
    try:
        return bool(await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await admin.close()


async def _recreate(url: str, template: str | None = None) -> None:
    name = database_of(url)
    admin = await _admin(url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        suffix = f' TEMPLATE "{template}"' if template else ""
        await admin.execute(f'CREATE DATABASE "{name}"{suffix}')
    finally:
        await admin.close()


def _csv(collectors: int, visits_each: int, seed: int) -> bytes:
    """One case per visit, in the synthetic city's area; teams of 50 collectors."""
    from api.demo.seed import HEADER

    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    contact = datetime.now(UTC) - timedelta(days=3)
    for c in range(collectors):
        team = f"bench-team-{c // COLLECTORS_PER_TEAM}"
        lat0, lon0 = 31.23 + rng.uniform(-0.12, 0.12), 121.47 + rng.uniform(-0.14, 0.14)
        for v in range(visits_each):
            lat, lon = lat0 + rng.uniform(-0.01, 0.01), lon0 + rng.uniform(-0.01, 0.01)
            ref = f"B{c:05d}-{v:03d}"
            writer.writerow(
                [
                    "bench",
                    ref,
                    f"Debtor {ref}",
                    f"3101011990{rng.randrange(10**8):08d}",
                    f"+86 138 {rng.randrange(10**4):04d} {rng.randrange(10**4):04d}",
                    f"{rng.randint(1000, 90000)}.{rng.randrange(100):02d}",
                    "CNY",
                    str(rng.randint(31, 200)),
                    "reachable",
                    team,
                    contact.isoformat(),
                    f"No. {v + 1} Bench Road {c}, Block {rng.randint(1, 9)}",
                    f"{lat:.6f}",
                    f"{lon:.6f}",
                    "Asia/Shanghai",
                    "",
                    "",
                    "",
                    "",
                ]
            )
    return out.getvalue().encode()


async def _people(collectors: int) -> list[tuple[str, str, str]]:
    from api.db import write_transaction
    from api.people import schemas, service
    from api.people.roles import Role

    teams: dict[int, Any] = {}
    made: list[tuple[str, str, str]] = []
    for start in range(0, collectors, 50):
        async with write_transaction():
            for c in range(start, min(collectors, start + 50)):
                index = c // COLLECTORS_PER_TEAM
                if index not in teams:
                    teams[index] = (await service.create_team(f"bench-team-{index}")).id
                user = await service.create_user(
                    schemas.UserCreate(username=f"bench-collector-{c:05d}", role=Role.COLLECTOR, team_id=teams[index])
                )
                code = await service.issue_enrolment_code(user.id, None, timedelta(hours=24))
                device = await service.redeem_enrolment_code(schemas.DeviceEnrol(code=code.code, label="bench phone"))
                made.append((str(user.id), str(device.device_id), device.token))
    return made


async def _visits(part_no: int, parts: int, tasks: int = 3) -> None:
    """Request and assign the visits of every ``parts``-th collector (one of several processes: the
    dispatch service is CPU-bound Python, so the seed spreads it over the cores)."""
    from api.cases.tables import Case
    from api.db import start_engine, stop_engine, write_transaction
    from api.dispatch import schemas, service
    from api.dispatch.visit_states import VisitType
    from api.queue.catalogue import register_all
    from api.settings import get_settings

    register_all()
    await start_engine(get_settings().database)
    users = {r["n"]: r["user_id"] for r in await Case.raw("SELECT n, user_id FROM bench_device")}
    rows = await Case.select(Case.id, Case.external_ref).where(Case.source == "bench").order_by(Case.external_ref)
    work = [(row["id"], users[n]) for row in rows if (n := int(row["external_ref"][1:6])) % parts == part_no]

    async def run(part: list[tuple[Any, Any]]) -> None:
        for start in range(0, len(part), 100):
            async with write_transaction():
                for case_id, user_id in part[start : start + 100]:
                    data = schemas.VisitCreate(
                        case_id=case_id, type=VisitType.PRESSURE, due_date=date.today(), assign_to=user_id
                    )
                    await service.request_visit(data, None, origin="bench:seed")

    try:
        await asyncio.gather(*(run(work[i::tasks]) for i in range(tasks)))
    finally:
        await stop_engine()


async def _seed(collectors: int, visits_each: int) -> None:
    """Teams, collectors with enrolled devices (tokens kept in ``bench_device``) and their cases."""
    from api.cases.importer import import_stream
    from api.db import start_engine, stop_engine
    from api.queue.catalogue import register_all
    from api.settings import get_settings

    register_all()
    await start_engine(get_settings().database)
    try:
        made = await _people(collectors)
        body = _csv(collectors, visits_each, seed=7)

        async def chunks():  # type: ignore[no-untyped-def]
            for i in range(0, len(body), 256 * 1024):
                yield body[i : i + 256 * 1024]

        report = await import_stream(chunks(), "text/csv")
        if report.created != collectors * visits_each:
            raise RuntimeError(f"import created {report.created} cases, expected {collectors * visits_each}")
        from api.cases.tables import Case

        await Case.raw(
            "CREATE TABLE bench_device (n int PRIMARY KEY, user_id uuid, device_id uuid, token text, visits int)"
        )
        for n, (user_id, device_id, token) in enumerate(made):
            await Case.raw(
                "INSERT INTO bench_device VALUES ({}, {}, {}, {}, {})", n, user_id, device_id, token, visits_each
            )
    finally:
        await stop_engine()


async def _check_feed(url: str) -> None:
    """Check that the writers' sequencer passes numbered every feed row; refresh the planner's statistics."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        if await connection.fetchval("SELECT count(*) FROM sync_change WHERE seq IS NULL"):
            raise RuntimeError("feed rows left unnumbered after the seed")
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def _child_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDVISIT_")}
    env["FIELDVISIT_DATABASE_URL"] = url
    env["FIELDVISIT_DB_POOL_MAX"] = "8"
    return env


def prepare(url: str, collectors: int, visits_each: int, *, reseed: bool = False, quiet: bool = False) -> float:
    """Make ``url`` a fresh copy of the seeded template (seeding it first if needed); returns seconds spent."""
    started = time.perf_counter()
    name = database_of(url)
    template = f"{name}_seed_{collectors}x{visits_each}"
    template_url = with_database(url, template)
    if reseed or not asyncio.run(_exists(template_url)):
        if not quiet:
            print(f"seeding {collectors} collectors x {visits_each} visits into {template} (once) ...", flush=True)
        asyncio.run(_recreate(template_url))
        env = _child_env(template_url)
        subprocess.run([sys.executable, "-m", "api.cli", "db", "upgrade"], cwd=ROOT, env=env, check=True)
        code = f"import asyncio; from bench.sync_field import _seed; asyncio.run(_seed({collectors}, {visits_each}))"
        seeded = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
        parts = 2
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    f"import asyncio; from bench.sync_field import _visits; asyncio.run(_visits({i}, {parts}))",
                ],
                cwd=ROOT,
                env=env,
            )
            for i in range(parts)
        ]
        if any(child.wait() != 0 for child in children):
            raise RuntimeError("seeding the visits failed")
        asyncio.run(_check_feed(template_url))
        if not quiet:
            print(f"  seeded in {time.perf_counter() - seeded:.0f} s", flush=True)
    else:  # a template seeded before the latest migrations gets them (a no-op when it is up to date)
        env = _child_env(template_url)
        subprocess.run(
            [sys.executable, "-m", "api.cli", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True
        )
    asyncio.run(_recreate(url, template))
    if name == template:
        raise ValueError("the bench database cannot be its own template")
    return time.perf_counter() - started


def devices(url: str) -> list[Device]:
    """The seeded devices, in order."""

    async def load() -> list[Device]:
        import asyncpg

        connection = await asyncpg.connect(url)
        try:
            rows = await connection.fetch("SELECT user_id, device_id, token, visits FROM bench_device ORDER BY n")
        finally:
            await connection.close()
        return [Device(str(r["user_id"]), str(r["device_id"]), r["token"], r["visits"]) for r in rows]

    return asyncio.run(load())


def server_env(url: str, redis_url: str | None = None, data_dir: Path | None = None) -> dict[str, str]:
    """The environment of a benchmark's server process: the bench database, no periodic sweeps."""
    env = _child_env(url)
    env.pop("FIELDVISIT_DB_POOL_MAX", None)
    env["FIELDVISIT_JOB_SWEEP_INTERVAL"] = "3600"
    if redis_url:
        env["FIELDVISIT_REDIS_URL"] = redis_url
    if data_dir is not None:
        env["FIELDVISIT_DATA_DIR"] = str(data_dir)
    return env


def flush_redis(url: str) -> None:
    """Empty the benchmark's own Redis database (jobs left by an earlier run)."""
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
