"""docker-compose.yml is well-formed and only runs commands the CLI has (no engine runs here)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
import yaml

from api.cli.main import cli

pytestmark = pytest.mark.embedded

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def _resolve(command: list[str]) -> click.Command:
    current: click.Command = cli
    args = list(command)
    while args and isinstance(current, click.Group) and not args[0].startswith("-"):
        name = args.pop(0)
        found = current.get_command(click.Context(current), name)
        assert found is not None, f"`fieldvisit {' '.join(command)}`: no command {name!r}"
        current = found
    options = {opt for param in current.params for opt in getattr(param, "opts", [])}
    for arg in args:
        if arg.startswith("--"):
            assert arg in options, f"`fieldvisit {' '.join(command)}`: unknown option {arg}"
    return current


def test_compose_file_has_the_services_with_health_checks_and_volumes():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"postgres", "redis", "api", "worker"} <= set(services)
    for name in ("postgres", "redis", "api", "worker"):
        assert "healthcheck" in services[name], name
    assert set(compose["volumes"]) >= {"pgdata", "redisdata", "blobs"}
    env = services["api"]["environment"]
    assert env["FIELDVISIT_DATABASE_URL"].startswith("postgresql://")
    assert env["FIELDVISIT_REDIS_URL"].startswith("redis://")


def test_every_fieldvisit_command_in_compose_exists_in_the_cli():
    compose = yaml.safe_load(COMPOSE.read_text())
    commands = [s["command"] for s in compose["services"].values() if s.get("command", [None])[0] == "fieldvisit"]
    assert len(commands) >= 3
    for command in commands:
        _resolve(command[1:])
