"""Test harness: real PostgreSQL + Redis by default, or the embedded default (SQLite, no Redis).

``FIELDVISIT_TEST_MODE=embedded`` selects the embedded run (only tests marked ``embedded``);
otherwise the suite runs on PostgreSQL (``FIELDVISIT_TEST_DATABASE_URL``, default the local
``test`` database) and Redis (``FIELDVISIT_TEST_REDIS_URL``, default db 15). The environment is
fixed here, before any application module reads its settings.
"""

from __future__ import annotations

import os
import tempfile

EMBEDDED = os.environ.get("FIELDVISIT_TEST_MODE") == "embedded"
_DATA_DIR = tempfile.mkdtemp(prefix="fieldvisit-test-")
os.environ["FIELDVISIT_DATA_DIR"] = _DATA_DIR
os.environ.setdefault("FIELDVISIT_JOB_RETRY_BASE", "0.05")
if EMBEDDED:
    os.environ.pop("FIELDVISIT_DATABASE_URL", None)
    os.environ.pop("FIELDVISIT_REDIS_URL", None)
else:
    os.environ["FIELDVISIT_DATABASE_URL"] = os.environ.get(
        "FIELDVISIT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    os.environ["FIELDVISIT_REDIS_URL"] = os.environ.get("FIELDVISIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# No deadlines: the machine is shared and noisy, and a test must never fail on timing.
settings.register_profile("fieldvisit", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("fieldvisit")

pytest_plugins = ["tests.fixtures"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Embedded runs take only tests marked ``embedded``; the default run leaves out ``embedded_only``."""
    keep, drop = [], []
    for item in items:
        marked = item.get_closest_marker("embedded") is not None
        only = item.get_closest_marker("embedded_only") is not None
        (drop if (EMBEDDED and not marked) or (not EMBEDDED and only) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
