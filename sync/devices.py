"""What the server knows about each device's sync, for the dispatchers' device health view."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sync.tables import DeviceSyncState


async def _ensure(device_id: UUID, user_id: UUID) -> None:
    await DeviceSyncState.insert(DeviceSyncState(device_id=device_id, user_id=user_id)).on_conflict(action="DO NOTHING")


async def record_push(
    device_id: UUID,
    user_id: UUID,
    at: datetime,
    last_seq: int,
    last_fix: datetime | None,
    protocol: int,
    app_version: str | None,
) -> None:
    """A push arrived."""
    await _ensure(device_id, user_id)
    values: dict[Any, Any] = {DeviceSyncState.last_push_at: at, DeviceSyncState.protocol: protocol}
    row = (
        await DeviceSyncState.select(DeviceSyncState.last_seq, DeviceSyncState.last_fix_at)
        .where(DeviceSyncState.device_id == device_id)
        .first()
    )
    if row is not None and last_seq > int(row["last_seq"]):
        values[DeviceSyncState.last_seq] = last_seq
    if last_fix is not None and (row is None or row["last_fix_at"] is None or last_fix > row["last_fix_at"]):
        values[DeviceSyncState.last_fix_at] = last_fix
    if app_version:
        values[DeviceSyncState.app_version] = app_version[:40]
    await DeviceSyncState.update(values).where(DeviceSyncState.device_id == device_id)


# Written on every pull: one upsert (PostgreSQL and SQLite both speak ON CONFLICT ... DO UPDATE), instead
# of an insert-if-missing and an update composed by the query builder.
_PULLED_SQL = (
    'INSERT INTO device_sync_state (device_id, user_id, last_pull_at, "cursor", protocol) '
    "VALUES ({}, {}, {}, {}, {}) ON CONFLICT (device_id) DO UPDATE SET last_pull_at = excluded.last_pull_at, "
    '"cursor" = excluded."cursor", protocol = excluded.protocol'
)


async def record_pull(device_id: UUID, user_id: UUID, at: datetime, cursor: str, protocol: int) -> None:
    """A pull was answered."""
    await DeviceSyncState.raw(_PULLED_SQL, device_id, user_id, at, cursor, protocol)


async def states(device_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    """Sync state of devices, by id."""
    if not device_ids:
        return {}
    rows = await DeviceSyncState.select().where(DeviceSyncState.device_id.is_in(device_ids))
    return {UUID(str(r["device_id"])): r for r in rows}
