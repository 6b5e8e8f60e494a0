"""Periodic job of outcomes: settle promises whose date has passed."""

from __future__ import annotations

import logging
from datetime import date

from api.outcomes import decisions
from api.outcomes import repository as repo
from api.queue.registry import CronSpec, JobSpec
from api.queue.runner import JobContext

log = logging.getLogger(__name__)


async def check_promises(ctx: JobContext, today: date | None = None) -> dict[str, int]:
    """Each open promise past its date becomes kept or broken (a broken one raises a visit)."""
    counts = {"kept": 0, "broken": 0}
    for promise in await repo.list_due_promises(today or date.today(), limit=5000):
        async with ctx.transaction():
            status = await decisions.resolve_due_promise(promise["id"])
        if status in counts:
            counts[status] += 1
    if any(counts.values()):
        log.info("promises settled: %s", counts)
    return counts


JOBS: list[JobSpec] = []
CRONS = [CronSpec(name="outcomes.check_promises", fn=check_promises, every_s=3600)]
