"""Background jobs of sync: the periodic feed sequencer (a safety net; writers number their own rows)."""

from __future__ import annotations

from api.cases.tables import CaseEvent
from api.db import is_sqlite
from api.queue.registry import CronSpec, JobSpec
from api.queue.runner import JobContext
from sync.feed import sequence
from sync.tables import SyncChange


async def sequence_feeds(ctx: JobContext) -> None:
    """Number feed rows a writer left unnumbered (killed between its commit and its pass)."""
    if not is_sqlite():
        await sequence(SyncChange)
        await sequence(CaseEvent)


JOBS: list[JobSpec] = []
CRONS = [CronSpec(name="sync.sequence_feeds", fn=sequence_feeds, every_s=10)]
