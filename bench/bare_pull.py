"""The baseline of bench/sync_pull.py: a minimal Litestar handler serving a precomputed pull answer.

Same framework, same compression settings as the real app (gzip level 6 above 1 KiB), same server
(uvicorn with the same options), same client. No auth, no database, no encoding: the framework's
ceiling for answers of that size. ``BARE_PULL_FILE`` names the bytes to serve."""

from __future__ import annotations

import os
from pathlib import Path

from litestar import Litestar, Response, get
from litestar.config.compression import CompressionConfig

PAYLOAD = Path(os.environ["BARE_PULL_FILE"]).read_bytes()
MEDIA_TYPE = os.environ.get("BARE_PULL_MEDIA_TYPE", "application/json")


@get("/v1/sync/pull", sync_to_thread=False)
def pull() -> Response[bytes]:
    """The same bytes every time."""
    return Response(PAYLOAD, media_type=MEDIA_TYPE)


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    """Ready."""
    return {"status": "ok"}


app = Litestar(
    route_handlers=[pull, health],
    compression_config=CompressionConfig(backend="gzip", minimum_size=1024, gzip_compress_level=6),
)
