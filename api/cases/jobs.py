"""Background jobs of the cases context, registered by ``api.queue.catalogue``."""

from __future__ import annotations

from api.queue.registry import CronSpec, JobSpec

JOBS: list[JobSpec] = []
CRONS: list[CronSpec] = []
