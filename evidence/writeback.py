"""Starting the writeback of a file's dirty pages early, without waiting for it.

An upload's part file is fsynced once, when the whole file is stored as a blob. If every byte is
still dirty at that moment, that fsync writes the whole file while the client waits for its last
answer. Starting writeback while bytes still arrive leaves it little to do. ``sync_file_range``
with ``SYNC_FILE_RANGE_WRITE`` (Linux) queues the dirty pages for writing and returns: no journal
commit, no wait, so writers of the file are not held up (an ``fdatasync`` here commits the journal
and stalls the next writes). Python's ``os`` does not expose it, so it is called through libc; where
it is missing, ``fdatasync`` stands in. Neither is a durability promise: the blob store's fsync is.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
from collections.abc import Callable
from pathlib import Path

SYNC_FILE_RANGE_WRITE = 2


def _libc_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_sync_file_range = _libc_sync_file_range()


def start_writeback(path: Path, end: int) -> None:
    """Queue the dirty pages of the first ``end`` bytes of ``path`` for writing (blocking briefly at most)."""
    with contextlib.suppress(FileNotFoundError):
        fd = os.open(path, os.O_RDONLY)
        try:
            if _sync_file_range is None or _sync_file_range(fd, 0, end, SYNC_FILE_RANGE_WRITE) != 0:
                os.fdatasync(fd)
        finally:
            os.close(fd)
