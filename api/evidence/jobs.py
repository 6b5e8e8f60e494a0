"""Background jobs of the evidence context, registered by ``api.queue.catalogue``."""

from __future__ import annotations

from api.queue.registry import CronSpec, JobSpec

JOBS: list[JobSpec] = []
CRONS: list[CronSpec] = []
