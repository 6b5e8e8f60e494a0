"""Errors of webhooks (codes x.45 to x.49)."""

from __future__ import annotations

from api.errors import DomainError


class SubscriptionNotFound(DomainError):
    """No webhook subscription has this id."""

    code = "404.45"
    status_code = 404


class DeliveryNotFound(DomainError):
    """No webhook delivery has this id."""

    code = "404.46"
    status_code = 404


class WebhookDeliveryFailed(DomainError):
    """The receiver did not accept the delivery; it will be retried with backoff."""

    code = "502.45"
    status_code = 502
