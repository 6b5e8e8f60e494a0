"""Every query of the evidence engine. Evidence rows are inserted, moved forward, never deleted."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from evidence.custody import Link, canonical_json, utc_text
from evidence.tables import (
    Blob,
    CustodyEvent,
    Derivative,
    EvidenceItem,
    Export,
    ExportDownload,
    SignedAgreement,
    Upload,
)

Row = dict[str, Any]


def _json(value: Any) -> Any:
    """JSON columns come back as text (SQLite, PostgreSQL ``json``) or already decoded."""
    return json.loads(value) if isinstance(value, str) else value


def _sqlite() -> bool:
    return bool(EvidenceItem._meta.db.engine_type == "sqlite")


# --- blobs ---------------------------------------------------------------------------------------


async def blob_recorded(sha256: str) -> bool:
    """True if the blob table lists ``sha256``."""
    return bool(await Blob.exists().where(Blob.sha256 == sha256))


async def record_blob(sha256: str, size: int) -> None:
    """List a stored blob (once)."""
    await Blob.insert(Blob(sha256=sha256, size=size)).on_conflict(action="DO NOTHING")


# --- items ---------------------------------------------------------------------------------------


def item_row(row: Row) -> Row:
    """Decode an item row's JSON columns."""
    return {**row, "capture": _json(row["capture"]), "media": _json(row["media"]), "flags": _json(row["flags"])}


async def get_item(item_id: UUID, *, lock: bool = False) -> Row | None:
    """An item; with ``lock`` the row stays locked until the transaction ends (PostgreSQL)."""
    query = EvidenceItem.select().where(EvidenceItem.id == item_id)
    if lock and not _sqlite():
        query = query.lock_rows()
    row = await query.first()
    return item_row(row) if row is not None else None


async def insert_item(values: Row) -> None:
    """Insert a declared item."""
    row = dict(values)
    for key in ("capture", "media", "flags"):
        if key in row:
            row[key] = canonical_json(row[key])
    await EvidenceItem.insert(EvidenceItem(**row))


async def update_item(item_id: UUID, **values: Any) -> None:
    """Move an item forward (state, timestamps, media facts, flags); the engine's own writes only."""
    changes: dict[Any, Any] = {}
    for key, value in values.items():
        column = getattr(EvidenceItem, key)
        changes[column] = canonical_json(value) if key in ("media", "flags", "capture") else value
    await EvidenceItem.update(changes).where(EvidenceItem.id == item_id)


async def list_items(visit_ids: list[UUID] | None = None, item_ids: list[UUID] | None = None) -> list[Row]:
    """Items of some visits, or some items by id, oldest first."""
    query = EvidenceItem.select().order_by(EvidenceItem.declared_at).order_by(EvidenceItem.id)
    if visit_ids is not None:
        query = query.where(EvidenceItem.visit_id.is_in(visit_ids or [UUID(int=0)]))
    if item_ids is not None:
        query = query.where(EvidenceItem.id.is_in(item_ids or [UUID(int=0)]))
    return [item_row(r) for r in await query]


async def list_waiting_for_blob(sha256: str) -> list[Row]:
    """Declared items whose bytes are this blob."""
    rows = await EvidenceItem.select().where((EvidenceItem.sha256 == sha256) & (EvidenceItem.state == "declared"))
    return [item_row(r) for r in rows]


# --- derivatives ---------------------------------------------------------------------------------


async def insert_derivative(item_id: UUID, values: Row) -> None:
    """Record a derived file of an item (once per role)."""
    row = {**values, "parents": canonical_json(values["parents"]), "recipe": canonical_json(values["recipe"])}
    await Derivative.insert(Derivative(key=f"{item_id}:{values['role']}", item_id=item_id, **row)).on_conflict(
        action="DO NOTHING"
    )


async def list_derivatives(item_ids: list[UUID]) -> list[Row]:
    """Derived files of the given items."""
    if not item_ids:
        return []
    rows = await Derivative.select().where(Derivative.item_id.is_in(item_ids)).order_by(Derivative.id)
    return [{**r, "parents": _json(r["parents"]), "recipe": _json(r["recipe"])} for r in rows]


# --- custody -------------------------------------------------------------------------------------


def _link(row: Row) -> Link:
    return Link(
        item_id=str(row["item_id"]),
        seq=int(row["seq"]),
        action=str(row["action"]),
        at=row["at"],
        actor_id=str(row["actor_id"]) if row["actor_id"] is not None else None,
        device_id=str(row["device_id"]) if row["device_id"] is not None else None,
        address=str(row["address"]),
        details=_json(row["details"]),
        prev_hash=str(row["prev_hash"]),
        hash=str(row["hash"]),
    )


async def last_link(item_id: UUID) -> Link | None:
    """The newest link of an item's chain."""
    row = (
        await CustodyEvent.select()
        .where(CustodyEvent.item_id == item_id)
        .order_by(CustodyEvent.seq, ascending=False)
        .first()
    )
    return _link(_with_text_time(row)) if row is not None else None


