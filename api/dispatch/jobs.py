"""Periodic job of dispatch: the visits the system raises by itself."""

from __future__ import annotations

from api.dispatch.rules import raise_rule_visits
from api.queue.registry import CronSpec, JobSpec
from api.queue.runner import JobContext


async def raise_visits(ctx: JobContext) -> None:
    """Run the 24-hour pressure rule and the lost-contact tracing rule."""
    await raise_rule_visits()


JOBS: list[JobSpec] = []
CRONS = [CronSpec(name="dispatch.raise_rule_visits", fn=raise_visits, every_s=900)]
