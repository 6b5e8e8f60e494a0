"""Conflicts kept for humans: listing them and recording a resolution atomically.

What a resolution *does* to the domain (apply the device's outcome, write a merged value) is the
application's business: ``resolve`` calls the ``apply`` it is given inside the caller's transaction,
then marks the conflict resolved and puts it in the device user's feed, so the next pull carries it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from piccolo.engine.sqlite import SQLiteEngine

from sync import changes
from sync.errors import ConflictAlreadyResolved, ConflictNotFound
from sync.tables import SyncConflict

Row = dict[str, Any]
Apply = Callable[[Row, str, dict[str, Any]], Awaitable[dict[str, Any]]]
RESOLUTIONS = ("take_device", "keep_server", "merged")


async def get_or_raise(conflict_id: UUID, *, lock: bool = False) -> Row:
    """A conflict by id."""
    query = SyncConflict.select().where(SyncConflict.id == conflict_id)
    if lock and not isinstance(SyncConflict._meta.db, SQLiteEngine):
        query = query.lock_rows("NO KEY UPDATE")
    row = await query.first()
    if row is None:
        raise ConflictNotFound(f"no conflict with id {conflict_id}")
    return row


async def list_conflicts(
    *, team_id: UUID | None, status: str | None, user_id: UUID | None, entity_id: UUID | None, limit: int, offset: int
) -> list[Row]:
    """Conflicts, newest first."""
    query = SyncConflict.select().order_by(SyncConflict.created_at, ascending=False).limit(limit).offset(offset)
    if team_id is not None:
        query = query.where(SyncConflict.team_id == team_id)
    if status is not None:
        query = query.where(SyncConflict.status == status)
    if user_id is not None:
        query = query.where(SyncConflict.user_id == user_id)
    if entity_id is not None:
        query = query.where(SyncConflict.entity_id == entity_id)
    return await query


async def count_open(device_ids: list[UUID]) -> dict[UUID, int]:
    """Open conflicts per device."""
    if not device_ids:
        return {}
    rows = await SyncConflict.select(SyncConflict.device_id).where(
        SyncConflict.device_id.is_in(device_ids) & (SyncConflict.status == "open")
    )
    counts: dict[UUID, int] = {}
    for row in rows:
        key = UUID(str(row["device_id"]))
        counts[key] = counts.get(key, 0) + 1
    return counts


async def resolve(conflict_id: UUID, resolution: str, value: dict[str, Any], by: UUID, note: str, apply: Apply) -> Row:
    """Resolve an open conflict: apply the decision, record it, and tell the device's user."""
    conflict = await get_or_raise(conflict_id, lock=True)
    if conflict["status"] != "open":
        raise ConflictAlreadyResolved(f"conflict {conflict_id} was resolved as {conflict['resolution']}")
    applied = await apply(conflict, resolution, value)
    await SyncConflict.update(
        {
            SyncConflict.status: "resolved",
            SyncConflict.resolution: resolution,
            SyncConflict.resolved_value: applied,
            SyncConflict.resolved_by: by,
            SyncConflict.resolved_at: datetime.now(UTC),
            SyncConflict.note: note,
        }
    ).where(SyncConflict.id == conflict_id)
    await changes.append(UUID(str(conflict["user_id"])), "conflict", conflict_id, changes.UPSERT, resolution)
    return await get_or_raise(conflict_id)


async def get_many(conflict_ids: list[UUID]) -> list[Row]:
    """Conflicts by id."""
    if not conflict_ids:
        return []
    return await SyncConflict.select().where(SyncConflict.id.is_in(conflict_ids))
