"""Periodic job of quality control: draw last month's sample (idempotent, so daily is fine)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.qc.service import sample_month
from api.queue.registry import CronSpec, JobSpec
from api.queue.runner import JobContext


def previous_month(now: datetime) -> str:
    """YYYY-MM of the month before ``now``."""
    first = now.replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


async def sample_previous_month(ctx: JobContext) -> None:
    """Draw the QC sample of the month that just ended."""
    async with ctx.transaction():
        await sample_month(previous_month(datetime.now(UTC)), ctx.settings.compliance.qc_sample_share)


JOBS: list[JobSpec] = []
CRONS = [CronSpec(name="qc.sample_previous_month", fn=sample_previous_month, every_s=86400)]
