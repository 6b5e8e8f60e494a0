"""Scratch files of uploads in progress: the bytes so far, the acknowledged offset, a writer lock.

``<id>.part`` holds the bytes; ``<id>.offset`` holds how many of them were acknowledged (written
whole and, when the client sent Upload-Checksum, verified). Bytes past that offset are leftovers of
a request that died mid-way and are cut off before the next write. The offset file is replaced
atomically; chunks are not fsynced, because nothing is acknowledged as evidence until the whole
file is verified and stored durably (the phone keeps its file until then). One writer at a time
holds an ``flock`` on the part file: every API process on the host (or sharing the upload folder)
sees it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

from evidence.errors import UploadBusy, UploadChecksumMismatch, UploadExceedsLength
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

    def __post_init__(self) -> None:
        self.part = self.folder / f"{self.upload_id}.part"
        self.offset_file = self.folder / f"{self.upload_id}.offset"

    def create(self) -> None:
        """Make the empty part file and offset 0."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.part.touch(exist_ok=True)
        self._write_offset(0)

    def exists(self) -> bool:
        """True while the scratch files are there."""
        return self.part.is_file()

    def offset(self) -> int:
        """Bytes acknowledged so far (0 if the offset file is missing)."""
        try:
            return int(self.offset_file.read_text() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _write_offset(self, offset: int) -> None:
        staged = self.offset_file.with_suffix(f".offset.{os.getpid()}")
        staged.write_text(str(offset))
        os.replace(staged, self.offset_file)

    def remove(self) -> None:
        """Delete the scratch files (the blob store keeps its own link to completed bytes)."""
        for path in (self.part, self.offset_file):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    @contextlib.contextmanager
    def locked(self) -> Iterator[int]:
        """Hold the writer lock; yields the part file's descriptor. UploadBusy if another writer holds it."""
        fd = os.open(self.part, os.O_RDWR)
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
        os.ftruncate(fd, start)  # drop leftovers of a request that died after the last acknowledgement
        hasher = checksum.hasher() if checksum is not None else None
        position = start
        try:
            async for data in chunks:
                if position + len(data) > length:
                    raise UploadExceedsLength(f"the body runs past Upload-Length ({length})")
                os.pwrite(fd, data, position)
                position += len(data)
                if hasher is not None:
                    hasher.update(data)
        except ChunkInterrupted:
            if hasher is not None:
                position = start
            self._acknowledge(fd, position)
            raise ChunkInterrupted(position - start) from None
        except BaseException:
            self._acknowledge(fd, start)
            raise
        if checksum is not None and hasher is not None and hasher.digest() != checksum.digest:
            self._acknowledge(fd, start)
            raise UploadChecksumMismatch(f"the {checksum.algorithm} of this chunk does not match Upload-Checksum")
        self._acknowledge(fd, position)
        return position

    def _acknowledge(self, fd: int, offset: int) -> None:
        os.ftruncate(fd, offset)
        self._write_offset(offset)
