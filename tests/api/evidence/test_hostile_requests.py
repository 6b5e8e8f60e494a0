"""Hostile requests to the evidence doors: whatever arrives, the answer is a coded 4xx, never a 500."""

from __future__ import annotations

import os
import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.evidence.helpers import TUS, Field, declare, make_field, sha256, tus_create

pytestmark = pytest.mark.embedded

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
# Header values as the wire carries them: any latin-1 bytes but control characters.
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=60).map(
    lambda text: text.encode("latin-1")
)
FUZZ = settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _coded(answer: httpx.Response) -> None:
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400 and answer.request.method != "HEAD":
        assert answer.json()["code"].startswith(str(answer.status_code))


@pytest.fixture
async def field(client: httpx.AsyncClient) -> Field:
    return await make_field()


@FUZZ
@given(body=json_values)
async def test_any_json_body_to_the_evidence_doors_is_answered_with_a_code(client, field, body):
    for path in ("/v1/evidence/items", "/v1/evidence/agreements"):
        _coded(await client.post(path, json=body, headers=field.collector.headers))
    _coded(await client.post("/v1/legal/exports", json=body, headers=field.legal.headers))


@FUZZ
@given(
    length=header_text,
    metadata=header_text,
    checksum=st.none() | header_text,
    content_type=st.sampled_from(["application/offset+octet-stream", "text/plain", ""]),
    body=st.binary(max_size=64),
)
async def test_any_tus_headers_are_answered_with_a_code(client, field, length, metadata, checksum, content_type, body):
    headers = {**field.collector.headers, **TUS, "Upload-Length": length, "Upload-Metadata": metadata}
    if checksum is not None:
        headers["Upload-Checksum"] = checksum
    if content_type:
        headers["Content-Type"] = content_type
    _coded(await client.post("/v1/uploads", headers=headers, content=body))


@FUZZ
@given(offset=header_text, checksum=st.none() | header_text, body=st.binary(max_size=200))
async def test_any_patch_is_answered_with_a_code(client, field, offset, checksum, body):
    data = os.urandom(100)
    item = await declare(client, field, data, "document")
    created = await tus_create(client, field, str(item["id"]), sha256(data), len(data), "document")
    headers = {
        **field.collector.headers,
        **TUS,
        "Upload-Offset": offset,
        "Content-Type": "application/offset+octet-stream",
    }
    if checksum is not None:
        headers["Upload-Checksum"] = checksum
    _coded(await client.patch(created.headers["location"], headers=headers, content=body))
    _coded(await client.head(created.headers["location"], headers={**field.collector.headers, **TUS}))


@FUZZ
@given(range_header=header_text)
async def test_any_range_header_is_answered_with_a_code(client, field, range_header):
    export = await client.get(f"/v1/legal/exports/{uuid.uuid4()}/download", headers=field.legal.headers)
    _coded(export)
    data = os.urandom(64)
    item = await declare(client, field, data, "document")
    answer = await client.get(
        f"/v1/evidence/items/{item['id']}/original", headers={**field.legal.headers, "Range": range_header}
    )
    _coded(answer)
