"""The ``api`` Piccolo app: people, the job outbox and (later) the collection domain."""

import os

from piccolo.conf.apps import AppConfig

from api.people.tables import Device, EnrolmentCode, StaffToken, Team, User
from api.queue.tables import Job

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="api",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=[Team, User, StaffToken, Device, EnrolmentCode, Job],
    migration_dependencies=[],
    commands=[],
)
