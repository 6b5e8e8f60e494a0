"""The reference device client: queue mutations offline, push them with retry and backoff, pull changes.

Nothing here is clever on purpose; it is the protocol, spelled out:
- a mutation gets its id and sequence number when it is made, and stays in the outbox until the
  server answered for it; a retried push re-sends the same ids, so the server applies each once;
- a rejection marked ``retryable`` stays in the outbox; every other answer is final;
- a pull page is applied and the cursor stored in one local transaction.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from sync.client.store import LocalStore
from sync.protocol import CURRENT

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class SyncUnavailable(Exception):
    """The server could not be reached (or kept failing) after every retry."""


class PushFailed(Exception):
    """The server refused the whole push (e.g. the app must be upgraded, the device was revoked)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.body = status, body
        super().__init__(f"{status}: {body.get('error')} ({body.get('code')}): {body.get('detail')}")


class DeviceClient:
    """One enrolled phone speaking the sync protocol."""

    def __init__(
        self,
        base_url: str,
        token: str,
        store: LocalStore,
        *,
        protocol: int = CURRENT,
        app_version: str = "reference-1.0",
        http: httpx.AsyncClient | None = None,
        attempts: int = 6,
        backoff_s: float = 0.2,
        timeout_s: float = 30.0,
    ) -> None:
        self.store = store
        self.protocol = protocol
        self.attempts, self.backoff_s = attempts, backoff_s
        headers = {"Authorization": f"Bearer {token}", "X-App-Version": app_version}
        self.http = http or httpx.AsyncClient(base_url=base_url, timeout=timeout_s)
        self.http.headers.update(headers)
        self._owns_http = http is None
        self._last_sync: float | None = None  # monotonic: device clocks cannot be trusted

    async def __aenter__(self) -> DeviceClient:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP client (the store stays open: it belongs to the caller)."""
        if self._owns_http:
            await self.http.aclose()

    # --- making changes offline --------------------------------------------------------------

    def enqueue(
        self,
        type: str,
        target: uuid.UUID | str | None,
        payload: dict[str, Any],
        *,
        base_version: int | None = None,
        location: dict[str, Any] | None = None,
        device_time: datetime | None = None,
        mutation_id: uuid.UUID | None = None,
    ) -> str:
        """Record a change in the outbox (works offline); returns the mutation id."""
        mutation: dict[str, Any] = {
            "id": str(mutation_id or uuid.uuid4()),
            "type": type,
            "target": str(target) if target is not None else None,
            "base_version": base_version,
            "device_time": (device_time or datetime.now(UTC)).isoformat(),
            "elapsed_ms": int((time.monotonic() - self._last_sync) * 1000) if self._last_sync else None,
            "location": location,
            "payload": payload,
        }
        self.store.add_to_outbox(mutation)
        return str(mutation["id"])

    def visit_version(self, visit_id: uuid.UUID | str) -> int | None:
        """The version of a visit as the device knows it (the base of a change made now)."""
        visit = self.store.visits().get(str(visit_id))
        return int(visit["version"]) if visit else None

    # --- talking to the server ---------------------------------------------------------------

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(self.attempts):
            try:
                answer = await self.http.request(method, url, **kwargs)
            except httpx.TransportError:
                answer = None
            if answer is not None and answer.status_code not in RETRYABLE_STATUS:
                return answer
            if attempt + 1 < self.attempts:
                delay = self.backoff_s * (2**attempt) * (0.5 + random.random())  # noqa: S311 - jitter
                await asyncio.sleep(min(delay, 10.0))
        raise SyncUnavailable(f"{method} {url} failed after {self.attempts} attempts")

    async def push(self, batch_size: int = 100) -> list[dict[str, Any]]:
        """Send the outbox in batches until it is empty (or only retryable rejections remain)."""
        received: list[dict[str, Any]] = []
        while True:
            batch = self.store.pending(batch_size)
            if not batch:
                return received
            answer = await self._request("POST", "/v1/sync/push", json={"protocol": self.protocol, "mutations": batch})
            if answer.status_code != 200:
                raise PushFailed(answer.status_code, answer.json())
            results = answer.json()["results"]
            final = [r for r in results if not (r.get("error") or {}).get("retryable")]
            self.store.acknowledge(final)
            received += results
            self._last_sync = time.monotonic()
            if len(final) < len(results):  # the server asked to retry some later: stop for now
                return received

    async def pull(self, limit: int = 200, idle_rounds: int = 5) -> int:
        """Pull every page after the stored cursor; returns how many visits changed or left.

        An empty page that says ``has_more`` means changes are being committed right now: wait a little
        and ask again, at most ``idle_rounds`` times in a row (the rest comes with the next sync).
        """
        touched, idle = 0, 0
        while True:
            params: dict[str, Any] = {"protocol": self.protocol, "limit": limit}
            if self.store.cursor:
                params["cursor"] = self.store.cursor
            answer = await self._request("GET", "/v1/sync/pull", params=params)
            if answer.status_code != 200:
                raise PushFailed(answer.status_code, answer.json())
            page = answer.json()
            self.store.apply_page(page)
            changed = len(page["visits"]) + len(page["removals"]) + len(page["conflicts"])
            touched += len(page["visits"]) + len(page["removals"])
            self._last_sync = time.monotonic()
            idle = 0 if changed else idle + 1
            if not page["has_more"] or idle >= idle_rounds:
                return touched
            if not changed:
                await asyncio.sleep(self.backoff_s * idle)

    async def sync(self) -> None:
        """Push what was done offline, then pull what changed."""
        await self.push()
        await self.pull()

    @staticmethod
    async def enrol(
        base_url: str, code: str, *, label: str = "reference client", app_version: str = "reference-1.0"
    ) -> dict[str, Any]:
        """Redeem an enrolment code; returns ``{"device_id", "user_id", "token"}``."""
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            answer = await http.post(
                "/v1/devices/enrol", json={"code": code, "label": label, "app_version": app_version}
            )
            if answer.status_code != 201:
                raise PushFailed(answer.status_code, answer.json())
            enrolled: dict[str, Any] = answer.json()
            return enrolled
