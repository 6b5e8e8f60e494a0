"""The baseline of bench/upload.py: a bare ASGI handler that streams each request body to a file.

Same server (uvicorn, with the settings of ``fieldvisit serve``: access log, proxy headers) and
same client loop as the tus run, nothing else: no auth, no database, no checksum, no verification.
``PATCH /<name>`` with ``Upload-Offset`` writes the body there; with ``X-Fsync: 1`` (sent on the
last chunk by the durable variant) the file is fsynced before answering."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(os.environ.get("BARE_UPLOAD_DIR") or tempfile.mkdtemp(prefix="bare-upload-"))
ROOT.mkdir(parents=True, exist_ok=True)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = dict(scope["headers"])
    offset = int(headers.get(b"upload-offset", b"0"))
    target = ROOT / Path(scope["path"]).name
    fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
    position = offset
    try:
        while True:
            message = await receive()
            body = message.get("body", b"")
            if body:
                os.pwrite(fd, body, position)
                position += len(body)
            if not message.get("more_body"):
                break
        if headers.get(b"x-fsync") == b"1":  # the durable variant: flush the finished file to disk
            os.fsync(fd)
    finally:
        os.close(fd)
    await send({"type": "http.response.start", "status": 204, "headers": [(b"upload-offset", str(position).encode())]})
    await send({"type": "http.response.body", "body": b""})
