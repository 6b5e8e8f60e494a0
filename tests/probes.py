"""Probe routes and a probe job mounted on the real app in tests, to exercise the queue seam."""

from __future__ import annotations

from litestar import post

from api.errors import BadRequest
from api.http import transactional
from api.queue.registry import JobSpec, register
from api.queue.runner import JobContext, defer

RAN: list[str] = []
FAIL_UNTIL_ATTEMPT: dict[str, int] = {}


async def record(ctx: JobContext, marker: str) -> None:
    """Record that the job ran; fail on purpose while ``FAIL_UNTIL_ATTEMPT[marker]`` says so."""
    if ctx.attempt < FAIL_UNTIL_ATTEMPT.get(marker, 0):
        raise RuntimeError(f"probe {marker} fails on attempt {ctx.attempt}")
    RAN.append(marker)


register(JobSpec(name="test.record", fn=record))


@post(
    "/probe/jobs/{marker:str}",
    opt={"exclude_from_auth": True},
    status_code=200,
    include_in_schema=False,
)
@transactional
async def defer_probe_job(marker: str, rollback: bool = False) -> dict[str, int]:
    """Defer the probe job; with ``rollback`` the request fails after deferring it."""
    job_id = await defer("test.record", marker)
    if rollback:
        raise BadRequest("rolled back on purpose")
    return {"job_id": job_id}


PROBE_HANDLERS = [defer_probe_job]
