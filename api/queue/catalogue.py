"""Every job and periodic job of the application and the engines, registered in one place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.queue.registry import CronSpec, register, register_cron
from api.queue.runner import JobContext
from api.queue.tables import Job

_registered = False


async def prune_finished_jobs(ctx: JobContext) -> None:
    """Delete outbox rows of jobs finished more than 7 days ago (failed ones stay for inspection)."""
    cutoff = datetime.now(UTC) - timedelta(days=7)
    async with ctx.transaction():
        await Job.delete().where((Job.state == "done") & (Job.updated_at < cutoff))


def register_all() -> None:
    """Register every job once per process."""
    global _registered
    if _registered:
        return
    from api.cases import jobs as case_jobs
    from api.dispatch import jobs as dispatch_jobs
    from api.evidence import jobs as evidence_jobs
    from api.outcomes import jobs as outcome_jobs
    from api.qc import jobs as qc_jobs
    from api.routing import jobs as routing_jobs
    from api.sync import jobs as sync_jobs
    from api.webhooks import jobs as webhook_jobs

    modules = (case_jobs, dispatch_jobs, outcome_jobs, qc_jobs, webhook_jobs, sync_jobs, evidence_jobs, routing_jobs)
    for module in modules:
        for spec in module.JOBS:
            register(spec)
        for cron in module.CRONS:
            register_cron(cron)
    register_cron(CronSpec(name="queue.prune_finished", fn=prune_finished_jobs, every_s=3600))
    _registered = True
