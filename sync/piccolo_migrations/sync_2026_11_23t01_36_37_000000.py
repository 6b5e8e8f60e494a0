"""The feed sequencer's indexes on sync_change (PostgreSQL only); the first design's trigger goes.

See ``sync/feed.py``: rows are numbered after they commit, so reads never wait for unrelated
transactions. Rows written before this migration are numbered by the first sequencer pass.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

from sync.feed import pg_feed_sql

ID = "2026-11-23T01:36:37:000000"
VERSION = "1.38.0"
DESCRIPTION = "sync_change sequencer indexes"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="sync", description=DESCRIPTION)

    async def feed_indexes() -> None:
        engine = engine_finder()
        if isinstance(engine, PostgresEngine):
            for statement in pg_feed_sql("sync_change", "scope"):
                await engine.run_ddl(statement)

    manager.add_raw(feed_indexes)
    return manager
