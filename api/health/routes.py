"""``GET /health``."""

from __future__ import annotations

from litestar import get
from litestar.response import Response

from api.health import service
from api.health.service import Health


@get("/health", opt={"exclude_from_auth": True}, security=[{}], tags=["health"])
async def health() -> Response[Health]:
    """Report whether the database and the job queue answer (503 when one does not). No token needed."""
    report = await service.check()
    return Response(report, status_code=200 if report.status == "ok" else 503)
