"""Evidence tests defer processing jobs: each test drains them before the next one cleans the database
(on SQLite an in-process job still running would hold the writer lock)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fixtures import DrainJobs


@pytest.fixture(autouse=True)
async def _drain_after(drain_jobs: DrainJobs) -> AsyncIterator[None]:
    yield
    await drain_jobs()
