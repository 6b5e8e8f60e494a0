"""Scratch files of uploads in progress: the bytes so far, the acknowledged offset, a writer lock.

``<id>.part`` holds the bytes; ``<id>.offset`` holds how many of them were acknowledged (written
whole and, when the client sent Upload-Checksum, verified). Bytes past that offset are leftovers of
a request that died mid-way and are cut off before the next write. The offset is one fixed-width
record rewritten in place. One writer at a time holds an ``flock`` on the part file: every API
process on the host (or sharing the upload folder) sees it.

Durability rule. Chunks are not fsynced (a background ``fdatasync`` every 32 MB only shortens the
final one): nothing is evidence until the whole file is verified and stored as a blob, which is
fsynced before its rename and before the transaction that records it, and the phone keeps its
file until then. A power cut may therefore lose bytes that were acknowledged with 204, and the
offset record and the part file reach the disk independently. So the offset a resume is given is
re-derived on every HEAD and PATCH as ``min(recorded offset, size of the part file)``: it never
exceeds the bytes actually on disk, and the client re-sends from there (tus lets the server's
offset go back). What was acknowledged and survived is kept; bytes past the recorded offset are
cut. If a crash left bytes that are wrong rather than missing, the whole-file sha256 at completion
refuses the upload (422) and nothing becomes evidence. The running whole-file hash lives in memory
only; after a restart the completion re-reads the file.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import hashlib
import os
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

from evidence.errors import UploadBusy, UploadChecksumMismatch, UploadExceedsLength, UploadGone
from evidence.tus import Checksum


class ChunkInterrupted(Exception):
    """The client went away in the middle of a chunk; ``kept`` bytes of it were kept."""

    def __init__(self, kept: int) -> None:
        self.kept = kept
        super().__init__(f"chunk interrupted after {kept} bytes")


@dataclass
class UploadFiles:
    """The scratch files of one upload."""

    folder: Path
    upload_id: UUID
    part: Path = field(init=False)
    offset_file: Path = field(init=False)
    info_file: Path = field(init=False)

    def __post_init__(self) -> None:
        self.part = self.folder / f"{self.upload_id}.part"
        self.offset_file = self.folder / f"{self.upload_id}.offset"
        self.info_file = self.folder / f"{self.upload_id}.info"

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
            info = msgspec.json.decode(self.info_file.read_bytes())
        except (FileNotFoundError, msgspec.DecodeError):
            return None
        return info if isinstance(info, dict) else None

    def exists(self) -> bool:
        """True while the scratch files are there."""
        return self.part.is_file()

    def offset(self) -> int:
        """Bytes acknowledged so far and still in the part file (0 if either file is missing).

        Neither file is fsynced per chunk, so after a power cut the recorded offset may run ahead
        of the bytes that reached the disk: the part file's size caps it (see the module doc)."""
        try:
            recorded = int(self.offset_file.read_bytes().strip() or 0)
            return min(recorded, self.part.stat().st_size)
        except (FileNotFoundError, ValueError):
            return 0

    def _write_offset(self, offset: int) -> None:
        # One fixed-width record rewritten in place: a rename per chunk costs a millisecond here. A
        # torn write can only lose progress (the whole-file sha256 check catches any wrong offset).
        fd = os.open(self.offset_file, os.O_WRONLY | os.O_CREAT, 0o600)
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
            fd = os.open(self.part, os.O_RDWR)
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
        what arrived, as tus recommends, and ChunkInterrupted reports it.
        """
        if os.fstat(fd).st_size != start:  # leftovers of a request that died after the last acknowledgement
            os.ftruncate(fd, start)
        hasher = checksum.hasher() if checksum is not None else None
        whole = _RUNNING.take(self.upload_id, start)
        sink = _Sink(fd, start, [h for h in (hasher, whole) if h is not None])
        try:
            async for data in chunks:
                if sink.position + len(data) > length:
                    raise UploadExceedsLength(f"the body runs past Upload-Length ({length})")
                await sink.add(data)
            await sink.drain()
        except ChunkInterrupted:
            sink.drain_now()
            position = start if hasher is not None else sink.position
            self._acknowledge(fd, position, whole if hasher is None else None)
            raise ChunkInterrupted(position - start) from None
        except BaseException:
            sink.settle()  # no write of this request may land after the cut below
            self._acknowledge(fd, start, None)
            raise
        position = sink.position
        if checksum is not None and hasher is not None and hasher.digest() != checksum.digest:
            self._acknowledge(fd, start, None)
            raise UploadChecksumMismatch(f"the {checksum.algorithm} of this chunk does not match Upload-Checksum")
        self._acknowledge(fd, position, whole)
        self._sync_in_background(start, position)
        return position

    def whole_file_sha256(self, length: int) -> str | None:
        """The sha256 of the first ``length`` bytes if this process hashed them on the way in."""
        whole = _RUNNING.take(self.upload_id, length)
        return whole.hexdigest() if whole is not None else None

    def _sync_in_background(self, start: int, end: int) -> None:
        """Flush the part file to disk now and then while bytes still arrive, so the final fsync
        (before the blob is acknowledged) finds little left to write."""
        if start // SYNC_EVERY == end // SYNC_EVERY:
            return
        task = asyncio.get_running_loop().run_in_executor(None, _datasync, self.part)
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)

    def _acknowledge(self, fd: int, offset: int, whole: hashlib._Hash | None) -> None:
        if os.fstat(fd).st_size != offset:
            os.ftruncate(fd, offset)
        self._write_offset(offset)
        if whole is not None:
            _RUNNING.keep(self.upload_id, offset, whole)


SYNC_EVERY = 32 * 1024 * 1024
BATCH = 256 * 1024
_WRITERS = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="upload-writer")


class _Sink:
    """Writes a request body's pieces at their offsets and feeds the hashes, in a worker thread.

    While the event loop receives the next pieces, a thread writes and hashes the previous batch
    (``pwrite`` and hashlib release the GIL): the loop only receives. One batch in flight at a time,
    so the hashes see the bytes in order and memory stays at two batches."""

    def __init__(self, fd: int, start: int, hashers: list[Any]) -> None:
        self.fd = fd
        self.position = start  # end of the bytes received (written once drained)
        self._hashers = hashers
        self._batch: list[bytes] = []
        self._batch_start = start
        self._batch_size = 0
        self._in_flight: concurrent.futures.Future[None] | None = None

    async def add(self, data: bytes) -> None:
        """Take a piece; hand a full batch to the worker once the previous one is done."""
        self._batch.append(data)
        self._batch_size += len(data)
        self.position += len(data)
        if self._batch_size >= BATCH:
            await self._settle_in_flight()
            pieces, at = self._batch, self._batch_start
            self._batch, self._batch_start, self._batch_size = [], self.position, 0
            self._in_flight = _WRITERS.submit(self._write, pieces, at)

    async def drain(self) -> None:
        """Every piece taken so far is written and hashed (errors raised here)."""
        await self._settle_in_flight()
        self._write_rest()

    def _write_rest(self) -> None:
        pieces, at = self._batch, self._batch_start
        self._batch, self._batch_start, self._batch_size = [], self.position, 0
        if pieces:
            self._write(pieces, at)

    def settle(self) -> None:
        """Block until the worker is done with its batch (errors ignored): for the error path, where
        the request may be cancelled and must not let the lock go while a write is still coming."""
        if self._in_flight is not None:
            concurrent.futures.wait([self._in_flight])
            self._in_flight = None

    def drain_now(self) -> None:
        """:meth:`drain`, blocking (at most a batch's work): for the error paths."""
        if self._in_flight is not None:
            in_flight = self._in_flight
            concurrent.futures.wait([in_flight])
            self._in_flight = None
            in_flight.result()
        self._write_rest()

    async def _settle_in_flight(self) -> None:
        if self._in_flight is not None:
            await asyncio.wrap_future(self._in_flight)  # cancelled: still in flight, settle() waits
            self._in_flight = None

    def _write(self, pieces: list[bytes], at: int) -> None:
        for data in pieces:
            if os.pwrite(self.fd, data, at) != len(data):
                raise OSError("short write to an upload's part file")
            at += len(data)
            for hasher in self._hashers:
                hasher.update(data)


OFFSET_WIDTH = 20
_BACKGROUND: set[asyncio.Future[None]] = set()


def _datasync(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fdatasync(fd)
        finally:
            os.close(fd)


class RunningHashes:
    """Whole-file sha256 states of uploads in progress in this process, by acknowledged offset.

    Only a shortcut: when the next chunk lands in another process (or after a restart), the
    completion re-reads the file instead. Bounded, oldest dropped first."""

    def __init__(self, limit: int = 4096) -> None:
        self._states: OrderedDict[UUID, tuple[int, hashlib._Hash]] = OrderedDict()
        self.limit = limit

    def take(self, upload_id: UUID, offset: int) -> hashlib._Hash | None:
        """The state at ``offset`` (removed: the caller puts it back when the chunk is kept).
        A new upload (offset 0) starts a fresh state."""
        found = self._states.pop(upload_id, None)
        if found is not None and found[0] == offset:
            return found[1]
        return hashlib.sha256() if offset == 0 else None

    def keep(self, upload_id: UUID, offset: int, state: hashlib._Hash) -> None:
        """Remember the state after ``offset`` bytes."""
        self._states[upload_id] = (offset, state)
        while len(self._states) > self.limit:
            self._states.popitem(last=False)


_RUNNING = RunningHashes()
