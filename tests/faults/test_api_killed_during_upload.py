"""Issue 7: the API process SIGKILLed in the middle of a tus upload, restarted; the reference client
resumes at the offset the server kept, and the evidence is stored once, verified, processed, with a
custody chain that holds."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import uuid
from pathlib import Path

import httpx
import pytest
from PIL import Image

from evidence.tables import Blob, CustodyEvent, EvidenceItem, Upload
from sync.client import DeviceClient, LocalStore
from sync.client.uploads import upload
from tests.faults.conftest import a_collectors_day, assert_custody_verifies, assert_every_job_ran
from tests.faults.procs import running_server, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CHUNK = 32 * 1024  # many requests, so that the kill lands in the middle


def a_big_photo() -> bytes:
    """A real JPEG of a few MB (noise does not compress), so the upload takes many chunks."""
    image = Image.effect_noise((1800, 1400), 90).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


async def offset_file(data_dir: Path, item_id: str) -> Path | None:
    """Where the server keeps what it acknowledged of the item's upload, once the upload exists."""
    row = await Upload.select(Upload.id).where(Upload.item_id == item_id).first()
    return data_dir / "uploads" / f"{row['id']}.offset" if row else None


def acknowledged(offset: Path) -> int:
    return int(offset.read_bytes().strip() or 0) if offset.exists() else 0


async def test_server_killed_mid_upload_then_resumed_stores_the_blob_once(db, tmp_path, drain_jobs):
    # The served API shares this process's data dir, so the jobs can be drained here.
    data_dir = Path(os.environ["FIELDVISIT_DATA_DIR"])
    collector, visits = await a_collectors_day(1)
    photo = a_big_photo()
    sha256 = hashlib.sha256(photo).hexdigest()
    item_id = str(uuid.uuid4())
    with running_server(data_dir, os.environ["FIELDVISIT_REDIS_URL"]) as server:
        await server.restart()
        statuses: list[int] = []

        async def seen(response: httpx.Response) -> None:
            statuses.append(response.status_code)

        http = httpx.AsyncClient(base_url=server.url, timeout=60, event_hooks={"response": [seen]})
        phone = DeviceClient(server.url, collector.token, LocalStore(tmp_path / "phone.sqlite3"), http=http)
        declaration = {
            "id": item_id,
            "visit_id": visits[0],
            "kind": "photo",
            "sha256": sha256,
            "size": len(photo),
            "content_type": "image/jpeg",
        }
        phone.enqueue("evidence.declare", visits[0], declaration)
        assert [r["status"] for r in await phone.push()] == ["applied"]

        sending = asyncio.create_task(
            upload(http, photo, evidence_id=item_id, kind="photo", content_type="image/jpeg", chunk_size=CHUNK)
        )
        quarter = len(photo) // 4
        offset = await wait_for(lambda: offset_file(data_dir, item_id), "the upload to be created", every=0.005)
        assert isinstance(offset, Path)
        await wait_for(lambda: _at_least(offset, quarter, sending), "a quarter acknowledged", every=0.002)
        server.kill()
        kept = acknowledged(offset)
        assert quarter <= kept < len(photo)
        assert not sending.done()
        await server.restart()
        sent = await sending
        await phone.close()
        phone.store.close()

    assert sent["resumed"]
    assert 500 not in statuses
    assert sent["sent"] < len(photo) + 2 * CHUNK  # resumed where the server was, not from the start
    await drain_jobs()

    blob = data_dir / "blobs" / sha256[:2] / sha256[2:4] / sha256
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha256
    assert await Blob.count().where(Blob.sha256 == sha256) == 1
    assert await Upload.count().where(Upload.state == "complete") == 1
    item = await EvidenceItem.select(EvidenceItem.state).where(EvidenceItem.id == item_id).first()
    assert item is not None
    assert item["state"] == "processed"
    actions = [
        r["action"]
        for r in await CustodyEvent.select(CustodyEvent.action)
        .where(CustodyEvent.item_id == item_id)
        .order_by(CustodyEvent.seq)
    ]
    assert actions == ["declared", "received", "verified", "processed"], actions
    await assert_custody_verifies()
    await assert_every_job_ran()


async def _at_least(offset: Path, size: int, sending: asyncio.Task[object]) -> bool:
    if sending.done():  # finished or failed before the strike: say which
        raise AssertionError(f"the upload ended before the server was killed: {sending.result()}")
    return acknowledged(offset) >= size
