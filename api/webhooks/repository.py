"""Every query of webhook subscriptions and deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from api.webhooks.tables import WebhookDelivery, WebhookSubscription

Row = dict[str, Any]


async def create_subscription(url: str, secret: str, description: str, created_by: UUID | None) -> Row:
    """Insert a subscription."""
    sub = WebhookSubscription(url=url, secret=secret, description=description, created_by=created_by)
    await sub.save()
    return sub.to_dict()


async def get_subscription(subscription_id: UUID) -> Row | None:
    """A subscription (with its secret: for signing only)."""
    return await WebhookSubscription.select().where(WebhookSubscription.id == subscription_id).first()


async def list_subscriptions(active_only: bool = False) -> list[Row]:
    """Subscriptions, oldest first."""
    query = WebhookSubscription.select().order_by(WebhookSubscription.created_at)
    if active_only:
        query = query.where(WebhookSubscription.active == True)  # noqa: E712 - Piccolo expression
    return await query


async def deactivate_subscription(subscription_id: UUID) -> None:
    """Stop delivering to a subscription (its log stays)."""
    await WebhookSubscription.update({WebhookSubscription.active: False}).where(
        WebhookSubscription.id == subscription_id
    )


async def create_delivery_once(subscription_id: UUID, event_id: int) -> UUID | None:
    """Insert the delivery of an event to a subscription unless it exists; returns the new id."""
    key = f"{subscription_id}:{event_id}"
    if await WebhookDelivery.exists().where(WebhookDelivery.key == key):
        return None
    delivery = WebhookDelivery(key=key, subscription=subscription_id, event=event_id)
    await delivery.save()
    return UUID(str(delivery.id))


async def get_delivery(delivery_id: UUID) -> Row | None:
    """A delivery."""
    return await WebhookDelivery.select().where(WebhookDelivery.id == delivery_id).first()


async def list_deliveries(subscription_id: UUID, status: str | None, limit: int, offset: int) -> list[Row]:
    """A subscription's deliveries, newest first."""
    query = (
        WebhookDelivery.select()
        .where(WebhookDelivery.subscription == subscription_id)
        .order_by(WebhookDelivery.created_at, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    return await query


async def record_attempt(delivery_id: UUID, status: str, status_code: int | None, error: str) -> None:
    """Write the result of one attempt."""
    values: dict[Any, Any] = {
        WebhookDelivery.status: status,
        WebhookDelivery.attempts: WebhookDelivery.attempts + 1,
        WebhookDelivery.last_status_code: status_code,
        WebhookDelivery.last_error: error[:2000],
    }
    if status == "delivered":
        values[WebhookDelivery.delivered_at] = datetime.now(UTC)
    await WebhookDelivery.update(values).where(WebhookDelivery.id == delivery_id)


async def reset_delivery(delivery_id: UUID) -> None:
    """Put a delivery back to pending for a replay."""
    await WebhookDelivery.update({WebhookDelivery.status: "pending"}).where(WebhookDelivery.id == delivery_id)
