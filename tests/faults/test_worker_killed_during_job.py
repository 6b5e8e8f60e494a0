"""Issue 7: ``fieldvisit worker`` SIGKILLed while it builds a legal export; the job's heartbeat stops,
the sweeper of a new worker takes the job over, and the export ends up built once: one ready bundle
that verifies offline, one "exported" custody link per item, every chain intact."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import httpx
import pytest

from api.cases.tables import Visit
from api.db import write_transaction
from api.people.roles import Role
from api.queue.tables import Job
from evidence import repository as evidence_repo
from evidence.tables import CustodyEvent, Export
from sync.client import DeviceClient, LocalStore
from tests.builders import make_staff
from tests.faults.conftest import a_collectors_day, assert_custody_verifies, assert_every_job_ran
from tests.faults.procs import running_server, wait_for, worker_process
from tests.server import cli

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

FAST_TAKEOVER = {"FIELDVISIT_JOB_HEARTBEAT": "0.5"}  # a silent job is taken over after 3 s
BLOBS, BLOB_BYTES = 4, 24 * 1024 * 1024


async def stored_documents(data_dir: Path) -> list[tuple[str, int]]:
    """Big documents already in the blob store, so declaring them verifies them at once."""
    made = []
    for _ in range(BLOBS):
        data = os.urandom(BLOB_BYTES)
        sha256 = hashlib.sha256(data).hexdigest()
        path = data_dir / "blobs" / sha256[:2] / sha256[2:4] / sha256
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        async with write_transaction():
            await evidence_repo.record_blob(sha256, len(data))
        made.append((sha256, len(data)))
    return made


async def test_worker_killed_mid_export_the_job_is_taken_over_and_done_once(db, tmp_path):
    collector, visits = await a_collectors_day(1)
    legal = await make_staff(Role.LEGAL)
    documents = await stored_documents(tmp_path)
    redis_url = os.environ["FIELDVISIT_REDIS_URL"]
    with (
        running_server(tmp_path, redis_url, **FAST_TAKEOVER) as server,
        worker_process(tmp_path, redis_url, **FAST_TAKEOVER) as worker,
    ):
        await server.restart()
        worker.start()
        async with DeviceClient(server.url, collector.token, LocalStore(tmp_path / "phone.sqlite3")) as phone:
            for sha256, size in documents:
                declaration = {
                    "id": str(uuid.uuid4()),
                    "visit_id": visits[0],
                    "kind": "document",
                    "sha256": sha256,
                    "size": size,
                    "content_type": "application/pdf",
                }
                phone.enqueue("evidence.declare", visits[0], declaration)
            assert {r["status"] for r in await phone.push()} == {"applied"}
            phone.store.close()
        case = await Visit.select(Visit.case).where(Visit.id == visits[0]).first()
        async with httpx.AsyncClient(base_url=server.url, headers=legal.headers, timeout=60) as http:
            asked = await http.post("/v1/legal/exports", json={"case_id": str(case["case"])})
            assert asked.status_code == 202, asked.text
            export_id = asked.json()["id"]

        running = await wait_for(_export_job_running, "the export job to be running", every=0.005)
        worker.kill()
        assert (await Export.select(Export.state).where(Export.id == export_id).first())["state"] == "pending"
        first = await Job.select(Job.state, Job.attempts).where(Job.id == running).first()
        assert first == {"state": "running", "attempts": 1}  # the dead worker's job, left running

        worker.start()
        await wait_for(lambda: _export_ready(export_id), "the export to be built by the new worker", timeout=150)
        await wait_for(_all_jobs_done, "every job to be done", timeout=60)
        worker.stop()
        assert "taking over" in worker.output()  # by the sweeper, not by luck

    job = await Job.select(Job.state, Job.attempts).where(Job.id == running).first()
    assert job == {"state": "done", "attempts": 2}
    assert await Export.count() == 1
    exported = await CustodyEvent.select(CustodyEvent.item_id).where(CustodyEvent.action == "exported")
    assert sorted(str(r["item_id"]) for r in exported) == sorted({str(r["item_id"]) for r in exported})
    assert len(exported) == BLOBS
    bundle = tmp_path / "exports" / f"{export_id}.zip"
    verified = cli("evidence", "verify", str(bundle), env=worker.env)
    assert "FAIL" not in verified.stdout.upper(), verified.stdout
    await assert_custody_verifies()
    await assert_every_job_ran()


async def _export_job_running() -> int | None:
    row = await Job.select(Job.id).where((Job.name == "evidence.build_export") & (Job.state == "running")).first()
    return int(row["id"]) if row else None


async def _export_ready(export_id: str) -> bool:
    row = await Export.select(Export.state).where(Export.id == export_id).first()
    assert row is not None
    assert row["state"] != "failed"
    return bool(row["state"] == "ready")


async def _all_jobs_done() -> bool:
    return await Job.count().where(Job.state != "done") == 0
