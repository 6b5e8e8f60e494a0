"""Tables of the sync engine. Engine tables hold ids of application records as plain UUIDs
(no foreign keys into ``api``), so the engine never depends on the application."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    BigSerial,
    Boolean,
    DoublePrecision,
    Integer,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class SyncChange(Table, tablename="sync_change"):
    """The change feed: something in a user's scope gained, changed or lost an entity.

    Rows point at entities; a pull reads their current state. ``txid`` is stamped by a PostgreSQL
    trigger (see ``sync.feed``) so that a pull never skips a change that commits late.
    """

    id = BigSerial(primary_key=True)
    txid = BigInt(default=0)
    scope = UUID(index=True)  # the user whose devices see this change
    entity = Varchar(length=20)  # visit | conflict
    entity_id = UUID()
    kind = Varchar(length=8)  # upsert | remove
    reason = Varchar(length=40, default="")
    at = Timestamptz(default=TimestamptzNow())


class SyncMutation(Table, tablename="sync_mutation"):
    """Every mutation a device pushed, with the result the server gave it the first time.

    The primary key is the client-generated mutation id: a replay can never be applied twice.
    """

    id = UUID(primary_key=True)
    device_id = UUID(index=True)
    user_id = UUID()
    seq = BigInt()
    type = Varchar(length=40)
    target = UUID(null=True, default=None)
    base_version = Integer(null=True, default=None)
    payload = JSON(default="{}")
    device_time = Timestamptz(null=True, default=None)
    elapsed_ms = BigInt(null=True, default=None)
    lat = DoublePrecision(null=True, default=None)
    lon = DoublePrecision(null=True, default=None)
    accuracy_m = DoublePrecision(null=True, default=None)
    mock_location = Boolean(default=False)
    protocol = Integer(default=1)
    status = Varchar(length=12)  # applied | duplicate | merged | conflict | rejected
    result = JSON(default="{}")
    conflict_id = UUID(null=True, default=None)
    received_at = Timestamptz(default=TimestamptzNow())


class SyncConflict(Table, tablename="sync_conflict"):
    """A mutation the server could not merge: both sides kept for a human to decide.

    kind: soft (a field both sides changed) | hard (the device's work contradicts the server's state).
    status: open | resolved. resolution: take_device | keep_server | merged.
    """

    id = UUID(primary_key=True)
    mutation_id = UUID(index=True)
    device_id = UUID()
    user_id = UUID(index=True)
    team_id = UUID(null=True, default=None, index=True)
    entity = Varchar(length=20)
    entity_id = UUID(index=True)
    kind = Varchar(length=8)
    reason = Varchar(length=60)
    fields = JSON(default="[]")
    device_side = JSON(default="{}")
    server_side = JSON(default="{}")
    status = Varchar(length=10, default="open", index=True)
    resolution = Varchar(length=12, default="")
    resolved_value = JSON(default="{}")
    resolved_by = UUID(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    note = Varchar(length=2000, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class DeviceSyncState(Table, tablename="device_sync_state"):
    """What the server knows about a device's sync: for dispatchers' device health view."""

    device_id = UUID(primary_key=True)
    user_id = UUID(index=True)
    last_pull_at = Timestamptz(null=True, default=None)
    last_push_at = Timestamptz(null=True, default=None)
    cursor = Varchar(length=60, default="")
    last_seq = BigInt(default=0)
    last_fix_at = Timestamptz(null=True, default=None)
    protocol = Integer(default=1)
    app_version = Varchar(length=40, default="")
