"""Shared by the evidence benchmarks: a data dir with a collector, a legal user and a visit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_RESET = """
import asyncio, asyncpg, os

async def main():
    connection = await asyncpg.connect(os.environ["FIELDVISIT_DATABASE_URL"])
    await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    await connection.close()

asyncio.run(main())
"""
_SCRIPT = """
import asyncio, json
from api.cli.runtime import run
from api.people.roles import Role
from tests.builders import make_case, make_collector, make_staff, make_team, make_visit

async def work():
    tag = __import__("uuid").uuid4().hex[:8]
    team = await make_team("bench-" + tag)
    collector = await make_collector(team, username="bench-collector-" + tag)
    legal = await make_staff(Role.LEGAL, username="bench-legal-" + tag)
    case_id, address_id = await make_case(team)
    visit = await make_visit(case_id, address_id, team, assigned_to=collector.user_id)
    return {"collector": collector.token, "legal": legal.token, "visit_id": str(visit),
            "collector_id": str(collector.user_id)}

print(json.dumps(run(work)))
"""


def bench_env(data_dir: Path) -> dict[str, str]:
    """The environment of the benchmark's server: embedded unless FIELDVISIT_DATABASE_URL is set."""
    env = dict(os.environ)
    env["FIELDVISIT_DATA_DIR"] = str(data_dir)
    env.setdefault("FIELDVISIT_JOB_SWEEP_INTERVAL", "3600")
    return env


def make_field(env: dict[str, str]) -> dict[str, str]:
    """Create the people and the visit; returns tokens and ids.

    On PostgreSQL the database is reset and migrated first: it must be the benchmark's own."""
    if env.get("FIELDVISIT_DATABASE_URL"):  # a benchmark's own database: start it empty
        subprocess.run([sys.executable, "-c", _RESET], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run(
            [sys.executable, "-m", "api.cli", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True
        )
    out = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))
