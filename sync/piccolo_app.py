"""The ``sync`` Piccolo app: the engine's own tables and migrations."""

import os

from piccolo.conf.apps import AppConfig

from sync.tables import DeviceSyncState, SyncChange, SyncConflict, SyncMutation

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="sync",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[SyncChange, SyncMutation, SyncConflict, DeviceSyncState],
    migration_dependencies=[],
    commands=[],
)
