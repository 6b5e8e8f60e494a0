"""Webhook jobs: ``webhooks.fan_out`` (one delivery per subscription) and ``webhooks.deliver``."""

from __future__ import annotations

from uuid import UUID

from api.queue.registry import CronSpec, JobSpec
from api.queue.runner import JobContext
from api.webhooks import service


async def fan_out(ctx: JobContext, event_id: int) -> None:
    """Create the deliveries of a case event."""
    async with ctx.transaction():
        await service.fan_out(int(event_id))


async def deliver(ctx: JobContext, delivery_id: str) -> None:
    """POST one delivery, signed; a failure raises so the queue retries it with backoff."""
    async with ctx.transaction():
        loaded = await service.load_for_delivery(UUID(delivery_id))
    if loaded is None:
        return
    delivery, sub, event = loaded
    status_code, error = await service.send(delivery, sub, event)  # no transaction held during I/O
    final = ctx.attempt >= ctx.settings.queue.max_attempts
    status = "delivered" if not error else ("failed" if final else "pending")
    async with ctx.transaction():
        await service.record_attempt(delivery["id"], status, status_code, error)
    if error and not final:
        raise service.failure(error)


CRONS: list[CronSpec] = []
JOBS = [
    JobSpec(name="webhooks.fan_out", fn=fan_out, timeout_s=60),
    JobSpec(name="webhooks.deliver", fn=deliver, timeout_s=60),
]
