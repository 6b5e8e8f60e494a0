"""A served API over a seeded world, and its OpenAPI schema prepared for schemathesis.

The server is a real ``fieldvisit serve`` process on the test database (PostgreSQL + Redis, or the
embedded SQLite file), so the fuzzer meets the same stack as a phone: uvicorn, middleware, the
exception handlers. Ids in paths, queries and bodies are now and then the world's real ones.
"""

from __future__ import annotations

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


# Body fields that take the id of the same kind of record as a parameter of another name.
ALIASES = {"target": "visit_id", "assign_to": "collector_id", "partner_id": "collector_id"}
ALIASES |= {"signature_evidence_id": "item_id", "evidence_id": "item_id", "visit_ids": "visit_id"}
ALIASES |= {"collector_ids": "collector_id", "add_visit_ids": "visit_id"}


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_server: Served, fuzz_world: World) -> Any:
    """The served OpenAPI schema, loaded by schemathesis."""
    raw = httpx.get(f"{fuzz_server.url}/schema/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(raw)
    schema.config.update(base_url=fuzz_server.url)
    return schema


@pytest.fixture(scope="module")
def role_headers(fuzz_world: World) -> dict[str, dict[str, str]]:
    """The Authorization header of each role."""
    return {role: actor.headers for role, actor in fuzz_world.actors().items()}


@pytest.fixture(scope="module")
def fuzz_ids(fuzz_world: World) -> dict[str, list[str]]:
    """Real ids by parameter name, without the acting users' own accounts and phones: a fuzzed
    ``PATCH active=false`` or device revocation would lock the fuzzer out of the rest of its run."""
    acting = {str(actor.user_id) for actor in fuzz_world.actors().values()}
    acting |= {str(actor.device_id) for actor in fuzz_world.actors().values() if actor.device_id}
    ids = fuzz_world.ids()
    ids["user_id"] = [*ids["user_id"], str(fuzz_world.spare_collector.user_id)]
    ids["device_id"] = [*ids["device_id"], str(fuzz_world.spare_collector.device_id)]
    for name in ("user_id", "device_id"):
        ids[name] = [i for i in ids[name] if i not in acting]
    return ids
