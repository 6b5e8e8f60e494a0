"""Custody verification on stored chains, reads by legal logged, no API path that rewrites evidence,
and the cron that cleans up expired uploads."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from litestar import Litestar

from api.evidence.config import evidence_config
from api.evidence.jobs import expire_uploads
from api.queue.runner import JobContext
from api.settings import get_settings
from evidence.tables import CustodyEvent, Upload
from tests.evidence import hostile
from tests.evidence.helpers import TUS, declare, make_field, sha256, tus_create, tus_patch, upload_whole

pytestmark = pytest.mark.embedded


async def test_a_tampered_custody_link_is_named_by_the_verification_endpoint(client: httpx.AsyncClient):
    field = await make_field()
    item_id = await upload_whole(client, field, hostile.noisy_jpeg(30, 30))
    url = f"/v1/evidence/items/{item_id}/custody/verification"
    assert (await client.get(url, headers=field.legal.headers)).json()["valid"] is True
    await CustodyEvent.update({CustodyEvent.address: "somewhere else"}).where(
        (CustodyEvent.item_id == item_id) & (CustodyEvent.seq == 2)
    )
    verdict = (await client.get(url, headers=field.legal.headers)).json()
    assert verdict["valid"] is False
    assert verdict["first_broken"]["seq"] == 2
    assert "altered" in verdict["first_broken"]["reason"]


async def test_every_read_by_legal_is_a_custody_link(client: httpx.AsyncClient):
    field = await make_field()
    item_id = await upload_whole(client, field, hostile.noisy_jpeg(30, 30))
    await client.get(f"/v1/visits/{field.visit_id}/evidence", headers=field.legal.headers)
    await client.get(f"/v1/evidence/items/{item_id}", headers=field.legal.headers)
    await client.get(f"/v1/evidence/items/{item_id}/original", headers=field.legal.headers)
    custody = (await client.get(f"/v1/evidence/items/{item_id}/custody", headers=field.legal.headers)).json()
    views = [link["details"]["what"] for link in custody["links"] if link["action"] == "viewed"]
    assert views == ["metadata", "metadata", "original"]
    assert all(link["actor_id"] == str(field.legal.user_id) for link in custody["links"] if link["action"] == "viewed")


def test_no_api_path_updates_or_deletes_evidence(app: Litestar):
    for route in app.routes:
        if not route.path.startswith(("/v1/evidence", "/v1/legal", "/v1/uploads")):
            continue
        methods = set(route.methods) - {"GET", "HEAD", "OPTIONS", "POST"}
        if route.path == "/v1/uploads/{upload_id:uuid}":
            assert methods == {"PATCH", "DELETE"}  # tus: bytes of an upload in progress, never of evidence
        else:
            assert methods == set(), route.path


async def test_expired_incomplete_uploads_are_cleaned_up_by_the_job(client: httpx.AsyncClient):
    field = await make_field()
    data = os.urandom(5000)
    item = await declare(client, field, data, "document")
    location = (await tus_create(client, field, str(item["id"]), sha256(data), len(data), "document")).headers[
        "location"
    ]
    await tus_patch(client, field, location, 0, data[:1000])
    upload_id = location.rsplit("/", 1)[1]
    assert any(evidence_config().upload_dir.glob(f"{upload_id}.*"))
    await Upload.update({Upload.expires_at: datetime.now(UTC) - timedelta(minutes=1)}).where(Upload.id == upload_id)
    await expire_uploads(JobContext(settings=get_settings(), job_id=None, attempt=1))
    assert not any(evidence_config().upload_dir.glob(f"{upload_id}.*"))
    head = await client.head(location, headers={**field.collector.headers, **TUS})
    assert head.status_code == 410
    got = await client.get(f"/v1/evidence/items/{item['id']}", headers=field.legal.headers)
    assert got.json()["state"] == "declared"  # the declaration stays; the phone uploads again
