"""Phones for sync tests: reference device clients talking to the real app stack in this process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from sync.client import DeviceClient, LocalStore
from tests.builders import Actor

PhoneFactory = Callable[[Actor], DeviceClient]


@pytest.fixture
async def phones(app: Litestar, client: httpx.AsyncClient, tmp_path: Path) -> AsyncIterator[PhoneFactory]:
    """Make a reference client for a collector's device (its own local SQLite store)."""
    made: list[DeviceClient] = []

    def make(actor: Actor, name: str | None = None) -> DeviceClient:
        store = LocalStore(tmp_path / f"{name or actor.username}.sqlite3")
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fieldvisit.test")
        phone = DeviceClient("http://fieldvisit.test", actor.token, store, http=http, backoff_s=0.01)
        phone._owns_http = True
        made.append(phone)
        return phone

    yield make
    for phone in made:
        await phone.close()
        phone.store.close()


def near(lat: float = 31.2304, lon: float = 121.4737, mock: bool = False) -> dict[str, object]:
    """A location fix a few metres from the builders' default address."""
    return {"lat": lat + 0.00005, "lon": lon, "accuracy_m": 8.0, "mock": mock}
