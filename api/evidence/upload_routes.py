"""The tus 1.0.0 door at ``/v1/uploads``: any standard tus client works unmodified.

Bodies are read straight from the ASGI stream chunk by chunk and written to disk, so memory stays
flat whatever the file size; a client that disconnects mid-chunk keeps what arrived (unless it sent
a checksum) and resumes after a HEAD.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, head, patch, post, route
from litestar.enums import HttpMethod
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import device_only
from api.db import write_transaction
from api.errors import NotYourData, RecordNotFound
from api.evidence.access import require_uploader, who
from api.evidence.config import evidence_config
from api.http import errors
from api.people.roles import Principal
from evidence import items, tus, uploads
from evidence.errors import (
    ChecksumHeaderInvalid,
    EvidenceItemNotFound,
    EvidenceNotDeclared,
    TusVersionUnsupported,
    UploadAlreadyComplete,
    UploadBusy,
    UploadChecksumMismatch,
    UploadContentTypeInvalid,
    UploadDoesNotMatchDeclaration,
    UploadEmpty,
    UploadExceedsLength,
    UploadGone,
    UploadHashMismatch,
    UploadLengthInvalid,
    UploadMetadataInvalid,
    UploadNotFound,
    UploadOffsetInvalid,
    UploadOffsetMismatch,
    UploadTooLarge,
)
from evidence.upload_files import ChunkInterrupted
from evidence.uploads import UploadStatus


def tus_resumable_header(app: ASGIApp) -> ASGIApp:
    """Middleware: every upload response (errors included) says ``Tus-Resumable: 1.0.0``."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"tus-resumable" for name, _ in headers):
                    headers.append((b"tus-resumable", tus.TUS_VERSION.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_header)

    return middleware


async def body_chunks(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    """The request body as it arrives; ChunkInterrupted when the client goes away mid-body."""
    while True:
        event = await request.receive()
        if event["type"] == "http.disconnect":
            raise ChunkInterrupted(0)
        body = event.get("body", b"")
        if isinstance(body, bytes) and body:
            yield body
        if not event.get("more_body", False):
            return


def _has_body(request: Request[Any, Any, Any]) -> bool:
    length = request.headers.get("content-length")
    return (length is not None and length.strip() not in ("", "0")) or "transfer-encoding" in request.headers


def _require_offset_stream(request: Request[Any, Any, Any]) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != tus.OFFSET_CONTENT_TYPE:
        raise UploadContentTypeInvalid(f"Content-Type must be {tus.OFFSET_CONTENT_TYPE}, got {content_type!r}")


def _headers(status: UploadStatus, *, with_length: bool = False) -> dict[str, str]:
    headers = {"Upload-Offset": str(status.offset), "Cache-Control": "no-store"}
    if status.expires_at is not None:
        headers["Upload-Expires"] = tus.http_date(status.expires_at)
    if with_length:
        headers["Upload-Length"] = str(status.length)
        if status.metadata:
            headers["Upload-Metadata"] = status.metadata
    return headers


_CREATE_ERRORS = errors(
    TusVersionUnsupported,
    UploadMetadataInvalid,
    UploadLengthInvalid,
    UploadEmpty,
    EvidenceNotDeclared,
    UploadDoesNotMatchDeclaration,
    UploadTooLarge,
    NotYourData,
    RecordNotFound,
    UploadContentTypeInvalid,
    ChecksumHeaderInvalid,
    UploadChecksumMismatch,
    UploadHashMismatch,
)
_PATCH_ERRORS = errors(
    TusVersionUnsupported,
    UploadNotFound,
    UploadGone,
    UploadOffsetInvalid,
    UploadOffsetMismatch,
    UploadContentTypeInvalid,
    ChecksumHeaderInvalid,
    UploadChecksumMismatch,
    UploadExceedsLength,
    UploadBusy,
    UploadHashMismatch,
)


@route(
    "/v1/uploads",
    http_method=[HttpMethod.OPTIONS],
    status_code=204,
    opt={"exclude_from_auth": True},
    security=[{}],
    middleware=[tus_resumable_header],
    tags=["evidence"],
)
async def discover_uploads() -> Response[None]:
    """tus discovery: versions, extensions, the largest upload (Tus-Max-Size), checksum algorithms.

    No authentication needed. The per-kind limits are in ``Fieldvisit-Max-Size-Per-Kind``.
    (Registered before ``create_upload`` so Litestar adds no automatic OPTIONS handler to the path.)"""
    config = evidence_config()
    headers = tus.options_headers(config.max_upload_size)
    headers["Fieldvisit-Max-Size-Per-Kind"] = ",".join(f"{k.value}={v}" for k, v in config.size_limits.items())
    return Response(None, status_code=204, headers=headers)


@post(
    "/v1/uploads",
    guards=[device_only],
    status_code=201,
    request_max_body_size=None,
    responses=_CREATE_ERRORS,
    middleware=[tus_resumable_header],
    tags=["evidence"],
)
async def create_upload(request: Request[Any, Any, Any], principal: Principal) -> Response[None]:
    """Create an upload for a declared evidence item (tus creation, creation-with-upload).

    Upload-Metadata carries ``evidence_id``, ``sha256`` (of the whole file, computed on the
    phone at capture), ``kind`` and ``content_type`` (optionally ``filename``). If the server
    already holds these bytes the answer says ``Upload-Offset`` = ``Upload-Length``: the upload
    is complete and nothing needs to be sent."""
    tus.require_version(request.headers.get("tus-resumable"))
    raw = request.headers.get("upload-metadata", "")
    meta = tus.read_upload_metadata(tus.parse_metadata(raw))
    length = tus.parse_length(request.headers.get("upload-length"), request.headers.get("upload-defer-length"))
    config, actor = evidence_config(), who(principal, request.client.host if request.client else None)
    try:
        item = await items.get_item_or_raise(meta.evidence_id)
    except EvidenceItemNotFound:
        item = None
    if item is not None:
        await require_uploader(principal, item)
    item = uploads.check_against_declaration(config, item, meta, length)
    async with write_transaction():
        status = await uploads.create_upload(config, item, meta, raw, length, actor)
    if not status.complete and _has_body(request):
        _require_offset_stream(request)
        checksum = tus.parse_checksum(request.headers.get("upload-checksum"))
        row = await uploads.get_upload_or_raise(status.id, actor)
        try:
            status = await uploads.write_chunk(config, row, 0, body_chunks(request), checksum, actor)
        except ChunkInterrupted:
            status = await uploads.upload_status(config, status.id, actor)
    headers = {"Location": f"/v1/uploads/{status.id}", **_headers(status)}
    return Response(None, status_code=201, headers=headers)


class UploadController(Controller):
    """Resumable uploads of evidence bytes (tus 1.0.0: core, creation, creation-with-upload,
    termination, expiration, checksum with sha1 and sha256)."""

    path = "/v1/uploads"
    tags = ["evidence"]
    middleware = [tus_resumable_header]
    opt = {"skip_compression": True}  # tus answers have no body: no gzip stream per chunk

    @head(
        "/{upload_id:uuid}", guards=[device_only], responses=errors(TusVersionUnsupported, UploadNotFound, UploadGone)
    )
    async def status(self, request: Request[Any, Any, Any], upload_id: UUID, principal: Principal) -> Response[None]:
        """Where an upload stands: Upload-Offset (resume from there), Upload-Length, Upload-Metadata."""
        tus.require_version(request.headers.get("tus-resumable"))
        actor = who(principal, request.client.host if request.client else None)
        status = await uploads.upload_status(evidence_config(), upload_id, actor)
        return Response(None, status_code=200, headers=_headers(status, with_length=True))

    @patch(
        "/{upload_id:uuid}", guards=[device_only], status_code=204, request_max_body_size=None, responses=_PATCH_ERRORS
    )
    async def append(self, request: Request[Any, Any, Any], upload_id: UUID, principal: Principal) -> Response[None]:
        """Append bytes at Upload-Offset (Content-Type: application/offset+octet-stream).

        With ``Upload-Checksum: sha1|sha256 <base64>`` a chunk that does not match is discarded and
        answered 460. When the last byte arrives the whole file's sha256 is checked against the
        declared one: a mismatch rejects the upload (422) and nothing becomes evidence."""
        tus.require_version(request.headers.get("tus-resumable"))
        _require_offset_stream(request)
        offset = tus.parse_offset(request.headers.get("upload-offset"))
        checksum = tus.parse_checksum(request.headers.get("upload-checksum"))
        config, actor = evidence_config(), who(principal, request.client.host if request.client else None)
        row = await uploads.get_writable_upload(config, upload_id, actor)
        try:
            status = await uploads.write_chunk(config, row, offset, body_chunks(request), checksum, actor)
        except ChunkInterrupted:  # nobody is listening; the kept bytes show in the next HEAD
            return Response(None, status_code=204)
        return Response(None, status_code=204, headers=_headers(status))

    @delete(
        "/{upload_id:uuid}",
        guards=[device_only],
        status_code=204,
        responses=errors(TusVersionUnsupported, UploadNotFound, UploadGone, UploadAlreadyComplete),
    )
    async def terminate(self, request: Request[Any, Any, Any], upload_id: UUID, principal: Principal) -> None:
        """Drop an incomplete upload and its bytes (tus termination). A completed upload is evidence: 409."""
        tus.require_version(request.headers.get("tus-resumable"))
        await uploads.terminate_upload(evidence_config(), upload_id, who(principal, None))
