"""Webhook use cases: subscribe, fan an event out, deliver it signed, replay. Never commits."""

from __future__ import annotations

import secrets
import time
from typing import Any
from uuid import UUID

import httpx
import msgspec

from api.cases import repository as cases_repo
from api.cases import schemas as case_schemas
from api.db import json_value
from api.queue.runner import defer
from api.webhooks import repository as repo
from api.webhooks import schemas
from api.webhooks.errors import DeliveryNotFound, SubscriptionNotFound, WebhookDeliveryFailed
from api.webhooks.signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

Row = dict[str, Any]
EVENT_NAME = "case.status_changed"
TIMEOUT_S = 10.0


def _subscription(row: Row) -> schemas.Subscription:
    return schemas.Subscription(
        id=row["id"],
        url=row["url"],
        description=row["description"],
        active=bool(row["active"]),
        created_at=row["created_at"],
    )


def _delivery(row: Row) -> schemas.Delivery:
    return schemas.Delivery(
        id=row["id"],
        subscription_id=row["subscription"],
        event_id=row["event"],
        status=row["status"],
        attempts=row["attempts"],
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
    )


async def subscribe(data: schemas.SubscriptionCreate, created_by: UUID | None) -> schemas.SubscriptionCreated:
    """Register a receiver; the secret is returned only here."""
    secret = data.secret or secrets.token_urlsafe(32)
    row = await repo.create_subscription(data.url, secret, data.description, created_by)
    return schemas.SubscriptionCreated(subscription=_subscription(row), secret=secret)


async def list_subscriptions() -> list[schemas.Subscription]:
    """All subscriptions."""
    return [_subscription(r) for r in await repo.list_subscriptions()]


async def deactivate(subscription_id: UUID) -> schemas.Subscription:
    """Stop deliveries to a subscription."""
    if await repo.get_subscription(subscription_id) is None:
        raise SubscriptionNotFound(f"no subscription with id {subscription_id}")
    await repo.deactivate_subscription(subscription_id)
    row = await repo.get_subscription(subscription_id)
    assert row is not None
    return _subscription(row)


async def list_deliveries(subscription_id: UUID, status: str | None, limit: int, offset: int) -> list[schemas.Delivery]:
    """A subscription's delivery log."""
    if await repo.get_subscription(subscription_id) is None:
        raise SubscriptionNotFound(f"no subscription with id {subscription_id}")
    return [_delivery(r) for r in await repo.list_deliveries(subscription_id, status, limit, offset)]


async def replay(delivery_id: UUID) -> schemas.Delivery:
    """Send a delivery again (whatever its status), through the job queue."""
    if await repo.get_delivery(delivery_id) is None:
        raise DeliveryNotFound(f"no delivery with id {delivery_id}")
    await repo.reset_delivery(delivery_id)
    await defer("webhooks.deliver", str(delivery_id))
    row = await repo.get_delivery(delivery_id)
    assert row is not None
    return _delivery(row)


async def fan_out(event_id: int) -> int:
    """Create one delivery per active subscription for an event (once) and defer each."""
    created = 0
    for sub in await repo.list_subscriptions(active_only=True):
        delivery_id = await repo.create_delivery_once(sub["id"], event_id)
        if delivery_id is not None:
            await defer("webhooks.deliver", str(delivery_id))
            created += 1
    return created


def event_body(event: Row) -> bytes:
    """The JSON body a receiver gets for a case event."""
    payload = case_schemas.CaseEvent(
        id=event["id"],
        case_id=event["case"],
        source_ref=event["source_ref"],
        at=event["at"],
        from_status=event["from_status"],
        to_status=event["to_status"],
        reason=event["reason"],
        visit_id=event["visit"],
        data=json_value(event["data"], {}),
    )
    return msgspec.json.encode({"event": EVENT_NAME, "data": payload})


async def load_for_delivery(delivery_id: UUID) -> tuple[Row, Row, Row] | None:
    """The delivery, its subscription and its event, unless already delivered or gone."""
    delivery = await repo.get_delivery(delivery_id)
    if delivery is None or delivery["status"] == "delivered":
        return None
    sub = await repo.get_subscription(delivery["subscription"])
    event = await cases_repo.get_case_event(delivery["event"])
    if sub is None or event is None or not sub["active"]:
        return None
    return delivery, sub, event


async def send(delivery: Row, sub: Row, event: Row) -> tuple[int | None, str]:
    """POST the signed event; returns (status code or None, error text — empty only on a 2xx)."""
    body = event_body(event)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        EVENT_HEADER: EVENT_NAME,
        DELIVERY_HEADER: str(delivery["id"]),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(sub["secret"], timestamp, body),
    }
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False) as client:
            answer = await client.post(sub["url"], content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if 200 <= answer.status_code < 300:
        return answer.status_code, ""
    return answer.status_code, f"HTTP {answer.status_code} {answer.reason_phrase}: {answer.text[:500]}".strip()


def failure(error: str) -> WebhookDeliveryFailed:
    """The error that makes the job retry."""
    return WebhookDeliveryFailed(error)


async def record_attempt(delivery_id: UUID, status: str, status_code: int | None, error: str) -> None:
    """Log one delivery attempt."""
    await repo.record_attempt(delivery_id, status, status_code, error)
