"""Webhook subscriptions and their delivery log."""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from api.cases.tables import CaseEvent
from api.people.tables import User


class WebhookSubscription(Table, tablename="webhook_subscription"):
    """A URL that receives case events, signed with the subscription's secret (HMAC-SHA256)."""

    id = UUID(primary_key=True)
    url = Varchar(length=2000)
    secret = Varchar(length=200, secret=True)  # needed in clear to sign; never returned by the API
    description = Varchar(length=200, default="")
    active = Boolean(default=True)
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())


class WebhookDelivery(Table, tablename="webhook_delivery"):
    """One event for one subscription: its attempts and result. status: pending | delivered | failed"""

    id = UUID(primary_key=True)
    key = Varchar(length=80, unique=True)  # "<subscription>:<event>": one delivery per pair
    subscription = ForeignKey(references=WebhookSubscription, on_delete=OnDelete.restrict, index=True)
    event = ForeignKey(references=CaseEvent, on_delete=OnDelete.restrict)
    status = Varchar(length=12, default="pending", index=True)
    attempts = Integer(default=0)
    last_status_code = Integer(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    delivered_at = Timestamptz(null=True, default=None)
