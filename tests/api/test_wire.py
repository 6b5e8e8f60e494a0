"""JSON and MessagePack from the same Structs; garbage of each kind gets a coded 400."""

from __future__ import annotations

import msgspec
import pytest

from api.people.roles import Role
from tests.builders import make_staff

pytestmark = pytest.mark.embedded

MSGPACK = "application/msgpack"


async def test_msgpack_and_json_requests_give_the_same_result(client):
    admin = await make_staff(Role.ADMIN)
    as_json = await client.post("/v1/teams", json={"name": "east"}, headers=admin.headers)
    as_msgpack = await client.post(
        "/v1/teams",
        content=msgspec.msgpack.encode({"name": "west"}),
        headers={**admin.headers, "Content-Type": MSGPACK, "Accept": MSGPACK},
    )
    assert as_json.status_code == as_msgpack.status_code == 201
    assert as_msgpack.headers["content-type"].startswith(MSGPACK)
    decoded = msgspec.msgpack.decode(as_msgpack.content)
    assert set(decoded) == set(as_json.json()) == {"id", "name", "created_at"}
    assert decoded["name"] == "west"

    listed_json = (await client.get("/v1/teams", headers=admin.headers)).json()
    listed_msgpack = await client.get("/v1/teams", headers={**admin.headers, "Accept": MSGPACK})
    # Same Structs, two encodings: equal once both are read back as JSON-compatible values.
    assert msgspec.json.decode(msgspec.json.encode(msgspec.msgpack.decode(listed_msgpack.content))) == listed_json


async def test_errors_follow_the_accept_header_too(client):
    answer = await client.get("/v1/users/me", headers={"Accept": MSGPACK})
    assert answer.status_code == 401
    assert msgspec.msgpack.decode(answer.content)["code"] == "401.1"


@pytest.mark.parametrize(
    ("content_type", "body", "error", "code"),
    [
        ("application/json", b"{not json", "MalformedBody", "400.2"),
        ("application/json", b"\xff\xfe\x00", "MalformedBody", "400.2"),
        (MSGPACK, b"\xc1\xc1\xc1", "MalformedBody", "400.2"),
        (MSGPACK, b"\x92\x01", "MalformedBody", "400.2"),  # truncated array
        (MSGPACK, msgspec.msgpack.encode([1, 2]), "InvalidRequestBody", "400.1"),
        ("application/json", b'{"name": 42}', "InvalidRequestBody", "400.1"),
        ("application/json", b'{"name": "x", "colour": "red"}', "InvalidRequestBody", "400.1"),
        ("application/json", b'{"name": ""}', "InvalidRequestBody", "400.1"),
        ("text/plain", b"name=x", "UnsupportedMediaType", "415.0"),
    ],
)
async def test_garbage_bodies_get_coded_4xx(client, content_type, body, error, code):
    admin = await make_staff(Role.ADMIN)
    answer = await client.post("/v1/teams", content=body, headers={**admin.headers, "Content-Type": content_type})
    assert answer.json()["error"] == error, answer.text
    assert answer.json()["code"] == code
    assert answer.status_code == int(code.split(".")[0])


async def test_validation_error_names_the_field(client):
    admin = await make_staff(Role.ADMIN)
    answer = await client.post("/v1/users", json={"username": "ok", "role": "pilot"}, headers=admin.headers)
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "400.1"
    assert any(f.get("key") == "role" for f in body["fields"]), body


async def test_oversized_body_is_refused_with_413(client):
    admin = await make_staff(Role.ADMIN)
    huge = b'{"name": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    answer = await client.post("/v1/teams", content=huge, headers={**admin.headers, "Content-Type": "application/json"})
    assert (answer.status_code, answer.json()["code"]) == (413, "413.0")


async def test_unknown_route_and_method_are_coded(client):
    assert (await client.get("/v1/nowhere")).json()["code"] == "404.0"
    assert (await client.delete("/health")).json()["code"] == "405.0"


async def test_responses_are_gzipped_when_asked(client):
    admin = await make_staff(Role.ADMIN)
    for i in range(40):
        await client.post("/v1/teams", json={"name": f"team number {i:03d}"}, headers=admin.headers)
    answer = await client.get("/v1/teams", headers={**admin.headers, "Accept-Encoding": "gzip"})
    assert answer.headers.get("content-encoding") == "gzip"
    assert len(answer.json()) == 40
