"""Stamp case events with their writer's transaction id (PostgreSQL only).

The case-status feed must never skip an event whose transaction commits late: see ``sync/feed.py``.
SQLite serialises writers, so there the stamp stays 0.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

from sync.feed import pg_txid_trigger_sql

ID = "2026-11-22T23:31:34:000000"
VERSION = "1.38.0"
DESCRIPTION = "case_event.txid trigger"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="api", description=DESCRIPTION)

    async def stamp_case_events_with_txid() -> None:
        engine = engine_finder()
        if isinstance(engine, PostgresEngine):
            for statement in pg_txid_trigger_sql("case_event"):
                await engine.run_ddl(statement)

    manager.add_raw(stamp_case_events_with_txid)
    return manager
