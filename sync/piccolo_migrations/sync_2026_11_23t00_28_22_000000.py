"""Stamp sync feed rows with their writer's transaction id (PostgreSQL only).

A pull must never skip a change whose transaction commits late: see ``sync/feed.py``. SQLite
serialises writers, so there the stamp stays 0.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

from sync.feed import pg_txid_trigger_sql

ID = "2026-11-23T00:28:22:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync_change.txid trigger"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="sync", description=DESCRIPTION)

    async def stamp_changes_with_txid() -> None:
        engine = engine_finder()
        if isinstance(engine, PostgresEngine):
            for statement in pg_txid_trigger_sql("sync_change", index_prefix="scope, "):
                await engine.run_ddl(statement)

    manager.add_raw(stamp_changes_with_txid)
    return manager
