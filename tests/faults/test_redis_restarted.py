"""Issue 7: Redis stopped while jobs are pending and restarted empty (a private ``redis-server``, never
the shared one). Requests keep committing while it is down (their jobs wait in the outbox), the worker
waits for Redis instead of dying, and after the restart the sweeper hands every pending job over: each
runs, the evidence is processed, nothing the phone sent is missing or doubled."""

from __future__ import annotations

import hashlib
import io
import uuid

import pytest
from PIL import Image

from api.queue.tables import Job
from evidence.tables import EvidenceItem
from sync.client import DeviceClient, LocalStore
from sync.client.uploads import upload
from tests.faults.conftest import a_collectors_day, assert_every_job_ran, assert_exactly_once, work_offline
from tests.faults.procs import private_redis, running_server, wait_for, worker_process

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def a_photo(seed: int) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((320, 240), 40 + seed).convert("RGB").save(out, "JPEG")
    return out.getvalue()


async def push_and_upload(phone: DeviceClient, visit_id: str, seed: int) -> str:
    """Declare a photo in a push and send its bytes; returns the item id."""
    photo, item_id = a_photo(seed), str(uuid.uuid4())
    declaration = {
        "id": item_id,
        "visit_id": visit_id,
        "kind": "photo",
        "sha256": hashlib.sha256(photo).hexdigest(),
        "size": len(photo),
        "content_type": "image/jpeg",
    }
    phone.enqueue("evidence.declare", visit_id, declaration)
    await phone.push()
    await upload(phone.http, photo, evidence_id=item_id, kind="photo", content_type="image/jpeg")
    return item_id


async def test_redis_stopped_with_jobs_pending_then_restarted_every_job_runs(db, tmp_path):
    collector, visits = await a_collectors_day(8)
    with (
        private_redis() as redis,
        running_server(tmp_path, redis.url) as server,
        worker_process(tmp_path, redis.url) as worker,
    ):
        await server.restart()
        worker.start()
        phone = DeviceClient(server.url, collector.token, LocalStore(tmp_path / "phone.sqlite3"))
        assert await phone.pull() == 8
        expected = work_offline(phone, visits[:4], notes_per_visit=2)
        items = [await push_and_upload(phone, visits[0], 1)]
        await wait_for(_all_jobs_done, "the jobs of the first half (Redis up)")

        redis.stop()
        expected_down = work_offline(phone, visits[4:], notes_per_visit=2)
        items.append(await push_and_upload(phone, visits[4], 2))  # committed while Redis is down
        assert phone.store.pending_count() == 0
        assert await Job.count().where(Job.state == "pending") > 0  # their jobs wait in the outbox

        redis.start()  # empty: whatever was queued in Redis is gone
        await wait_for(_all_jobs_done, "every job to run after Redis came back", timeout=120)
        assert worker.alive()
        assert worker.starts == 1  # it waited for Redis, nobody restarted it
        queued = [{"id": i} for i in phone.store.results()]
        await phone.close()

    for kind in expected:
        expected[kind] |= expected_down[kind]
    expected["evidence"] |= set(items)
    await assert_exactly_once(phone, queued, expected)
    states = {r["state"] for r in await EvidenceItem.select(EvidenceItem.state).where(EvidenceItem.id.is_in(items))}
    assert states == {"processed"}
    await assert_every_job_ran()
    phone.store.close()


async def _all_jobs_done() -> bool:
    return await Job.count().where(Job.state != "done") == 0
