"""A real tus client (tuspy) against a real `fieldvisit serve` process: uploads interrupted at
random offsets, and once in the middle of a request, resume and end with the declared sha256."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import socket
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from tusclient import client as tus_client
from tusclient.uploader import Uploader

from tests.evidence.helpers import Field, make_field, sha256
from tests.server import serve


@pytest.fixture(scope="module")
def server(database: None) -> Iterator[str]:
    with serve(dict(os.environ)) as served:
        yield served.url


def _declare(url: str, field: Field, data: bytes, kind: str = "recording") -> str:
    item_id = str(uuid.uuid4())
    body = {"id": item_id, "visit_id": str(field.visit_id), "kind": kind, "sha256": sha256(data), "consent": True}
    answer = httpx.post(f"{url}/v1/evidence/items", json=body, headers=field.collector.headers)
    assert answer.status_code == 201, answer.text
    return item_id


def _uploader(url: str, field: Field, path: str, item_id: str, data: bytes, upload_url: str | None = None) -> Uploader:
    client = tus_client.TusClient(f"{url}/v1/uploads", headers=field.collector.headers)
    metadata = {"evidence_id": item_id, "sha256": sha256(data), "kind": "recording", "content_type": "audio/wav"}
    return client.uploader(path, url=upload_url, chunk_size=256 * 1024, metadata=metadata, upload_checksum=True)


def _cut_mid_request(upload_url: str, token: str, offset: int, data: bytes, sent: int) -> None:
    """Start a PATCH announcing the rest of the file, send only ``sent`` bytes, and hang up."""
    parts = urlsplit(upload_url)
    body = data[offset:]
    head = (
        f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
        f"Tus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\n"
        f"Content-Type: application/offset+octet-stream\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(head.encode() + body[:sent])


def _offset(upload_url: str, field: Field) -> int:
    answer = httpx.head(upload_url, headers={**field.collector.headers, "Tus-Resumable": "1.0.0"})
    return int(answer.headers["upload-offset"])


def _interrupted_upload(url: str, field: Field, path: str, item_id: str, data: bytes, seed: int) -> str:
    rng = random.Random(seed)
    stops = sorted(rng.sample(range(1, len(data)), 3))
    uploader = _uploader(url, field, path, item_id, data)
    uploader.upload(stop_at=stops[0])  # the app is killed here...
    upload_url = str(uploader.url)
    assert _offset(upload_url, field) == stops[0]
    for stop in stops[1:]:  # ...and restarts: a new uploader asks the server where to resume
        resumed = _uploader(url, field, path, item_id, data, upload_url)
        assert resumed.offset == _offset(upload_url, field)
        resumed.upload(stop_at=stop)
    held = _offset(upload_url, field)
    _cut_mid_request(upload_url, field.collector.token, held, data, sent=rng.randrange(1, len(data) - held))
    for _ in range(400):  # the server keeps what arrived once it notices the hang-up (bounded: 20 s)
        if _offset(upload_url, field) > held:
            break
        time.sleep(0.05)
    assert _offset(upload_url, field) > held
    final = _uploader(url, field, path, item_id, data, upload_url)
    final.upload()
    return upload_url


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_interrupted_uploads_resume_to_the_declared_sha256(server: str, db: None, tmp_path, seed: int):
    field = await make_field()
    data = random.Random(seed).randbytes(3 * 1024 * 1024 + 12345)
    path = tmp_path / "recording.wav"
    path.write_bytes(data)
    item_id = await asyncio.to_thread(_declare, server, field, data)
    upload_url = await asyncio.to_thread(_interrupted_upload, server, field, str(path), item_id, data, seed)
    assert _offset(upload_url, field) == len(data)
    original = await asyncio.to_thread(
        httpx.get, f"{server}/v1/evidence/items/{item_id}/original", headers=field.legal.headers
    )
    assert original.status_code == 200
    assert hashlib.sha256(original.content).hexdigest() == sha256(data)
    item = httpx.get(f"{server}/v1/evidence/items/{item_id}", headers=field.legal.headers).json()
    assert item["state"] == "verified"
    assert item["size"] == len(data)


async def test_a_reinstalled_app_resends_nothing_the_server_holds(server: str, db: None, tmp_path):
    field = await make_field()
    data = os.urandom(700_000)
    path = tmp_path / "r.wav"
    path.write_bytes(data)
    item_id = await asyncio.to_thread(_declare, server, field, data)
    await asyncio.to_thread(_uploader(server, field, str(path), item_id, data).upload)
    # Reinstalled: no stored upload URL. The phone creates a new upload and asks where it stands.
    again = _uploader(server, field, str(path), item_id, data)
    upload_url = await asyncio.to_thread(again.create_url)
    resumed = await asyncio.to_thread(_uploader, server, field, str(path), item_id, data, upload_url)
    assert resumed.offset == len(data)
    sent = []
    resumed.upload_chunk = lambda: sent.append(1)  # type: ignore[method-assign]
    await asyncio.to_thread(resumed.upload)
    assert sent == []
