"""The content-addressed blob store: bytes kept once per sha256, written atomically.

:class:`BlobStore` is the seam (an S3-compatible store can implement it: ``put_file`` uploads,
``open`` streams); :class:`LocalBlobStore` keeps blobs under the data directory in sharded folders
(``ab/cd/abcd...``). Writes go to a temporary file in the store, are fsynced, then renamed into
place (and the folder fsynced), so a blob either exists whole or not at all. The methods are
blocking: async callers run them in a thread.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
COPY_BUFFER = 1024 * 1024


class BlobStore(Protocol):
    """Where evidence bytes live, addressed by their sha256."""

    def exists(self, sha256: str) -> bool:
        """True if the blob is stored."""
        ...

    def size(self, sha256: str) -> int:
        """The stored blob's size in bytes (FileNotFoundError if absent)."""
        ...

    def put_file(self, source: Path, sha256: str) -> None:
        """Store the file ``source`` (already verified to hash to ``sha256``); ``source`` is left in place."""
        ...

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; return its sha256."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """A binary reader of the blob (FileNotFoundError if absent)."""
        ...

    def local_path(self, sha256: str) -> Path | None:
        """A local file holding the blob, when the store has one (lets Pillow and mutagen seek freely)."""
        ...


def check_sha256(sha256: str) -> str:
    """Refuse anything that is not a lowercase sha256 hex digest (it becomes a path)."""
    if not _SHA256.match(sha256):
        raise ValueError(f"not a sha256 hex digest: {sha256[:80]!r}")
    return sha256


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as reader:
        while block := reader.read(COPY_BUFFER):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a rename or new file in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore:
    """Blobs as files under ``root``: ``root/ab/cd/<sha256>``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        """Where the blob lives (whether or not it exists)."""
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        """True if the blob is stored."""
        return self.path(sha256).is_file()

    def size(self, sha256: str) -> int:
        """The blob's size in bytes."""
        return self.path(sha256).stat().st_size

    def local_path(self, sha256: str) -> Path | None:
        """The blob's file, if stored."""
        path = self.path(sha256)
        return path if path.is_file() else None

    def open(self, sha256: str) -> BinaryIO:
        """A reader of the blob."""
        return self.path(sha256).open("rb")

    def put_file(self, source: Path, sha256: str) -> None:
        """Store ``source`` under ``sha256``: a hard link when on the same filesystem, else a copy."""
        target = self.path(sha256)
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        with source.open("rb") as reader:
            os.fsync(reader.fileno())
        staged = self._tmp / f"{sha256}.{os.getpid()}.{os.urandom(4).hex()}"
        try:
            os.link(source, staged)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            self._copy_durably(source, staged)
        self._commit(staged, target)

    def put_bytes(self, data: bytes) -> str:
        """Store ``data`` and return its sha256."""
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if target.is_file():
            return sha256
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self._tmp)
        with os.fdopen(fd, "wb") as writer:
            writer.write(data)
            writer.flush()
            os.fsync(writer.fileno())
        self._commit(Path(name), target)
        return sha256

    def _copy_durably(self, source: Path, staged: Path) -> None:
        with source.open("rb") as reader, staged.open("wb") as writer:
            shutil.copyfileobj(reader, writer, COPY_BUFFER)
            writer.flush()
            os.fsync(writer.fileno())

    def _commit(self, staged: Path, target: Path) -> None:
        try:
            os.replace(staged, target)  # same content under the same name: replacing is harmless
        finally:
            with contextlib.suppress(FileNotFoundError):
                staged.unlink()
        fsync_dir(target.parent)

    def iter_hashes(self) -> Iterator[str]:
        """Every stored blob's sha256 (for audits)."""
        for path in self.root.glob("??/??/*"):
            if _SHA256.match(path.name):
                yield path.name
