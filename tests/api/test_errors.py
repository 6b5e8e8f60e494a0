"""The error catalogue is one, its codes are unique and match their status; OpenAPI documents them."""

from __future__ import annotations

import re

import pytest

from api.errors import catalogue

pytestmark = pytest.mark.embedded


def test_every_error_code_is_unique_and_matches_its_status():
    seen: dict[str, str] = {}
    for error in catalogue():
        code = error.code  # type: ignore[attr-defined]
        assert re.fullmatch(r"[1-5]\d\d\.\d+", code), (error, code)
        assert int(code.split(".")[0]) == error.status_code, error  # type: ignore[attr-defined]
        assert code not in seen, f"{error.__name__} reuses {code} of {seen.get(code)}"
        seen[code] = error.__name__
        assert (error.__doc__ or "").strip(), f"{error.__name__} needs a docstring: it is the default detail"


async def test_openapi_documents_every_route_with_its_errors(client):
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["paths"], "no paths in the schema"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "500" in responses, (method, path)
            assert operation.get("description") or operation.get("summary"), (method, path)
            secured = operation.get("security") != [{}]
            if secured:
                assert "401" in responses, (method, path)
                assert "403" in responses, (method, path)
                assert "AuthenticationRequired" in responses["401"]["description"]
