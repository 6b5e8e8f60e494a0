"""Background jobs of the routing context, registered by ``api.queue.catalogue``."""

from __future__ import annotations

import logging
from uuid import UUID

from api.queue.registry import CronSpec, JobSpec
from api.queue.runner import JobContext
from api.routing import service
from api.routing.inputs import plan_input
from routing.errors import RoutingError

log = logging.getLogger(__name__)


async def compute_plan(ctx: JobContext, plan_id: str) -> None:
    """``routing.plan``: compute a plan or a re-plan (read input, solve outside any transaction, store).

    Idempotent: a plan that is no longer pending or running is left alone. Bad input fails the plan
    with its reason instead of retrying; anything else is retried by the queue.
    """
    pid = UUID(plan_id)
    try:
        async with ctx.transaction():
            data = await plan_input(pid)
        if data is None:
            return
        plan = await service.solve_in_thread(data)
    except RoutingError as exc:
        log.info("plan %s failed: %s", plan_id, exc)
        async with ctx.transaction():
            await service.fail_plan(pid, f"{type(exc).__name__} ({exc.code}): {exc.detail}")
        return
    async with ctx.transaction():
        await service.store_plan(pid, plan, data.skipped)


JOBS: list[JobSpec] = [JobSpec(name="routing.plan", fn=compute_plan, timeout_s=1800.0)]
CRONS: list[CronSpec] = []
