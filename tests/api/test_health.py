"""``GET /health`` reports the database and the queue."""

from __future__ import annotations

import pytest

from api.settings import get_settings

pytestmark = pytest.mark.embedded


async def test_health_reports_database_and_queue(client):
    answer = await client.get("/health")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["database"] == {
        "ok": True,
        "engine": "postgresql" if get_settings().database.url else "sqlite",
        "detail": "",
    }
    assert body["queue"]["ok"] is True
    assert body["queue"]["backend"] == ("arq" if get_settings().queue.redis_url else "inline")
