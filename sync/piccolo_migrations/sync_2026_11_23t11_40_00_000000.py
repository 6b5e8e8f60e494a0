"""sync_change's numbered indexes leave NULLs out; unnumbered rows are indexed by scope (PostgreSQL only).

See ``sync.feed.pg_scoped_feed_sql``: fewer index entries per feed row, and a pull's check for unnumbered rows
of its scope visits that scope's entries only."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

from sync.feed import pg_scoped_feed_sql

ID = "2026-11-23T11:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync_change: numbered indexes without NULLs, unnumbered rows by scope"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="sync", description=DESCRIPTION)

    async def scope_index() -> None:
        engine = engine_finder()
        if isinstance(engine, PostgresEngine):
            for statement in pg_scoped_feed_sql("sync_change", "scope"):
                await engine.run_ddl(statement)

    manager.add_raw(scope_index)
    return manager
