"""A served API over a seeded world, and its OpenAPI schema prepared for schemathesis.

The server is a real ``fieldvisit serve`` process on the test database (PostgreSQL + Redis, or the
embedded SQLite file), so the fuzzer meets the same stack as a phone: uvicorn, middleware, the
exception handlers. Ids in paths and queries are drawn sometimes from the world's real rows.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis

from tests.fixtures import DrainJobs, clean_database
from tests.server import Served, serve
from tests.world import World, make_world

ROLES = ("collector", "dispatcher", "supervisor", "legal", "admin")


@schemathesis.serializer("text/csv", "application/x-ndjson")
def _text(ctx: Any, value: Any) -> bytes:
    """The import's streamed bodies are raw text."""
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else str(value).encode()


@pytest.fixture(scope="module")
async def fuzz_world(session_client: httpx.AsyncClient, drain_jobs: DrainJobs) -> World:
    """The world, seeded once for the module on a clean database."""
    await clean_database()
    return await make_world(session_client, drain_jobs)


@pytest.fixture(scope="module")
def fuzz_server(fuzz_world: World) -> Iterator[Served]:
    """``fieldvisit serve`` on the same database, data folder and Redis as the tests."""
    with serve(dict(os.environ)) as served:
        yield served


def with_real_ids(raw: dict[str, Any], ids: dict[str, list[str]]) -> dict[str, Any]:
    """The schema with each id parameter (path or query) also offering the world's real ids."""
    schema = copy.deepcopy(raw)
    for operations in schema["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                known = ids.get(parameter["name"])
                if known and parameter["in"] in ("path", "query"):
                    parameter["schema"] = {"anyOf": [{"enum": known}, parameter["schema"]]}
    return schema


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_server: Served, fuzz_world: World) -> Any:
    """The served OpenAPI schema, loaded by schemathesis, aimed at the served process."""
    raw = httpx.get(f"{fuzz_server.url}/schema/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(with_real_ids(raw, fuzz_world.ids()))
    schema.config.update(base_url=fuzz_server.url)
    return schema


@pytest.fixture(scope="module")
def role_headers(fuzz_world: World) -> dict[str, dict[str, str]]:
    """The Authorization header of each role."""
    return {role: actor.headers for role, actor in fuzz_world.actors().items()}
