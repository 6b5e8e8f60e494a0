"""Which jobs exist: a name (``context.verb``) mapped to an async function taking ids."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.queue.runner import JobContext

JobFn = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class JobSpec:
    """A job: ``fn(ctx, *args)`` where args are ids or other plain strings/ints; an attempt that runs
    longer than ``timeout_s`` is cancelled and retried (``api.queue.runner.run_job``)."""

    name: str
    fn: JobFn
    timeout_s: float = 300.0


@dataclass(frozen=True)
class CronSpec:
    """A periodic job: ``fn(ctx)`` every ``every_s`` seconds; must be idempotent."""

    name: str
    fn: Callable[[JobContext], Awaitable[Any]]
    every_s: int


class UnknownJob(LookupError):
    """A job name that no module registered."""


_jobs: dict[str, JobSpec] = {}
_crons: dict[str, CronSpec] = {}


def register(spec: JobSpec) -> JobSpec:
    """Make a job runnable by name (idempotent for the same function)."""
    existing = _jobs.get(spec.name)
    if existing is not None and existing.fn is not spec.fn:
        raise ValueError(f"job {spec.name!r} is registered twice")
    _jobs[spec.name] = spec
    return spec


def register_cron(spec: CronSpec) -> CronSpec:
    """Make a periodic job known to the worker and the in-process scheduler."""
    _crons[spec.name] = spec
    return spec


def get_job(name: str) -> JobSpec:
    """The job registered under ``name``."""
    try:
        return _jobs[name]
    except KeyError:
        raise UnknownJob(name) from None


def all_jobs() -> list[JobSpec]:
    """Every registered job."""
    return list(_jobs.values())


def all_crons() -> list[CronSpec]:
    """Every registered periodic job."""
    return list(_crons.values())
