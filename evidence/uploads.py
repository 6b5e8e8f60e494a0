"""Resumable uploads (tus) as use cases: create, write a chunk, complete, terminate, expire.

Bytes never stream inside a database transaction (on SQLite that would hold the one writer lock
for minutes): each use case opens short transactions through ``config.transaction`` around the
file work. Nothing is acknowledged as evidence until the whole file's sha256 matched the one
declared on the phone and the blob is stored durably; only then is the item received.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from evidence import items
from evidence import repository as repo
from evidence.blobs import sha256_file
from evidence.errors import (
    EvidenceNotDeclared,
    UploadAlreadyComplete,
    UploadDoesNotMatchDeclaration,
    UploadEmpty,
    UploadGone,
    UploadHashMismatch,
    UploadNotFound,
    UploadOffsetMismatch,
    UploadTooLarge,
)
from evidence.models import Item
from evidence.ports import SERVER, EvidenceConfig, Who
from evidence.tus import Checksum, UploadMetadata
from evidence.upload_files import UploadFiles


@dataclass(frozen=True)
class UploadStatus:
    """What HEAD, POST and PATCH report."""

    id: UUID
    offset: int
    length: int
    metadata: str
    expires_at: datetime | None
    complete: bool


def _status(row: Mapping[str, Any], offset: int) -> UploadStatus:
    complete = row["state"] == "complete"
    return UploadStatus(
        id=row["id"],
        offset=int(row["length"]) if complete else offset,
        length=int(row["length"]),
        metadata=row["metadata"],
        expires_at=None if complete else row["expires_at"],
        complete=complete,
    )


def check_against_declaration(config: EvidenceConfig, item: Item | None, meta: UploadMetadata, length: int) -> Item:
    """The upload must be the declared item's bytes, non-empty and within its kind's size limit."""
    if item is None:
        raise EvidenceNotDeclared(f"evidence {meta.evidence_id} is not declared yet", evidence_id=str(meta.evidence_id))
    if item.sha256 != meta.sha256 or item.kind != meta.kind:
        raise UploadDoesNotMatchDeclaration(
            f"evidence {item.id} was declared as a {item.kind.value} with sha256 {item.sha256}"
        )
    if item.size is not None and item.size != length:
        raise UploadDoesNotMatchDeclaration(f"evidence {item.id} was declared with {item.size} bytes, not {length}")
    if length == 0:
        raise UploadEmpty()
    limit = config.size_limits.get(meta.kind, 0)
    if length > limit:
        raise UploadTooLarge(f"a {meta.kind.value} may have at most {limit} bytes", limit=limit)
    return item


async def create_upload(
    config: EvidenceConfig, item: Item, meta: UploadMetadata, raw_metadata: str, length: int, who: Who
) -> UploadStatus:
    """Open an upload for a declared item (checked by :func:`check_against_declaration`).

    If the server already holds the bytes, the upload is created complete: no byte is sent again.
    """
    upload_id = uuid4()
    stored = item.present or (await repo.blob_recorded(item.sha256) and config.store.exists(item.sha256))
    row = {
        "id": upload_id,
        "item_id": item.id,
        "sha256": item.sha256,
        "kind": item.kind.value,
        "length": length,
        "metadata": raw_metadata[:4000],
        "state": "complete" if stored else "open",
        "created_by": who.user_id,
        "device_id": who.device_id,
        "address": who.address[:64],
        "expires_at": items.now() + config.upload_ttl,
        "finished_at": items.now() if stored else None,
    }
    await repo.insert_upload(row)
    _, unsafe = items.sanitise_filename(meta.filename)
    if unsafe is not None:  # the name is never used as a path; the attempt is kept on record
        await items.add_flags(item.id, [unsafe])
    if stored:
        await items.receive_item(
            item.id, who, {"upload_id": str(upload_id), "from": "blob already stored"}, config.defer
        )
    else:
        UploadFiles(config.upload_dir, upload_id).create(_info(row))
    return _status(row, 0)


def _info(row: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("id", "item_id", "sha256", "length", "metadata", "created_by", "expires_at")
    return {key: str(row[key]) if key != "length" else int(row[key]) for key in keys}


async def get_writable_upload(config: EvidenceConfig, upload_id: UUID, who: Who) -> dict[str, Any]:
    """The upload a PATCH writes to. An open upload's facts come from beside its bytes (no query per
    chunk); a finished one is looked up in the database to say why it takes no more bytes."""
    info = UploadFiles(config.upload_dir, upload_id).read_info()
    if info is None:
        return await get_upload_or_raise(upload_id, who)
    if info["created_by"] != str(who.user_id):
        raise UploadNotFound(f"no upload {upload_id}")
    return {
        **info,
        "id": upload_id,
        "item_id": UUID(info["item_id"]),
        "created_by": who.user_id,
        "expires_at": datetime.fromisoformat(info["expires_at"]),
        "state": "open",
        "reason": "",
    }


async def get_upload_or_raise(upload_id: UUID, who: Who) -> dict[str, Any]:
    """An upload of ``who`` (someone else's answers 404, like one that never existed)."""
    row = await repo.get_upload(upload_id)
    if row is None or row["created_by"] != who.user_id:
        raise UploadNotFound(f"no upload {upload_id}")
    return row


def _require_open(row: Mapping[str, Any]) -> None:
    if row["state"] in ("rejected", "terminated", "expired"):
        raise UploadGone(f"upload {row['id']} was {row['state']}", state=row["state"], reason=row["reason"])


async def upload_status(config: EvidenceConfig, upload_id: UUID, who: Who) -> UploadStatus:
    """Where an upload stands (HEAD). An upload whose bytes are all there but whose completion was
    interrupted (crash, lost connection) is completed now, so a client resuming never stalls."""
    row = await get_upload_or_raise(upload_id, who)
    _require_open(row)
    files = UploadFiles(config.upload_dir, upload_id)
    if row["state"] == "open" and files.exists() and files.offset() == int(row["length"]):
        return await complete_upload(config, row, who)
    return _status(row, files.offset())


async def write_chunk(
    config: EvidenceConfig,
    row: Mapping[str, Any],
    offset: int,
    body: AsyncIterator[bytes],
    checksum: Checksum | None,
    who: Who,
) -> UploadStatus:
    """Append a PATCH body at ``offset``; complete the upload when its last byte arrived."""
    _require_open(row)
    length = int(row["length"])
    if row["state"] == "complete":
        if offset == length:
            return _status(row, length)
        raise UploadOffsetMismatch(f"the upload is complete at offset {length}", offset=length)
    files = UploadFiles(config.upload_dir, row["id"])
    if not files.exists():
        raise UploadGone(f"upload {row['id']} has no bytes on this server any more")
    with files.locked() as fd:
        current = files.offset()
        if offset != current:
            raise UploadOffsetMismatch(f"the server holds {current} bytes, not {offset}", offset=current)
        new_offset = await files.append(fd, current, length, body, checksum)
    await _keep_alive(config, row)
    if new_offset == length:
        return await complete_upload(config, row, who)
    return _status(row, new_offset)


async def _keep_alive(config: EvidenceConfig, row: Mapping[str, Any]) -> None:
    """Push the expiry back when less than half of its lifetime is left (a rare, small write)."""
    if row["expires_at"] - items.now() < config.upload_ttl / 2:
        expires_at = items.now() + config.upload_ttl
        async with config.transaction():
            await repo.extend_upload(row["id"], expires_at)
        files = UploadFiles(config.upload_dir, row["id"])
        if files.read_info() is not None:
            files.write_info(_info({**row, "expires_at": expires_at}))


async def complete_upload(config: EvidenceConfig, row: Mapping[str, Any], who: Who) -> UploadStatus:
    """Verify the whole file against the declared sha256, store it, and receive the item(s).

    A mismatch rejects the upload (its bytes are deleted, nothing becomes evidence). The blob is
    stored before the transaction that records it, so a crash in between leaves a harmless
    unreferenced blob and an open upload that the next HEAD completes.
    """
    files = UploadFiles(config.upload_dir, row["id"])
    with files.locked():
        actual = await files.whole_file_sha256(int(row["length"])) or await asyncio.to_thread(sha256_file, files.part)
        if actual != row["sha256"]:
            await _reject(config, row, f"sha256 of the received file is {actual}")
            raise UploadHashMismatch(
                f"the received file hashes to {actual}, not the declared {row['sha256']}", actual=actual
            )
        await asyncio.to_thread(config.store.put_file, files.part, row["sha256"])
        async with config.transaction():
            await _record_completion(config, row, who)
        files.remove()
    return _status({**row, "state": "complete"}, int(row["length"]))


async def _record_completion(config: EvidenceConfig, row: Mapping[str, Any], who: Who) -> None:
    await repo.finish_upload(row["id"], "complete", items.now())
    await repo.record_blob(row["sha256"], int(row["length"]))
    details = {"upload_id": str(row["id"]), "size": int(row["length"])}
    await items.receive_item(row["item_id"], who, details, config.defer)
    for other in await repo.list_waiting_for_blob(row["sha256"]):  # other items with the same bytes
        await items.receive_item(other["id"], SERVER, {"from": f"upload {row['id']}"}, config.defer)


async def _reject(config: EvidenceConfig, row: Mapping[str, Any], reason: str) -> None:
    async with config.transaction():
        await repo.finish_upload(row["id"], "rejected", items.now(), reason)
    UploadFiles(config.upload_dir, row["id"]).remove()


async def terminate_upload(config: EvidenceConfig, upload_id: UUID, who: Who) -> None:
    """Drop an incomplete upload and its bytes (tus termination). Completed uploads are evidence."""
    async with config.transaction():
        row = await get_upload_or_raise(upload_id, who)
        if row["state"] == "complete":
            raise UploadAlreadyComplete()
        _require_open(row)
        await repo.finish_upload(upload_id, "terminated", items.now(), "terminated by the client")
    UploadFiles(config.upload_dir, upload_id).remove()


async def expire_uploads(config: EvidenceConfig) -> int:
    """Close open uploads past their expiry and delete their scratch files; remove orphaned files."""
    async with config.transaction():
        expired = await repo.list_expired_uploads(items.now())
        for upload_id in expired:
            await repo.finish_upload(upload_id, "expired", items.now(), "expired before completion")
    for upload_id in expired:
        UploadFiles(config.upload_dir, upload_id).remove()
    await _remove_orphans(config)
    return len(expired)


async def _remove_orphans(config: EvidenceConfig) -> None:
    """Scratch files whose upload is no longer open (a crash between commit and cleanup).

    Files younger than an hour are left alone: their upload may still be committing."""
    found: dict[UUID, list[Any]] = {}
    cutoff = time.time() - 3600
    for path in config.upload_dir.glob("*.*"):
        with contextlib.suppress(ValueError, FileNotFoundError):
            if path.stat().st_mtime > cutoff:
                continue
            found.setdefault(UUID(path.name.split(".", 1)[0]), []).append(path)
    async with config.transaction():
        states = await repo.list_upload_states(list(found))
    for upload_id, paths in found.items():
        if states.get(upload_id, "unknown") != "open":
            for path in paths:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
