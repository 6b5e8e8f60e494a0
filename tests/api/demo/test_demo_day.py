"""``fieldvisit demo`` (the README's first command) in real processes: a whole day on the embedded
default, then ``fieldvisit serve`` showing the same data; and the same command on PostgreSQL + arq."""

from __future__ import annotations

import os
import re
import subprocess

import httpx
import pytest

from tests.server import cli, embedded_env, serve

CASES = "300"


def _token(stdout: str) -> str:
    match = re.search(r"demo-admin token \(shown once\):\s+(fvs_\S+)", stdout)
    assert match, stdout[-2000:]
    return match.group(1)


def _check_summary(stdout: str) -> None:
    for expected in (
        "visits done, by outcome",
        "conflicts held for review",
        "visit_reassigned",
        "outside_geofence",
        "outside_legal_hours",
        "recording_without_consent",
        "resumed after an interruption",
        "(verified)",
        "agreement_document processed: 2",
        "approved (tier supervisor): 1",
        "agreement_pending -> in_agreement: 1",
        "was revoked",
        "offline for 2 days",
    ):
        assert expected in stdout, (expected, stdout[-3000:])
    assert "VERIFICATION FAILED" not in stdout


@pytest.mark.embedded
def test_demo_runs_a_day_on_the_embedded_default_and_serve_shows_it(tmp_path):
    env = {**embedded_env(tmp_path), "COLUMNS": "200"}
    result = cli("demo", "--cases", CASES, env=env, timeout=600)
    _check_summary(result.stdout)
    plan_id = re.search(r"GET /v1/routing/plans/([0-9a-f-]{36})\.svg", result.stdout)
    assert plan_id
    with serve(env) as server:
        headers = {"Authorization": f"Bearer {_token(result.stdout)}"}
        cases = httpx.get(f"{server.url}/v1/cases", params={"limit": 500}, headers=headers, timeout=30).json()
        assert len(cases) == int(CASES)
        picture = httpx.get(f"{server.url}/v1/routing/plans/{plan_id.group(1)}.svg", headers=headers, timeout=30)
        assert picture.status_code == 200
        assert picture.text.lstrip().startswith("<")
    again = cli("demo", "--cases", CASES, env=env, check=False, timeout=600)
    assert again.returncode != 0  # the city is already there: refused, nothing overwritten
    assert "reset" in (again.stdout + again.stderr).lower()


def test_demo_runs_on_postgresql_and_arq(tmp_path):
    # Named after this run's test database (and the next Redis db), so parallel runs never share them.
    base, test_db = os.environ["FIELDVISIT_DATABASE_URL"].rsplit("/", 1)
    name = f"{test_db}_demo"
    subprocess.run(["psql", f"{base}/postgres", "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True)
    subprocess.run(["psql", f"{base}/postgres", "-qc", f'CREATE DATABASE "{name}"'], check=True)
    redis_base, redis_db = os.environ["FIELDVISIT_REDIS_URL"].rsplit("/", 1)
    redis = f"{redis_base}/{(int(redis_db or 0) + 1) % 16}"
    env = {
        **embedded_env(tmp_path),
        "COLUMNS": "200",
        "FIELDVISIT_DATABASE_URL": f"{base}/{name}",
        "FIELDVISIT_REDIS_URL": redis,
    }
    subprocess.run(["redis-cli", "-u", redis, "flushdb"], check=True, capture_output=True)
    cli("db", "upgrade", env=env)
    result = cli("demo", "--cases", CASES, env=env, timeout=600)
    _check_summary(result.stdout)
