"""What the server knows about each device's sync, for the dispatchers' device health view."""

from __future__ import annotations

import time
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


# Device health is telemetry, not accepted data: a device polling with the same cursor need not cost a
# write per pull. Each process remembers what it last wrote per device (monotonic time, cursor, protocol)
# and writes again when the cursor or protocol changed or ``resolution_s`` has passed: dispatchers see a
# new cursor at once and the last pull time at most ``resolution_s`` late. Nothing another process needs
# is kept here (each process decides for the pulls it answers; every one of them writes the same row).
_pulls_written: dict[UUID, tuple[float, str, int]] = {}
_PULLS_REMEMBERED = 100_000  # beyond this, entries older than the resolution are forgotten


def pull_due(device_id: UUID, cursor: str, protocol: int, resolution_s: float) -> bool:
    """True when this pull should be written (see ``record_pull``)."""
    last = _pulls_written.get(device_id)
    return last is None or last[1:] != (cursor, protocol) or time.monotonic() - last[0] >= resolution_s


async def record_pull(
    device_id: UUID, user_id: UUID, at: datetime, cursor: str, protocol: int, resolution_s: float = 0.0
) -> None:
    """A pull was answered: written unless ``pull_due`` says this process wrote the same cursor less than
    ``resolution_s`` ago."""
    if not pull_due(device_id, cursor, protocol, resolution_s):
        return
    await DeviceSyncState.raw(_PULLED_SQL, device_id, user_id, at, cursor, protocol)
    now = time.monotonic()
    if len(_pulls_written) >= _PULLS_REMEMBERED:
        for key in [k for k, (written, _, _) in _pulls_written.items() if now - written >= resolution_s]:
            del _pulls_written[key]
    _pulls_written[device_id] = (now, cursor, protocol)


async def states(device_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    """Sync state of devices, by id."""
    if not device_ids:
        return {}
    rows = await DeviceSyncState.select().where(DeviceSyncState.device_id.is_in(device_ids))
    return {UUID(str(r["device_id"])): r for r in rows}
