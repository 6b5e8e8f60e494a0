"""The ``routing`` Piccolo app: the engine's own tables and migrations."""

import os

from piccolo.conf.apps import AppConfig

from routing.tables import CollectorProfile, RoutePlan

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="routing",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[RoutePlan, CollectorProfile],
    migration_dependencies=[],
    commands=[],
)
