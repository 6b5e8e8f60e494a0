"""Scratch files of uploads in progress: the bytes so far, the acknowledged offset, a writer lock.

``<id>.part`` holds the bytes; ``<id>.offset`` holds how many of them were acknowledged (written
whole and, when the client sent Upload-Checksum, verified). Bytes past that offset are leftovers of
a request that died mid-way and are cut off before the next write. The offset is one fixed-width
record rewritten in place. One writer at a time holds an ``flock`` on the part file: every API
process on the host (or sharing the upload folder) sees it.

Durability rule. Chunks are not fsynced (a background ``fdatasync`` every 8 MB only shortens the
final one): nothing is evidence until the whole file is verified and stored as a blob, which is
fsynced before its rename and before the transaction that records it, and the phone keeps its file
until then. A power cut may therefore lose bytes that were acknowledged with 204, and the offset
record and the part file reach the disk independently. So the offset a resume is given is re-derived
on every HEAD and PATCH as ``min(recorded offset, size of the part file)``: it never exceeds the
bytes actually on disk, and the client re-sends from there (tus lets the server's offset go back).
What was acknowledged and survived is kept; bytes past the recorded offset are cut. If a crash left
bytes that are wrong rather than missing, the whole-file sha256 at completion refuses the upload
(422) and nothing becomes evidence. The running whole-file hash lives in memory only
(:mod:`evidence.hash_feed`); after a restart, or when a chunk went to another process, the
completion re-reads the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

from evidence.errors import UploadBusy, UploadChecksumMismatch, UploadExceedsLength, UploadGone
from evidence.hash_feed import RUNNING, HashFeed, RunningHash
from evidence.tus import Checksum


class ChunkInterrupted(Exception):
    """The client went away in the middle of a chunk; ``kept`` bytes of it were kept."""

    def __init__(self, kept: int) -> None:
        self.kept = kept
        super().__init__(f"chunk interrupted after {kept} bytes")


@dataclass
class UploadFiles:
    """The scratch files of one upload.

    A chunk opens this twice and touches each file: the paths are plain strings (pathlib objects
    cost more to build than the system calls made with them); the Path views are for other callers.
    """

    folder: Path
    upload_id: UUID
    _base: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._base = os.path.join(self.folder, str(self.upload_id))

    @property
    def part(self) -> Path:
        """The bytes received so far."""
        return Path(self._base + ".part")

    @property
    def offset_file(self) -> Path:
        """The acknowledged offset."""
        return Path(self._base + ".offset")

    @property
    def info_file(self) -> Path:
        """The open upload's facts."""
        return Path(self._base + ".info")

    def create(self, info: dict[str, Any]) -> None:
        """Make the empty part file, offset 0, and the upload's facts a PATCH needs (owner, length, hash)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.part.touch(exist_ok=True)
        self._write_offset(0)
        self.write_info(info)

    def write_info(self, info: dict[str, Any]) -> None:
        """Keep the open upload's facts beside its bytes, so a chunk needs no database query."""
        staged = self.info_file.with_suffix(f".info.{os.getpid()}")
        staged.write_bytes(msgspec.json.encode(info))
        os.replace(staged, self.info_file)

    def read_info(self) -> dict[str, Any] | None:
        """The open upload's facts, or None once it is finished (its scratch files are gone)."""
        try:
            info = msgspec.json.decode(_read(self._base + ".info"))
        except (FileNotFoundError, msgspec.DecodeError):
            return None
        return info if isinstance(info, dict) else None

    def exists(self) -> bool:
        """True while the scratch files are there."""
        return os.path.isfile(self._base + ".part")

    def offset(self) -> int:
        """Bytes acknowledged so far and still in the part file (0 if either file is missing).

        Neither file is fsynced per chunk, so after a power cut the recorded offset may run ahead
        of the bytes that reached the disk: the part file's size caps it (see the module doc)."""
        try:
            recorded = int(_read(self._base + ".offset").strip() or 0)
            return min(recorded, os.stat(self._base + ".part").st_size)
        except (FileNotFoundError, ValueError):
            return 0

    def _write_offset(self, offset: int) -> None:
        # One fixed-width record rewritten in place: a rename per chunk costs a millisecond here. A
        # torn write can only lose progress (the whole-file sha256 check catches any wrong offset).
        fd = os.open(self._base + ".offset", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, str(offset).rjust(OFFSET_WIDTH).encode(), 0)
        finally:
            os.close(fd)

    def remove(self) -> None:
        """Delete the scratch files (the blob store keeps its own link to completed bytes)."""
        for path in (self.info_file, self.part, self.offset_file):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    @contextlib.contextmanager
    def locked(self) -> Iterator[int]:
        """Hold the writer lock; yields the part file's descriptor. UploadBusy if another writer holds it."""
        try:
            fd = os.open(self._base + ".part", os.O_RDWR)
        except FileNotFoundError:  # finished, terminated or expired a moment ago
            raise UploadGone(f"upload {self.upload_id} takes no more bytes") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UploadBusy() from None
            yield fd
        finally:
            os.close(fd)  # closing releases the lock

    async def append(
        self, fd: int, start: int, length: int, chunks: AsyncIterator[bytes], checksum: Checksum | None
    ) -> int:
        """Write a request body at ``start`` (the acknowledged offset); return the new offset.

        The body may not run past ``length``. With a checksum the chunk is kept only if it matches
        (UploadChecksumMismatch otherwise, chunk discarded); without one, an interrupted body keeps
        what arrived, as tus recommends, and ChunkInterrupted reports it. Each piece is written as
        it arrives (like a bare handler) and queued for the hashes (see :mod:`evidence.hash_feed`).
        """
        if os.fstat(fd).st_size != start:  # leftovers of a request that died after the last acknowledgement
            os.ftruncate(fd, start)
        chunk_hash = checksum.hasher() if checksum is not None else None
        whole = RUNNING.take(self.upload_id, start)
        feed = whole.feed if whole is not None else HashFeed()
        hashers = tuple(h for h in (chunk_hash, whole.state if whole else None) if h is not None)
        position = start
        try:
            async for data in chunks:
                if position + len(data) > length:
                    raise UploadExceedsLength(f"the body runs past Upload-Length ({length})")
                _write_all(fd, data, position)
                position += len(data)
                if hashers:
                    await feed.add(data, hashers)
            if chunk_hash is not None:
                await feed.settled()
        except ChunkInterrupted:
            kept = start if chunk_hash is not None else position
            self._acknowledge(fd, kept, whole if chunk_hash is None else None)
            raise ChunkInterrupted(kept - start) from None
        except BaseException:
            self._acknowledge(fd, start, None)
            raise
        if checksum is not None and chunk_hash is not None and chunk_hash.digest() != checksum.digest:
            self._acknowledge(fd, start, None)
            raise UploadChecksumMismatch(f"the {checksum.algorithm} of this chunk does not match Upload-Checksum")
        self._acknowledge(fd, position, whole)
        self._sync_in_background(start, position)
        return position

    async def whole_file_sha256(self, length: int) -> str | None:
        """The sha256 of the first ``length`` bytes if this process hashed them on the way in."""
        whole = RUNNING.take(self.upload_id, length)
        return await whole.hexdigest() if whole is not None else None

    def _sync_in_background(self, start: int, end: int) -> None:
        """Flush the part file to disk now and then while bytes still arrive, so the final fsync
        (before the blob is acknowledged) finds little left to write."""
        if start // SYNC_EVERY == end // SYNC_EVERY:
            return
        task = asyncio.get_running_loop().run_in_executor(None, _datasync, self.part)
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)

    def _acknowledge(self, fd: int, offset: int, whole: RunningHash | None) -> None:
        if os.fstat(fd).st_size != offset:
            os.ftruncate(fd, offset)
        self._write_offset(offset)
        if whole is not None:  # it covers exactly the acknowledged bytes (some may still be queued)
            whole.feed.flush()
            RUNNING.keep(self.upload_id, RunningHash(offset, whole.state, whole.feed))


SYNC_EVERY = 8 * 1024 * 1024


def _read(path: str) -> bytes:
    """A small file's bytes (the offset record, the facts of an upload)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 64 * 1024)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes, at: int) -> None:
    if os.pwrite(fd, data, at) != len(data):
        raise OSError("short write to an upload's part file")


OFFSET_WIDTH = 20
_BACKGROUND: set[asyncio.Future[None]] = set()


def _datasync(path: Path) -> None:
    # fdatasync rather than sync_file_range(SYNC_FILE_RANGE_WRITE): the latter only starts the
    # writeback, and on this disk the final fsync after it still took up to 270 ms now and then;
    # after an fdatasync every 8 MB it took 10-20 ms, and the writes in between were not slower.
    with contextlib.suppress(FileNotFoundError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fdatasync(fd)
        finally:
            os.close(fd)
