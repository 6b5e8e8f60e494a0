"""Builders for evidence tests: a field setup (team, collector, visit) and real files to upload."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
from dataclasses import dataclass
from uuid import UUID

import httpx
from PIL import Image

from api.people.roles import Role
from tests.builders import Actor, make_case, make_collector, make_staff, make_team, make_visit


@dataclass(frozen=True)
class Field:
    """A team with its collector (device token), dispatcher, a legal user, and a visit assigned to the collector."""

    team_id: UUID
    collector: Actor
    dispatcher: Actor
    legal: Actor
    case_id: UUID
    visit_id: UUID


async def make_field() -> Field:
    """A complete field setup."""
    team_id = await make_team()
    collector = await make_collector(team_id)
    dispatcher = await make_staff(Role.DISPATCHER, team_id)
    legal = await make_staff(Role.LEGAL)
    case_id, address_id = await make_case(team_id)
    visit_id = await make_visit(case_id, address_id, team_id, assigned_to=collector.user_id)
    return Field(team_id, collector, dispatcher, legal, case_id, visit_id)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def jpeg_bytes(width: int = 64, height: int = 48, exif: Image.Exif | None = None) -> bytes:
    """A small real JPEG."""
    im = Image.new("RGB", (width, height), (200, 30, 30))
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif if exif is not None else Image.Exif())
    return out.getvalue()


def metadata(evidence_id: UUID, digest: str, kind: str = "photo", content_type: str = "image/jpeg", **more: str) -> str:
    values = {"evidence_id": str(evidence_id), "sha256": digest, "kind": kind, "content_type": content_type, **more}
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def declare(
    client: httpx.AsyncClient, field: Field, data: bytes, kind: str = "photo", **more: object
) -> dict[str, object]:
    """Declare an item for ``data`` through the API; returns the answer's JSON."""
    body = {"id": str(uuid.uuid4()), "visit_id": str(field.visit_id), "kind": kind, "sha256": sha256(data), **more}
    answer = await client.post("/v1/evidence/items", json=body, headers=field.collector.headers)
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


TUS = {"Tus-Resumable": "1.0.0"}


async def tus_create(
    client: httpx.AsyncClient, field: Field, item_id: str, digest: str, length: int, kind: str = "photo", **more: str
) -> httpx.Response:
    """POST /v1/uploads for a declared item."""
    headers = {
        **field.collector.headers,
        **TUS,
        "Upload-Length": str(length),
        "Upload-Metadata": metadata(UUID(item_id), digest, kind, **more),
    }
    return await client.post("/v1/uploads", headers=headers)


async def tus_patch(
    client: httpx.AsyncClient, field: Field, location: str, offset: int, chunk: bytes, checksum: str | None = None
) -> httpx.Response:
    """PATCH one chunk."""
    headers = {
        **field.collector.headers,
        **TUS,
        "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream",
    }
    if checksum is not None:
        headers["Upload-Checksum"] = checksum
    return await client.patch(location, headers=headers, content=chunk)


async def upload_whole(
    client: httpx.AsyncClient, field: Field, data: bytes, kind: str = "photo", **declared: object
) -> str:
    """Declare and upload ``data`` in one PATCH; returns the item id."""
    item = await declare(client, field, data, kind, **declared)
    created = await tus_create(client, field, str(item["id"]), sha256(data), len(data), kind)
    assert created.status_code == 201, created.text
    done = await tus_patch(client, field, created.headers["location"], 0, data)
    assert done.status_code == 204, done.text
    return str(item["id"])
