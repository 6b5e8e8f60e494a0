"""The processing job's use case: read a verified item's bytes, inspect them by kind, store the
derived file, and move the item to ``processed``. Idempotent; hostile content becomes flags."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from evidence import items
from evidence import repository as repo
from evidence.kinds import CustodyAction, EvidenceKind, ItemState
from evidence.media.audio import inspect_recording
from evidence.media.images import make_photo_thumbnail, normalise_signature
from evidence.models import Flag, Item
from evidence.ports import RENDER_AGREEMENT, SERVER, EvidenceConfig, Transactor

ROLE_BY_KIND = {EvidenceKind.PHOTO: "thumbnail", EvidenceKind.SIGNATURE: "normalised"}
TYPE_BY_ROLE = {"thumbnail": "image/jpeg", "normalised": "image/png"}


@dataclass
class Inspection:
    """What the kind's inspector found, ready to record."""

    media: dict[str, Any] = field(default_factory=dict)
    capture: dict[str, Any] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)
    derived: bytes | None = None
    recipe: dict[str, Any] = field(default_factory=dict)


def inspect(config: EvidenceConfig, item: Item) -> Inspection:
    """Run the inspector for the item's kind on its blob (blocking: call it in a thread)."""
    path = config.store.local_path(item.sha256)
    if path is None:
        raise FileNotFoundError(f"blob {item.sha256} of item {item.id} is not in the store")
    if path.stat().st_size == 0:
        return Inspection(flags=[Flag("empty_file", "the file has no bytes")])
    if item.kind is EvidenceKind.PHOTO:
        found = make_photo_thumbnail(path, config.image_limits)
        return Inspection(found.media, found.capture, found.flags, found.derived, found.recipe)
    if item.kind is EvidenceKind.SIGNATURE:
        found = normalise_signature(path, config.image_limits)
        return Inspection(found.media, found.capture, found.flags, found.derived, found.recipe)
    if item.kind is EvidenceKind.RECORDING:
        heard = inspect_recording(path, item.content_type, item.capture.get("consent"))
        return Inspection(media=heard.media, flags=heard.flags)
    return Inspection(media={"size": path.stat().st_size})


def _inspect_and_store(config: EvidenceConfig, item: Item) -> tuple[Inspection, str | None]:
    """Inspect the item and store its derived file durably (one trip to a worker thread)."""
    found = inspect(config, item)
    return found, (config.store.put_bytes(found.derived) if found.derived is not None else None)


async def process_item(config: EvidenceConfig, item_id: UUID, record_in: Transactor | None = None) -> bool:
    """Process a verified item once; False when there was nothing to do (not verified yet, or done).

    The result is recorded in one transaction, ``record_in`` if given (a job passes its final
    transaction, which also marks the job done), else ``config.transaction``."""
    async with config.transaction():  # a short one: on SQLite a read outside it opens a connection of its own
        row = await repo.get_item(item_id)
    if row is None or row["state"] != ItemState.VERIFIED.value:
        return False
    item = items.to_item(row)
    found, derived_sha = await asyncio.to_thread(_inspect_and_store, config, item)
    async with (record_in or config.transaction)():
        current = await repo.get_item(item_id, lock=True)
        if current is None or current["state"] != ItemState.VERIFIED.value:
            return False  # another worker got there first
        await _record(item, current["flags"], found, derived_sha)
        if item.kind is EvidenceKind.SIGNATURE:
            for agreement in await repo.list_agreements(signature_item_id=item_id):
                await config.defer(RENDER_AGREEMENT, str(agreement["id"]))
    return True


async def _record(item: Item, known_flags: list[dict[str, str]], found: Inspection, derived_sha: str | None) -> None:
    details: dict[str, Any] = {"sha256": item.sha256, "flags": [f.code for f in found.flags]}
    if found.derived is not None and derived_sha is not None:
        role = ROLE_BY_KIND[item.kind]
        await repo.record_blob(derived_sha, len(found.derived))
        await repo.insert_derivative(
            item.id,
            {
                "role": role,
                "sha256": derived_sha,
                "size": len(found.derived),
                "content_type": TYPE_BY_ROLE[role],
                "parents": [item.sha256],
                "recipe": found.recipe,
            },
        )
        details["derived"] = {role: derived_sha}
    capture = {**item.capture, **({"exif": found.capture} if found.capture else {})}
    media = {**found.media}
    await repo.update_item(
        item.id, state=ItemState.PROCESSED.value, processed_at=items.now(), media=media, capture=capture
    )
    await items.add_flags(item.id, found.flags)
    await items.append_custody(item.id, CustodyAction.PROCESSED, SERVER, details)
