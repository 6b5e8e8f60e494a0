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
from tests.faults.procs import run_worker_burst, running_server, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def a_big_photo() -> bytes:
    """A real JPEG of a few MB (noise does not compress), so the upload takes many chunks."""
    image = Image.effect_noise((1800, 1400), 90).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


def acknowledged_offset(data_dir: Path) -> int:
    """What the server has acknowledged of the one upload in progress (its offset file)."""
    found = list((data_dir / "uploads").glob("*.offset"))
    return int(found[0].read_bytes().strip() or 0) if found else 0


async def test_server_killed_mid_upload_then_resumed_stores_the_blob_once(db, tmp_path):
    collector, visits = await a_collectors_day(1)
    photo = a_big_photo()
    sha256 = hashlib.sha256(photo).hexdigest()
    item_id = str(uuid.uuid4())
    with running_server(tmp_path, os.environ["FIELDVISIT_REDIS_URL"]) as server:
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
            upload(http, photo, evidence_id=item_id, kind="photo", content_type="image/jpeg", chunk_size=64 * 1024)
        )
        third = len(photo) // 3
        await wait_for(lambda: _at_least(tmp_path, third, sending), "a third acknowledged", every=0.005)
        server.kill()
        kept = acknowledged_offset(tmp_path)
        assert third <= kept < len(photo)
        assert not sending.done()
        await server.restart()
        sent = await sending
        await phone.close()
        phone.store.close()

    assert sent["resumed"]
    assert 500 not in statuses
    assert sent["sent"] < len(photo) + 2 * 64 * 1024  # resumed where the server was, not from the start
    run_worker_burst(tmp_path, os.environ["FIELDVISIT_REDIS_URL"])

    blob = tmp_path / "blobs" / sha256[:2] / sha256[2:4] / sha256
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


async def _at_least(data_dir: Path, offset: int, sending: asyncio.Task[object]) -> bool:
    if sending.done():  # finished or failed before the strike: say which
        raise AssertionError(f"the upload ended before the server was killed: {sending.result()}")
    return acknowledged_offset(data_dir) >= offset
