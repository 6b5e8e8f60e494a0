"""Evidence bytes through tus 1.0.0, as the reference client sends them: create, send in chunks with a
per-chunk checksum, and after an interruption ask the server where to resume (HEAD). If the server
already holds the bytes, creation answers with the upload complete and nothing is sent."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx

TUS = {"Tus-Resumable": "1.0.0"}


def _metadata(values: dict[str, str]) -> str:
    # An empty value is sent as the key alone (tus 1.0): "key " would end the header in a space, which
    # HTTP clients refuse to send.
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" if value else key for key, value in values.items()
    )


async def _offset(http: httpx.AsyncClient, location: str) -> int:
    answer = await http.head(location, headers=TUS)
    answer.raise_for_status()
    return int(answer.headers["Upload-Offset"])


async def upload(
    http: httpx.AsyncClient,
    data: bytes,
    *,
    evidence_id: str,
    kind: str,
    content_type: str,
    filename: str = "",
    chunk_size: int = 256 * 1024,
    interrupt_at: int | None = None,
) -> dict[str, Any]:
    """Upload ``data`` for a declared evidence item; returns what happened (resumed, bytes sent).

    ``interrupt_at`` simulates a phone that lost its connection (and its idea of the offset) after that
    many bytes: it asks the server for the offset and resumes from there.
    """
    sha256 = hashlib.sha256(data).hexdigest()
    meta = {
        "evidence_id": evidence_id,
        "sha256": sha256,
        "kind": kind,
        "content_type": content_type,
        "filename": filename,
    }
    created = await http.post(
        "/v1/uploads", headers={**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": _metadata(meta)}
    )
    if created.status_code not in (200, 201):
        raise httpx.HTTPStatusError(
            f"tus creation: {created.status_code} {created.text}", request=created.request, response=created
        )
    if int(created.headers.get("Upload-Offset", "0")) == len(data):
        return {"sha256": sha256, "sent": 0, "resumed": False, "already_stored": True}
    location = created.headers["Location"]
    offset, sent, resumed = 0, 0, False
    while offset < len(data):
        if interrupt_at is not None and not resumed and offset >= interrupt_at:
            offset, resumed = await _offset(http, location), True  # the phone forgot; the server knows
        end = offset + chunk_size
        if interrupt_at is not None and not resumed and offset < interrupt_at:
            end = min(end, interrupt_at)  # the connection drops after interrupt_at bytes
        piece = data[offset:end]
        digest = base64.b64encode(hashlib.sha256(piece).digest()).decode()
        answer = await http.patch(
            location,
            content=piece,
            headers={
                **TUS,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
                "Upload-Checksum": f"sha256 {digest}",
            },
        )
        if answer.status_code != 204:
            raise httpx.HTTPStatusError(
                f"tus PATCH: {answer.status_code} {answer.text}", request=answer.request, response=answer
            )
        offset = int(answer.headers["Upload-Offset"])
        sent += len(piece)
    return {"sha256": sha256, "sent": sent, "resumed": resumed, "already_stored": False}
