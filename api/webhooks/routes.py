"""HTTP doors of webhooks (admins)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import Parameter

from api.auth import allow
from api.http import Offset, errors, transactional
from api.people.roles import Principal, Role
from api.webhooks import schemas, service
from api.webhooks.errors import DeliveryNotFound, SubscriptionNotFound

Limit = Annotated[int, Parameter(ge=1, le=500, description="page size")]


class WebhookController(Controller):
    """Receivers of case status changes. Each delivery is a POST of ``{"event": "case.status_changed",
    "data": CaseEvent}`` with headers ``X-Fieldvisit-Timestamp`` and ``X-Fieldvisit-Signature:
    sha256=HMAC_SHA256(secret, "<timestamp>." + body)``; failures are retried with exponential backoff."""

    path = "/v1/webhooks"
    tags = ["webhooks"]
    guards = [allow(Role.ADMIN)]

    @post("/")
    @transactional
    async def subscribe(self, data: schemas.SubscriptionCreate, principal: Principal) -> schemas.SubscriptionCreated:
        """Register a receiver. The signing secret is shown only in this answer."""
        return await service.subscribe(data, principal.user_id)

    @get("/")
    async def list_subscriptions(self) -> list[schemas.Subscription]:
        """All receivers."""
        return await service.list_subscriptions()

    @post("/{subscription_id:uuid}/deactivate", status_code=200, responses=errors(SubscriptionNotFound))
    @transactional
    async def deactivate(self, subscription_id: UUID) -> schemas.Subscription:
        """Stop deliveries to a receiver (its delivery log stays)."""
        return await service.deactivate(subscription_id)

    @get("/{subscription_id:uuid}/deliveries", responses=errors(SubscriptionNotFound))
    async def deliveries(
        self, subscription_id: UUID, status: str | None = None, limit: Limit = 100, offset: Offset = 0
    ) -> list[schemas.Delivery]:
        """The delivery log: attempts, last status code and error, delivery time."""
        return await service.list_deliveries(subscription_id, status, limit, offset)

    @post("/deliveries/{delivery_id:uuid}/replay", status_code=200, responses=errors(DeliveryNotFound))
    @transactional
    async def replay(self, delivery_id: UUID) -> schemas.Delivery:
        """Send a delivery again, whatever its status."""
        return await service.replay(delivery_id)


ROUTES: list[Any] = [WebhookController]
