"""tus uploads on the real app stack (PostgreSQL + Redis, or SQLite): creation, chunks, checksums,
whole-file verification, an already-stored blob, termination, and what becomes of the item."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid

import httpx
import pytest

from tests.evidence.helpers import (
    TUS,
    declare,
    jpeg_bytes,
    make_field,
    metadata,
    sha256,
    tus_create,
    tus_patch,
)

pytestmark = pytest.mark.embedded


async def test_options_advertises_version_extensions_size_and_checksums(client: httpx.AsyncClient):
    answer = await client.options("/v1/uploads")
    assert answer.status_code == 204
    assert answer.headers["tus-version"] == "1.0.0"
    assert set(answer.headers["tus-extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "termination",
        "expiration",
        "checksum",
    }
    assert answer.headers["tus-checksum-algorithm"] == "sha1,sha256"
    assert int(answer.headers["tus-max-size"]) >= 1024**3


async def test_chunks_resume_from_head_and_the_item_is_verified(client: httpx.AsyncClient, drain_jobs):
    field = await make_field()
    data = os.urandom(300_000)
    item = await declare(client, field, data, "document", content_type="application/pdf")
    created = await tus_create(client, field, str(item["id"]), sha256(data), len(data), "document")
    assert created.status_code == 201, created.text
    assert created.headers["tus-resumable"] == "1.0.0"
    assert "upload-expires" in created.headers
    location = created.headers["location"]
    first = await tus_patch(client, field, location, 0, data[:100_000])
    assert first.status_code == 204
    assert first.headers["upload-offset"] == "100000"
    stale = await tus_patch(client, field, location, 0, data[:10])
    assert stale.status_code == 409
    assert stale.json()["code"] == "409.70"
    head = await client.head(location, headers={**field.collector.headers, **TUS})
    assert head.headers["upload-offset"] == "100000"
    assert head.headers["upload-length"] == str(len(data))
    assert head.headers["cache-control"] == "no-store"
    last = await tus_patch(client, field, location, 100_000, data[100_000:])
    assert last.status_code == 204
    assert last.headers["upload-offset"] == str(len(data))
    got = await client.get(f"/v1/evidence/items/{item['id']}", headers=field.legal.headers)
    assert got.json()["state"] == "verified"
    await drain_jobs()
    got = await client.get(f"/v1/evidence/items/{item['id']}", headers=field.legal.headers)
    assert got.json()["state"] == "processed"
    original = await client.get(f"/v1/evidence/items/{item['id']}/original", headers=field.legal.headers)
    assert original.content == data


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
async def test_corrupted_chunk_gets_460_and_is_discarded(client: httpx.AsyncClient, algorithm: str):
    field = await make_field()
    data = os.urandom(50_000)
    item = await declare(client, field, data, "document")
    location = (await tus_create(client, field, str(item["id"]), sha256(data), len(data), "document")).headers[
        "location"
    ]
    good = base64.b64encode(hashlib.new(algorithm, data[:20_000]).digest()).decode()
    corrupted = bytearray(data[:20_000])
    corrupted[1234] ^= 0xFF
    answer = await tus_patch(client, field, location, 0, bytes(corrupted), f"{algorithm} {good}")
    assert answer.status_code == 460
    assert answer.json()["code"] == "460.70"
    head = await client.head(location, headers={**field.collector.headers, **TUS})
    assert head.headers["upload-offset"] == "0"
    answer = await tus_patch(client, field, location, 0, data[:20_000], f"{algorithm} {good}")
    assert answer.status_code == 204
    assert answer.headers["upload-offset"] == "20000"


async def test_unsupported_checksum_algorithm_is_a_coded_400(client: httpx.AsyncClient):
    field = await make_field()
    data = os.urandom(1000)
    item = await declare(client, field, data, "document")
    location = (await tus_create(client, field, str(item["id"]), sha256(data), len(data), "document")).headers[
        "location"
    ]
    answer = await tus_patch(client, field, location, 0, data, "md5 " + base64.b64encode(b"x" * 16).decode())
    assert answer.status_code == 400
    assert answer.json()["code"] == "400.74"


async def test_wrong_whole_file_hash_is_refused_and_nothing_becomes_evidence(client: httpx.AsyncClient):
    field = await make_field()
    declared = os.urandom(40_000)
    sent = bytearray(declared)
    sent[-1] ^= 0x01
    item = await declare(client, field, declared, "document")
    location = (await tus_create(client, field, str(item["id"]), sha256(declared), len(declared), "document")).headers[
        "location"
    ]
    answer = await tus_patch(client, field, location, 0, bytes(sent))
    assert answer.status_code == 422
    assert answer.json()["code"] == "422.70"
    got = await client.get(f"/v1/evidence/items/{item['id']}", headers=field.legal.headers)
    assert got.json()["state"] == "declared"
    head = await client.head(location, headers={**field.collector.headers, **TUS})
    assert head.status_code == 410


async def test_already_stored_blob_completes_at_creation_without_bytes(client: httpx.AsyncClient):
    field = await make_field()
    data = jpeg_bytes()
    first = await declare(client, field, data)
    created = await tus_create(client, field, str(first["id"]), sha256(data), len(data))
    await tus_patch(client, field, created.headers["location"], 0, data)
    # The phone was reinstalled: a new declaration of the same photo, a new upload.
    second = await declare(client, field, data)
    assert second["state"] == "verified"  # the declaration alone found the bytes
    again = await tus_create(client, field, str(second["id"]), sha256(data), len(data))
    assert again.status_code == 201
    assert again.headers["upload-offset"] == str(len(data))
    head = await client.head(again.headers["location"], headers={**field.collector.headers, **TUS})
    assert head.headers["upload-offset"] == str(len(data))


async def test_creation_with_upload_sends_the_first_chunk_in_the_post(client: httpx.AsyncClient):
    field = await make_field()
    data = os.urandom(10_000)
    item = await declare(client, field, data, "document")
    headers = {
        **field.collector.headers,
        **TUS,
        "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata(uuid.UUID(str(item["id"])), sha256(data), "document"),
        "Content-Type": "application/offset+octet-stream",
    }
    answer = await client.post("/v1/uploads", headers=headers, content=data)
    assert answer.status_code == 201
    assert answer.headers["upload-offset"] == str(len(data))
    got = await client.get(f"/v1/evidence/items/{item['id']}", headers=field.legal.headers)
    assert got.json()["state"] == "verified"


async def test_termination_drops_an_incomplete_upload_but_never_a_complete_one(client: httpx.AsyncClient):
    field = await make_field()
    data = os.urandom(5000)
    item = await declare(client, field, data, "document")
    location = (await tus_create(client, field, str(item["id"]), sha256(data), len(data), "document")).headers[
        "location"
    ]
    await tus_patch(client, field, location, 0, data[:100])
    gone = await client.delete(location, headers={**field.collector.headers, **TUS})
    assert gone.status_code == 204
    assert (await client.head(location, headers={**field.collector.headers, **TUS})).status_code == 410
    location = (await tus_create(client, field, str(item["id"]), sha256(data), len(data), "document")).headers[
        "location"
    ]
    await tus_patch(client, field, location, 0, data)
    refused = await client.delete(location, headers={**field.collector.headers, **TUS})
    assert refused.status_code == 409
    assert refused.json()["code"] == "409.74"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"Tus-Resumable": "0.2.2"}, "412.70"),
        ({"Upload-Length": "-1"}, "400.72"),
        ({"Upload-Length": "0"}, "400.73"),
        ({"Upload-Metadata": "evidence_id !!!"}, "400.71"),
        ({"Upload-Length": str(10**12)}, "413.70"),
    ],
)
async def test_malformed_creation_headers_get_coded_errors(client: httpx.AsyncClient, headers, code):
    field = await make_field()
    data = os.urandom(100)
    item = await declare(client, field, data, "document")
    base = {
        **field.collector.headers,
        **TUS,
        "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata(uuid.UUID(str(item["id"])), sha256(data), "document"),
    }
    answer = await client.post("/v1/uploads", headers={**base, **headers})
    assert answer.json()["code"] == code, answer.text
    if code == "400.73":
        return
    assert answer.headers["tus-resumable"] == "1.0.0"


async def test_upload_must_match_its_declaration(client: httpx.AsyncClient):
    field = await make_field()
    data = os.urandom(100)
    item = await declare(client, field, data, "document")
    answer = await tus_create(client, field, str(item["id"]), sha256(b"other"), len(data), "document")
    assert answer.json()["code"] == "409.72"
    answer = await tus_create(client, field, str(uuid.uuid4()), sha256(data), len(data), "document")
    assert answer.json()["code"] == "409.71"


async def test_another_collector_cannot_upload_to_a_visit_not_theirs(client: httpx.AsyncClient):
    field, other = await make_field(), await make_field()
    data = os.urandom(100)
    item = await declare(client, field, data, "document")
    headers = {
        **other.collector.headers,
        **TUS,
        "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata(uuid.UUID(str(item["id"])), sha256(data), "document"),
    }
    answer = await client.post("/v1/uploads", headers=headers)
    assert answer.status_code == 403


async def test_a_second_writer_on_the_same_upload_gets_423(client: httpx.AsyncClient):
    from api.evidence.config import evidence_config
    from evidence.upload_files import UploadFiles

    field = await make_field()
    data = os.urandom(1000)
    item = await declare(client, field, data, "document")
    location = (await tus_create(client, field, str(item["id"]), sha256(data), len(data), "document")).headers[
        "location"
    ]
    files = UploadFiles(evidence_config().upload_dir, uuid.UUID(location.rsplit("/", 1)[1]))
    with files.locked():  # another request is writing right now
        busy = await tus_patch(client, field, location, 0, data)
    assert busy.status_code == 423
    assert busy.json()["code"] == "423.70"
    assert (await tus_patch(client, field, location, 0, data)).status_code == 204


async def test_after_a_power_cut_the_offset_never_runs_ahead_of_the_bytes_on_disk(client: httpx.AsyncClient):
    from api.evidence.config import evidence_config
    from evidence.upload_files import UploadFiles

    field = await make_field()
    data = os.urandom(300_000)
    item = await declare(client, field, data, "document")
    location = (await tus_create(client, field, str(item["id"]), sha256(data), len(data), "document")).headers[
        "location"
    ]
    assert (await tus_patch(client, field, location, 0, data[:200_000])).status_code == 204
    files = UploadFiles(evidence_config().upload_dir, uuid.UUID(location.rsplit("/", 1)[1]))
    os.truncate(files.part, 150_000)  # the offset record reached the disk, the last 50,000 bytes did not
    head = await client.head(location, headers={**field.collector.headers, **TUS})
    assert head.headers["upload-offset"] == "150000"
    rest = await tus_patch(client, field, location, 150_000, data[150_000:])
    assert rest.status_code == 204, rest.text
    assert rest.headers["upload-offset"] == str(len(data))
    original = await client.get(f"/v1/evidence/items/{item['id']}/original", headers=field.legal.headers)
    assert original.content == data


async def _half_sent(client: httpx.AsyncClient, data: bytes):
    """A declared upload with its first 100,000 bytes acknowledged; (field, item, location, files)."""
    from api.evidence.config import evidence_config
    from evidence.upload_files import UploadFiles

    field = await make_field()
    item = await declare(client, field, data, "document")
    location = (await tus_create(client, field, str(item["id"]), sha256(data), len(data), "document")).headers[
        "location"
    ]
    assert (await tus_patch(client, field, location, 0, data[:100_000])).status_code == 204
    return field, item, location, UploadFiles(evidence_config().upload_dir, uuid.UUID(location.rsplit("/", 1)[1]))


async def test_a_resume_without_the_running_hash_is_verified_by_reading_the_file(client: httpx.AsyncClient):
    from evidence.hash_feed import RUNNING

    data = os.urandom(300_000)
    field, item, location, _ = await _half_sent(client, data)
    RUNNING.forget()  # what a restart, or the next chunk going to another API process, leaves
    rest = await tus_patch(client, field, location, 100_000, data[100_000:])
    assert rest.status_code == 204, rest.text
    assert rest.headers["upload-offset"] == str(len(data))
    original = await client.get(f"/v1/evidence/items/{item['id']}/original", headers=field.legal.headers)
    assert original.content == data


async def test_without_the_running_hash_the_completion_hashes_the_bytes_on_disk(client: httpx.AsyncClient):
    from evidence.hash_feed import RUNNING

    data = os.urandom(300_000)
    field, item, location, files = await _half_sent(client, data)
    RUNNING.forget()
    with files.part.open("r+b") as part:  # the bytes on disk differ from those hashed on the way in
        part.seek(10)
        part.write(bytes([data[10] ^ 0x01]))
    rest = await tus_patch(client, field, location, 100_000, data[100_000:])
    assert rest.status_code == 422
    assert rest.json()["code"] == "422.70"
    got = await client.get(f"/v1/evidence/items/{item['id']}", headers=field.legal.headers)
    assert got.json()["state"] == "declared"


async def test_chunks_written_by_this_process_are_hashed_on_the_way_in(client: httpx.AsyncClient):
    from evidence.hash_feed import RUNNING

    data = os.urandom(300_000)
    field, item, location, _ = await _half_sent(client, data)
    upload_id = uuid.UUID(location.rsplit("/", 1)[1])
    kept = RUNNING.take(upload_id, 100_000)
    assert kept is not None  # the chunk's bytes went into the whole-file hash on the way in
    RUNNING.keep(upload_id, kept)
    rest = await tus_patch(client, field, location, 100_000, data[100_000:])
    assert rest.status_code == 204, rest.text
    original = await client.get(f"/v1/evidence/items/{item['id']}/original", headers=field.legal.headers)
    assert original.content == data
