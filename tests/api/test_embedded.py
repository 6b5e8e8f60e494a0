"""The embedded default, as a user meets it: `fieldvisit` commands and `fieldvisit serve` on a
SQLite file with no PostgreSQL and no Redis, in real processes."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.server import cli, embedded_env, serve

pytestmark = pytest.mark.embedded


def test_first_admin_comes_from_the_cli_and_serve_answers_health(tmp_path):
    env = embedded_env(tmp_path)
    created = cli("users", "create", "--username", "root-admin", "--role", "admin", env=env)
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("fvs_")
    with serve(env) as server:
        health = httpx.get(f"{server.url}/health").json()
        assert health["status"] == "ok"
        assert health["database"]["engine"] == "sqlite"
        assert health["queue"]["backend"] == "inline"
        me = httpx.get(f"{server.url}/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["role"] == "admin"
    assert (tmp_path / "fieldvisit.sqlite3").exists()


def test_fifty_concurrent_writes_on_sqlite_never_hit_database_is_locked(tmp_path):
    env = embedded_env(tmp_path)
    token = cli("users", "create", "--username", "admin", "--role", "admin", env=env).stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}

    async def burst(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
            writes = [client.post("/v1/teams", json={"name": f"team-{i}"}) for i in range(50)]
            reads = [client.get("/v1/teams") for _ in range(20)]
            return await asyncio.gather(*writes, *reads)

    with serve(env) as server:
        answers = asyncio.run(burst(server.url))
        log = server.log.read_text()
    statuses = [a.status_code for a in answers]
    assert statuses[:50] == [201] * 50, [a.text for a in answers if a.status_code >= 400][:3]
    assert all(s == 200 for s in statuses[50:])
    assert "database is locked" not in log
    teams = cli("teams", "list", env=env).stdout
    assert all(f"team-{i}" in teams for i in range(50))
