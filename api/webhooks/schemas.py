"""Wire schemas of webhook subscriptions and deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec


class SubscriptionCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A receiver of case status changes. Without ``secret`` the server makes one (shown once)."""

    url: Annotated[str, msgspec.Meta(min_length=8, max_length=2000, pattern=r"^https?://")]
    secret: Annotated[str, msgspec.Meta(min_length=16, max_length=200)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=200)] = ""


class Subscription(msgspec.Struct):
    """A webhook subscription (its secret is never shown again)."""

    id: UUID
    url: str
    description: str
    active: bool
    created_at: datetime


class SubscriptionCreated(msgspec.Struct):
    """A new subscription with its signing secret, shown only in this answer."""

    subscription: Subscription
    secret: str


class Delivery(msgspec.Struct):
    """One event's delivery to one subscription: attempts and result."""

    id: UUID
    subscription_id: UUID
    event_id: int
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
