"""Evidence bytes through tus 1.0.0, as the reference client sends them: create, send in chunks with a
per-chunk checksum, and after an interruption ask the server where to resume (HEAD). If the server
already holds the bytes, creation answers with the upload complete and nothing is sent.

A lost connection or a server that went away (killed, restarting, 5xx) is retried with backoff: the
client asks the server for the offset it kept and goes on from there, never from its own idea of it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

TUS = {"Tus-Resumable": "1.0.0"}
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class UploadInterrupted(Exception):
    """The server could not be reached (or kept failing) after every retry; resume later with HEAD."""


def _metadata(values: dict[str, str]) -> str:
    # An empty value is left out: "key " would end the header in a space, which real HTTP stacks refuse.
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items() if value)


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
    attempts: int = 8,
    backoff_s: float = 0.2,
) -> dict[str, Any]:
    """Upload ``data`` for a declared evidence item; returns what happened (resumed, bytes sent).

    ``interrupt_at`` simulates a phone that lost its connection (and its idea of the offset) after that
    many bytes: it asks the server for the offset and resumes from there. A real interruption (transport
    error, retryable status) is retried up to ``attempts`` times in a row, resuming at the server's offset.
    """
    sha256 = hashlib.sha256(data).hexdigest()
    meta = {
        "evidence_id": evidence_id,
        "sha256": sha256,
        "kind": kind,
        "content_type": content_type,
        "filename": filename,
    }
    created = await _retrying(
        attempts,
        backoff_s,
        lambda: http.post(
            "/v1/uploads", headers={**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": _metadata(meta)}
        ),
    )
    if created.status_code not in (200, 201):
        raise httpx.HTTPStatusError(
            f"tus creation: {created.status_code} {created.text}", request=created.request, response=created
        )
    if int(created.headers.get("Upload-Offset", "0")) == len(data):
        return {"sha256": sha256, "sent": 0, "resumed": False, "already_stored": True}
    location = created.headers["Location"]
    offset, sent, resumed, failures, lost = 0, 0, False, 0, False
    while offset < len(data):
        if lost:  # the server went away: it alone knows what it kept
            failures += 1
            if failures > attempts:
                raise UploadInterrupted(f"tus upload {location} stopped at {offset} after {attempts} retries")
            await _pause(backoff_s, failures)
            try:
                offset, resumed, lost = await _offset(http, location), True, False
            except (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError, httpx.HTTPStatusError):
                continue
            continue
        if interrupt_at is not None and not resumed and offset >= interrupt_at:
            offset, resumed = await _offset(http, location), True  # the phone forgot; the server knows
        end = offset + chunk_size
        if interrupt_at is not None and not resumed and offset < interrupt_at:
            end = min(end, interrupt_at)  # the connection drops after interrupt_at bytes
        piece = data[offset:end]
        answer = await _patch(http, location, offset, piece)
        if answer is None or answer.status_code in RETRYABLE_STATUS:
            lost = True
            continue
        if answer.status_code != 204:
            raise httpx.HTTPStatusError(
                f"tus PATCH: {answer.status_code} {answer.text}", request=answer.request, response=answer
            )
        failures = 0
        offset = int(answer.headers["Upload-Offset"])
        sent += len(piece)
    return {"sha256": sha256, "sent": sent, "resumed": resumed, "already_stored": False}


async def _patch(http: httpx.AsyncClient, location: str, offset: int, piece: bytes) -> httpx.Response | None:
    """Send one chunk with its checksum; ``None`` when the connection failed."""
    digest = base64.b64encode(hashlib.sha256(piece).digest()).decode()
    headers = {
        **TUS,
        "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream",
        "Upload-Checksum": f"sha256 {digest}",
    }
    try:
        return await http.patch(location, content=piece, headers=headers)
    except (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError):  # not our own bad request
        return None


async def _pause(backoff_s: float, failures: int) -> None:
    delay = backoff_s * (2 ** (failures - 1)) * (0.5 + random.random())  # noqa: S311 - jitter
    await asyncio.sleep(min(delay, 10.0))


async def _retrying(attempts: int, backoff_s: float, send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """A request retried on transport errors and retryable statuses."""
    for failures in range(1, attempts + 1):
        answer: httpx.Response | None = None
        with contextlib.suppress(httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError):
            answer = await send()
        if answer is not None and answer.status_code not in RETRYABLE_STATUS:
            return answer
        if failures < attempts:
            await _pause(backoff_s, failures)
    raise UploadInterrupted(f"tus request failed {attempts} times")
