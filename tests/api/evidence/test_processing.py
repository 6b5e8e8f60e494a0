"""Processing jobs on the real queue: hostile files become flags, never a 500 or a failed job, and
the worker goes on to the next item; good photos get capture data and a thumbnail."""

from __future__ import annotations

import io
import os

import httpx
import pytest
from PIL import Image

from api.queue.tables import Job
from tests.evidence import hostile
from tests.evidence.helpers import declare, make_field, sha256, tus_create, tus_patch, upload_whole

pytestmark = pytest.mark.embedded


async def _item(client: httpx.AsyncClient, field, item_id: str) -> dict:
    answer = await client.get(f"/v1/evidence/items/{item_id}", headers=field.legal.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _codes(item: dict) -> set[str]:
    return {f["code"] for f in item["flags"]}


async def test_hostile_files_are_flagged_and_the_worker_keeps_going(client: httpx.AsyncClient, drain_jobs):
    field = await make_field()
    hostile_photos = {
        "bomb": (hostile.decompression_bomb(), "image_too_large"),
        "huge-png": (hostile.png_claiming(100_000, 100_000), "image_too_large"),
        "truncated": (hostile.truncated_jpeg(), "image_truncated"),
        "garbage": (os.urandom(5000), "not_an_image"),
    }
    ids = {name: await upload_whole(client, field, data) for name, (data, _) in hostile_photos.items()}
    good = await upload_whole(client, field, hostile.jpeg_with_capture_exif(orientation=6))
    odd_exif = await upload_whole(client, field, hostile.jpeg_with_garbage_exif())
    silent = await upload_whole(client, field, os.urandom(3000), "recording", content_type="audio/wav")
    await drain_jobs()

    for name, (_, code) in hostile_photos.items():
        item = await _item(client, field, ids[name])
        assert item["state"] == "processed"
        assert code in _codes(item), (name, item["flags"])
        assert item["derived"] == []
    photo = await _item(client, field, good)
    assert photo["flags"] == []
    assert photo["capture"]["exif"]["camera"]["model"] == "Redmi Note 12"
    assert photo["capture"]["exif"]["taken_at"] == "2026-11-20T14:31:07+08:00"
    [thumb] = photo["derived"]
    assert thumb["parents"] == [photo["sha256"]]
    assert "Pillow" in thumb["recipe"]["tool"]
    assert (await _item(client, field, odd_exif))["derived"]  # garbage EXIF still gets a thumbnail
    heard = _codes(await _item(client, field, silent))
    assert "recording_without_consent" in heard
    assert heard & {"recording_unrecognised", "recording_unreadable"}
    states = {row["state"] for row in await Job.select(Job.state).where(Job.name == "evidence.process_item")}
    assert states == {"done"}


async def test_dispatcher_sees_the_thumbnail_and_the_read_is_logged(client: httpx.AsyncClient, drain_jobs):
    field = await make_field()
    item_id = await upload_whole(client, field, hostile.jpeg_with_capture_exif(orientation=6))
    await drain_jobs()
    answer = await client.get(f"/v1/evidence/items/{item_id}/thumbnail", headers=field.dispatcher.headers)
    assert answer.status_code == 200
    assert Image.open(io.BytesIO(answer.content)).size == (48, 64)
    refused = await client.get(f"/v1/evidence/items/{item_id}/original", headers=field.dispatcher.headers)
    assert refused.status_code == 403
    custody = (await client.get(f"/v1/evidence/items/{item_id}/custody", headers=field.legal.headers)).json()
    actions = [link["action"] for link in custody["links"]]
    assert actions[:4] == ["declared", "received", "verified", "processed"]
    assert {"action": "viewed", "actor_id": str(field.dispatcher.user_id)}.items() <= custody["links"][4].items()
    assert custody["verification"]["valid"] is True


async def test_other_teams_dispatcher_and_collector_see_nothing(client: httpx.AsyncClient):
    field, other = await make_field(), await make_field()
    item_id = await upload_whole(client, field, hostile.noisy_jpeg(40, 40))
    for actor in (other.dispatcher, other.collector):
        answer = await client.get(f"/v1/evidence/items/{item_id}", headers=actor.headers)
        assert answer.status_code == 403
        listing = await client.get(f"/v1/visits/{field.visit_id}/evidence", headers=actor.headers)
        assert listing.status_code == 403


async def test_a_name_that_tries_a_path_is_flagged_and_never_used(client: httpx.AsyncClient, drain_jobs, tmp_path):
    field = await make_field()
    data = hostile.noisy_jpeg(30, 30)
    item = await declare(client, field, data, filename="../../../../etc/cron.d/evil")
    created = await tus_create(client, field, str(item["id"]), sha256(data), len(data), filename="../../x/../../y")
    assert created.status_code == 201
    assert (await tus_patch(client, field, created.headers["location"], 0, data)).status_code == 204
    await drain_jobs()
    got = await _item(client, field, str(item["id"]))
    assert got["filename"] == "evil"
    assert "unsafe_filename" in _codes(got)
    assert got["state"] == "processed"


async def test_visit_lists_expected_and_present_media(client: httpx.AsyncClient):
    field = await make_field()
    await upload_whole(client, field, hostile.noisy_jpeg(20, 20))
    waiting = await declare(client, field, os.urandom(100), "recording", consent=True)
    listing = (await client.get(f"/v1/visits/{field.visit_id}/evidence", headers=field.collector.headers)).json()
    assert listing["expected"] == 2
    assert listing["present"] == 1
    assert listing["missing"] == [waiting["id"]]


async def test_declaration_is_idempotent_and_a_reused_id_is_refused(client: httpx.AsyncClient):
    field = await make_field()
    data = os.urandom(64)
    body = {"id": "6f1d7c43-7f2a-4c5e-9a51-0f3e8f6b2a10", "visit_id": str(field.visit_id), "kind": "document"}
    first = await client.post(
        "/v1/evidence/items", json={**body, "sha256": sha256(data)}, headers=field.collector.headers
    )
    again = await client.post(
        "/v1/evidence/items", json={**body, "sha256": sha256(data)}, headers=field.collector.headers
    )
    other = await client.post(
        "/v1/evidence/items", json={**body, "sha256": sha256(b"x")}, headers=field.collector.headers
    )
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert other.json()["code"] == "409.73"
