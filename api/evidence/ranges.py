"""HTTP Range for downloads (RFC 9110 section 14): one byte range, served from a file in blocks."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from litestar import Response
from litestar.response import Stream

from evidence.errors import RangeNotSatisfiable

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
BLOCK = 1024 * 1024


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (start, end) a Range header asks for, or None for the whole file.

    Several ranges or other units are ignored (the whole file is served, which RFC 9110 allows);
    a range outside the file raises RangeNotSatisfiable."""
    if header is None:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(f"bytes=-{suffix} of a {size}-byte file", size=size)
        return max(0, size - suffix), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable(f"bytes={first}-{last} of a {size}-byte file", size=size)
    return start, end


async def _read(path: Path, start: int, end: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as reader:
        await reader.seek(start)
        left = end - start + 1
        while left > 0:
            block = await reader.read(min(BLOCK, left))
            if not block:
                return
            left -= len(block)
            yield block


def file_response(path: Path, media_type: str, range_header: str | None, filename: str) -> Response[Any]:
    """A 200 (whole) or 206 (one range) streaming response of ``path``, never gzipped."""
    size = path.stat().st_size
    wanted = parse_range(range_header, size)
    start, end = wanted if wanted is not None else (0, size - 1)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(max(0, end - start + 1)),
        "Content-Disposition": f'attachment; filename="{filename}"',
    }
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Stream(
        _read(path, start, end) if size else _empty(),
        media_type=media_type,
        status_code=206 if wanted is not None else 200,
        headers=headers,
    )


async def _empty() -> AsyncIterator[bytes]:
    return
    yield b""
