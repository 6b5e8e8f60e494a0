"""Piccolo configuration: the one engine of this process and every app that owns tables.

The engine follows ``FIELDVISIT_DATABASE_URL``: PostgreSQL when set, otherwise the embedded SQLite
file under ``FIELDVISIT_DATA_DIR`` (see ``api/settings.py``).
"""

from piccolo.conf.apps import AppRegistry

from api.db import make_engine
from api.settings import get_settings

DB = make_engine(get_settings().database)

APP_REGISTRY = AppRegistry(
    apps=[
        "api.piccolo_app",
        "sync.piccolo_app",
        "evidence.piccolo_app",
        "routing.piccolo_app",
    ]
)
