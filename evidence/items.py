"""Evidence items: declaration (idempotent), their custody log, and their moves through the states.

Called by the API door, by the sync engine's "declare evidence" mutation and by jobs; every
function runs inside the caller's transaction and never commits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from evidence import repository as repo
from evidence.custody import ChainReport, Link, make_link, verify_chain
from evidence.errors import EvidenceDeclarationInvalid, EvidenceIdReused, EvidenceItemNotFound
from evidence.kinds import CustodyAction, ItemState
from evidence.models import Declared, DeclareItem, Derived, Flag, Item
from evidence.ports import PROCESS_ITEM, JobSink, Who

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]|^\.+$|\.\.")


def now() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)


def sanitise_filename(raw: str) -> tuple[str, Flag | None]:
    """A display-only base name; a flag when the phone's name tried a path or control characters."""
    base = re.split(r"[/\\]", raw)[-1]
    clean = re.sub(r"[\x00-\x1f\x7f]", "", base).strip().lstrip(".")[:200]
    if raw and _UNSAFE_NAME.search(raw):
        return clean, Flag("unsafe_filename", f"file name {raw[:120]!r} was reduced to {clean!r}")
    return clean, None


def to_item(row: Mapping[str, Any], derived: list[Derived] | None = None) -> Item:
    """An item from its row."""
    values = {k: row[k] for k in Item.__struct_fields__ if k in row}
    values["flags"] = [Flag(**f) for f in row["flags"]]
    values["derived"] = derived or []
    return msgspec.convert(values, Item, from_attributes=False, strict=False)


def to_derived(row: Mapping[str, Any]) -> Derived:
    """A derived file from its row."""
    return Derived(
        role=row["role"],
        sha256=row["sha256"],
        size=int(row["size"]),
        content_type=row["content_type"],
        parents=list(row["parents"]),
        recipe=dict(row["recipe"]),
    )


async def append_custody(item_id: UUID, action: CustodyAction, who: Who, details: Mapping[str, Any]) -> Link:
    """Add a link to an item's chain. Callers hold the item's row lock (or SQLite's writer lock)."""
    at = now()
    link = make_link(
        await repo.last_link(item_id),
        item_id=str(item_id),
        action=action.value,
        at=at,
        actor_id=who.actor_id,
        device_id=who.device,
        address=who.address,
        details=details,
    )
    await repo.insert_link(link, at)
    return link


async def get_item_or_raise(item_id: UUID, *, lock: bool = False) -> Item:
    """An item with its derived files."""
    row = await repo.get_item(item_id, lock=lock)
    if row is None:
        raise EvidenceItemNotFound(f"no evidence item {item_id}")
    derived = [to_derived(d) for d in await repo.list_derivatives([item_id])]
    return to_item(row, derived)


async def list_items(visit_ids: list[UUID] | None = None, item_ids: list[UUID] | None = None) -> list[Item]:
    """Items with their derived files."""
    rows = await repo.list_items(visit_ids=visit_ids, item_ids=item_ids)
    by_item: dict[UUID, list[Derived]] = {}
    for d in await repo.list_derivatives([r["id"] for r in rows]):
        by_item.setdefault(d["item_id"], []).append(to_derived(d))
    return [to_item(r, by_item.get(r["id"])) for r in rows]


def _same_declaration(row: Mapping[str, Any], data: DeclareItem) -> bool:
    return bool(row["sha256"] == data.sha256 and row["visit_id"] == data.visit_id and row["kind"] == data.kind.value)


async def declare_item(data: DeclareItem, who: Who, defer: JobSink) -> Declared:
    """Declare an item (idempotent on its id: same id + same sha256 is a duplicate, not an error).

    If the bytes are already stored (another item, an earlier upload), the item is received and
    verified at once and its processing is deferred: a phone never re-sends bytes the server has.
    """
    if not _SHA256.match(data.sha256):
        raise EvidenceDeclarationInvalid("sha256 must be 64 lowercase hexadecimal characters")
    if data.size is not None and data.size <= 0:
        raise EvidenceDeclarationInvalid("size must be positive: a zero-byte file is not evidence")
    existing = await repo.get_item(data.id, lock=True)
    if existing is not None:
        if not _same_declaration(existing, data):
            raise EvidenceIdReused(f"evidence {data.id} was declared with other content", item_id=str(data.id))
        return Declared(item=await get_item_or_raise(data.id), duplicate=True)
    filename, flag = sanitise_filename(data.filename)
    await repo.insert_item(
        {
            "id": data.id,
            "visit_id": data.visit_id,
            "case_id": data.case_id,
            "kind": data.kind.value,
            "sha256": data.sha256,
            "size": data.size,
            "content_type": data.content_type[:100],
            "capture": data.capture,
            "flags": [msgspec.to_builtins(flag)] if flag else [],
            "filename": filename,
            "declared_by": who.user_id,
            "device_id": who.device_id,
        }
    )
    details = {"sha256": data.sha256, "kind": data.kind.value, "visit_id": str(data.visit_id), "size": data.size}
    await append_custody(data.id, CustodyAction.DECLARED, who, details)
    if await repo.blob_recorded(data.sha256):
        await receive_item(data.id, who, {"from": "blob already stored"}, defer)
    return Declared(item=await get_item_or_raise(data.id), duplicate=False)


async def receive_item(item_id: UUID, who: Who, details: Mapping[str, Any], defer: JobSink) -> bool:
    """Bytes matching the item's sha256 are stored: declared -> received -> verified, processing deferred.

    Idempotent: False (and nothing written) when the item was already past ``declared``.
    """
    row = await repo.get_item(item_id, lock=True)
    if row is None or row["state"] != ItemState.DECLARED.value:
        return False
    size = details.get("size") if isinstance(details.get("size"), int) else row["size"]
    at = now()
    await repo.update_item(item_id, state=ItemState.RECEIVED.value, received_at=at, size=size)
    await append_custody(item_id, CustodyAction.RECEIVED, who, {"sha256": row["sha256"], **details})
    await repo.update_item(item_id, state=ItemState.VERIFIED.value, verified_at=now())
    await append_custody(item_id, CustodyAction.VERIFIED, who, {"sha256": row["sha256"], "algorithm": "sha256"})
    await defer(PROCESS_ITEM, str(item_id))
    return True


async def add_flags(item_id: UUID, flags: list[Flag]) -> None:
    """Add flags to an item (kept once per code)."""
    if not flags:
        return
    row = await repo.get_item(item_id)
    if row is None:
        return
    known = {f["code"] for f in row["flags"]}
    merged = list(row["flags"]) + [msgspec.to_builtins(f) for f in flags if f.code not in known]
    await repo.update_item(item_id, flags=merged)


async def verify_item_chain(item_id: UUID) -> ChainReport:
    """Check an item's custody chain as stored; name the first broken link."""
    await get_item_or_raise(item_id)
    return verify_chain(str(item_id), await repo.list_links([item_id]))


async def list_custody(item_ids: list[UUID]) -> list[Link]:
    """Custody links of items, in chain order."""
    return await repo.list_links(item_ids)


async def record_views(items: list[Item], who: Who, what: str) -> None:
    """Log that ``who`` read these items (``what``: metadata, thumbnail, original, custody)."""
    for item in items:
        await repo.get_item(item.id, lock=True)
        await append_custody(item.id, CustodyAction.VIEWED, who, {"what": what})
