"""The baseline of bench/upload.py: a bare ASGI handler that streams each request body to a file.

Same server (uvicorn, with the settings of ``fieldvisit serve``: access log, proxy headers) and
same client loop as the tus run, nothing else: no auth, no database, no checksum, no verification.
``PATCH /<name>`` with ``Upload-Offset`` writes the body there; with ``X-Fsync: 1`` (sent on the
last chunk by the durable variant) the file is fsynced before answering. With ``X-Sha256: 1`` (the
hashing variant) each piece also goes through a running sha256 per file, kept in memory between
chunks like tus's whole-file hash: what the verification tus owes costs with nothing else around it."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(os.environ.get("BARE_UPLOAD_DIR") or tempfile.mkdtemp(prefix="bare-upload-"))
ROOT.mkdir(parents=True, exist_ok=True)
_HASHES: dict[str, hashlib._Hash] = {}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = dict(scope["headers"])
    offset = int(headers.get(b"upload-offset", b"0"))
    target = ROOT / Path(scope["path"]).name
    digest = _HASHES.setdefault(target.name, hashlib.sha256()) if headers.get(b"x-sha256") == b"1" else None
    fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
    position = offset
    try:
        while True:
            message = await receive()
            body = message.get("body", b"")
            if body:
                os.pwrite(fd, body, position)
                if digest is not None:
                    digest.update(body)
                position += len(body)
            if not message.get("more_body"):
                break
        if headers.get(b"x-fsync") == b"1":  # the durable variant: flush the finished file to disk
            os.fsync(fd)
        if digest is not None and headers.get(b"x-last") == b"1":
            digest.hexdigest()  # what tus compares with the declared hash
            del _HASHES[target.name]
    finally:
        os.close(fd)
    await send({"type": "http.response.start", "status": 204, "headers": [(b"upload-offset", str(position).encode())]})
    await send({"type": "http.response.body", "body": b""})
