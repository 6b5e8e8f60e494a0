"""schemathesis against the served OpenAPI schema: every operation, as each role, a bounded number of
examples (valid and invalid). No answer is a 5xx and every answer matches what the schema says of it."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import EMBEDDED
from tests.fuzz.conftest import ALIASES, ROLES
from tests.server import Served

pytestmark = pytest.mark.embedded

# Examples per operation and role (valid and invalid mixed): the PostgreSQL run is the thorough one;
# the embedded run is a shorter pass for what only SQLite does differently. FIELDVISIT_FUZZ_EXAMPLES
# overrides both (a longer hunt: FIELDVISIT_FUZZ_EXAMPLES=200 uv run pytest tests/fuzz).
EXAMPLES = int(os.environ.get("FIELDVISIT_FUZZ_EXAMPLES") or (6 if EMBEDDED else 15))

# What the server owes every request: no 5xx, and an answer its own schema describes (status, media
# type, headers, body). Whether a business rule refuses schema-valid data (409/422, a cursor this
# server never issued) is the domain tests' business, not the fuzzer's.
NOT_THE_APPS = frozenset({"authorization", "transfer-encoding", "content-length", "connection", "host", "upgrade"})

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def with_real_ids(value: Any, ids: dict[str, list[str]], data: st.DataObject, name: str = "") -> Any:
    """``value`` with, now and then, a real id where a parameter or body field takes one of its kind."""
    if isinstance(value, dict):
        return {key: with_real_ids(item, ids, data, key) for key, item in value.items()}
    known = ids.get(ALIASES.get(name, name))
    if isinstance(value, list):
        return [with_real_ids(item, ids, data, name) for item in value]
    if known and isinstance(value, str) and data.draw(st.booleans()):
        return data.draw(st.sampled_from(known))
    return value


def fuzz_operation(operation: Any, served: Served, headers: dict[str, str], ids: dict[str, list[str]]) -> int:
    """Run up to EXAMPLES cases of one operation; return how many ran (a failure raises)."""
    ran = 0
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]

    @given(case=st.one_of(strategies), data=st.data())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any, data: st.DataObject) -> None:
        nonlocal ran
        ran += 1
        if case.headers:  # negative cases garble the token (all 401s then, not the role's view) and
            # framing headers (uvicorn answers a bad Transfer-Encoding itself, before the app)
            case.headers = {k: v for k, v in case.headers.items() if k.lower() not in NOT_THE_APPS}
        for where in ("path_parameters", "query", "body"):
            value = getattr(case, where)
            if isinstance(value, dict):
                setattr(case, where, with_real_ids(value, ids, data))
        case.call_and_validate(base_url=served.url, headers=headers, checks=CHECKS, timeout=60)

    run()
    return ran


@pytest.mark.parametrize("role", ROLES)
def test_every_operation(role, fuzz_schema, role_headers, fuzz_server, fuzz_ids):
    failures: list[str] = []
    ran = operations = 0
    for result in fuzz_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            ran += fuzz_operation(operation, fuzz_server, role_headers[role], fuzz_ids)
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"--- {operation.label} as {role}:\n{exc}")
    print(f"fuzz as {role}: {operations} operations, {ran} examples")
    assert not failures, "\n".join(failures)