async def insert_link(link: Link, at: datetime) -> None:
    """Append a link (the unique link key refuses a second link with the same sequence number)."""
    await CustodyEvent.insert(
        CustodyEvent(
            link_key=f"{link.item_id}:{link.seq}",
            item_id=UUID(link.item_id),
            seq=link.seq,
            action=link.action,
            at=at,
            actor_id=UUID(link.actor_id) if link.actor_id else None,
            device_id=UUID(link.device_id) if link.device_id else None,
            address=link.address,
            details=canonical_json(dict(link.details)),
            prev_hash=link.prev_hash,
            hash=link.hash,
        )
    )


def _with_text_time(row: Row) -> Row:
    return {**row, "at": utc_text(row["at"])}


async def list_links(item_ids: list[UUID]) -> list[Link]:
    """Custody links of the given items, by item then sequence (the stored order)."""
    if not item_ids:
        return []
    rows = (
        await CustodyEvent.select()
        .where(CustodyEvent.item_id.is_in(item_ids))
        .order_by(CustodyEvent.item_id)
        .order_by(CustodyEvent.seq)
    )
    return [_link(_with_text_time(r)) for r in rows]


# --- uploads -------------------------------------------------------------------------------------


async def insert_upload(values: Row) -> None:
    """Insert an upload."""
    await Upload.insert(Upload(**values))


async def get_upload(upload_id: UUID) -> Row | None:
    """An upload by id."""
    return await Upload.select().where(Upload.id == upload_id).first()


async def finish_upload(upload_id: UUID, state: str, at: datetime, reason: str = "") -> bool:
    """Close an open upload (complete, rejected, terminated, expired); False if it was not open."""
    rows = (
        await Upload.update({Upload.state: state, Upload.finished_at: at, Upload.reason: reason})
        .where((Upload.id == upload_id) & (Upload.state == "open"))
        .returning(Upload.id)
    )
    return bool(rows)


async def extend_upload(upload_id: UUID, expires_at: datetime) -> None:
    """Push an open upload's expiry back (each chunk keeps it alive)."""
    await Upload.update({Upload.expires_at: expires_at}).where(Upload.id == upload_id)


async def list_expired_uploads(now: datetime, limit: int = 500) -> list[UUID]:
    """Open uploads past their expiry."""
    rows = await Upload.select(Upload.id).where((Upload.state == "open") & (Upload.expires_at < now)).limit(limit)
    return [r["id"] for r in rows]


async def list_upload_states(upload_ids: list[UUID]) -> dict[UUID, str]:
    """State of each known upload id."""
    if not upload_ids:
        return {}
    rows = await Upload.select(Upload.id, Upload.state).where(Upload.id.is_in(upload_ids))
    return {r["id"]: r["state"] for r in rows}


# --- agreements ----------------------------------------------------------------------------------


async def get_agreement(agreement_id: UUID, *, lock: bool = False) -> Row | None:
    """A signed agreement."""
    query = SignedAgreement.select().where(SignedAgreement.id == agreement_id)
    if lock and not _sqlite():
        query = query.lock_rows()
    return await query.first()


async def insert_agreement(values: Row) -> None:
    """Insert a signed agreement."""
    await SignedAgreement.insert(SignedAgreement(**values))


async def set_agreement_document(agreement_id: UUID, document_item_id: UUID) -> None:
    """Tie the rendered document to its agreement."""
    await SignedAgreement.update({SignedAgreement.document_item_id: document_item_id}).where(
        SignedAgreement.id == agreement_id
    )


async def list_agreements(visit_ids: list[UUID] | None = None, signature_item_id: UUID | None = None) -> list[Row]:
    """Agreements of some visits, or those signed with one signature item."""
    query = SignedAgreement.select().order_by(SignedAgreement.created_at)
    if visit_ids is not None:
        query = query.where(SignedAgreement.visit_id.is_in(visit_ids or [UUID(int=0)]))
    if signature_item_id is not None:
        query = query.where(SignedAgreement.signature_item_id == signature_item_id)
    return list(await query)


# --- exports -------------------------------------------------------------------------------------


async def insert_export(values: Row) -> None:
    """Insert a requested export."""
    await Export.insert(Export(**{**values, "visit_ids": canonical_json([str(v) for v in values["visit_ids"]])}))


async def get_export(export_id: UUID) -> Row | None:
    """An export."""
    row = await Export.select().where(Export.id == export_id).first()
    if row is None:
        return None
    return {**row, "visit_ids": [UUID(v) for v in _json(row["visit_ids"])], "notes": _json(row["notes"])}


async def finish_export(export_id: UUID, values: Row) -> None:
    """Record the finished (or failed) export."""
    changes: dict[Any, Any] = {
        getattr(Export, k): (canonical_json(v) if k == "notes" else v) for k, v in values.items()
    }
    await Export.update(changes).where(Export.id == export_id)


async def log_export_download(export_id: UUID, user_id: UUID, address: str, byte_range: str) -> None:
    """Log one download of an export."""
    await ExportDownload.insert(
        ExportDownload(export_id=export_id, user_id=user_id, address=address[:64], byte_range=byte_range[:80])
    )


async def list_export_downloads(export_id: UUID) -> list[Row]:
    """Downloads of an export, oldest first."""
    return list(await ExportDownload.select().where(ExportDownload.export_id == export_id).order_by(ExportDownload.id))
