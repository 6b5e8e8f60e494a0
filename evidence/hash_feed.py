"""Hashing an upload's bytes off the request path: a per-upload feed that a worker thread drains.

A PATCH writes each piece of its body to the part file on the event loop and hands the piece to the
upload's :class:`HashFeed`; a worker thread updates the hashes (hashlib releases the GIL) while the
loop receives the next piece, answers the request, and takes the next one. The request waits for
the hashes only when it needs a digest: a chunk's Upload-Checksum before it is acknowledged, the
whole file's sha256 at completion. So the whole-file hash never sits on the critical path of a
chunk, and pieces are hashed in the order they were written (one worker at a time per feed).

The whole-file state is kept per upload, in this process only, with the acknowledged offset it
covers (:class:`RunningHashes`): a shortcut. A chunk written by another process, a restart, or any
cut-back leaves no matching state, and the completion re-reads the part file instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from uuid import UUID

# Bytes a feed may hold before its feeder waits for the worker (memory stays flat when hashing is
# slower than the network: at most this much per upload in flight).
QUEUE_LIMIT = 8 * 1024 * 1024
BATCH = 256 * 1024  # a hand-over costs a few tens of microseconds: not one per received piece
_HASHING = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="upload-hash")


class HashFeed:
    """Byte strings fed in order to hash objects by one worker thread at a time.

    ``add`` and ``settled`` are called from the event loop only (one writer per upload at a time)."""

    def __init__(self) -> None:
        self._batch: list[tuple[bytes, tuple[hashlib._Hash, ...]]] = []  # the loop's, not yet handed over
        self._batch_size = 0
        self._queue: deque[list[tuple[bytes, tuple[hashlib._Hash, ...]]]] = deque()
        self._queued = 0
        self._lock = threading.Lock()
        self._worker: concurrent.futures.Future[None] | None = None

    async def add(self, data: bytes, hashers: tuple[hashlib._Hash, ...]) -> None:
        """Queue ``data`` for ``hashers`` (handed to the worker in batches of at least BATCH bytes);
        wait only while more than QUEUE_LIMIT bytes are queued."""
        self._batch.append((data, hashers))
        self._batch_size += len(data)
        if self._batch_size >= BATCH:
            await self._hand_over()

    async def _hand_over(self) -> None:
        worker, queued = self._enqueue()
        if queued > QUEUE_LIMIT:
            await _finished(worker)

    def flush(self) -> None:
        """Hand what is not handed over yet to the worker, without waiting (a state kept between
        chunks then holds no bytes once the worker is done: an abandoned upload costs no memory)."""
        if self._batch:
            self._enqueue()

    def _enqueue(self) -> tuple[concurrent.futures.Future[None], int]:
        batch, size = self._batch, self._batch_size
        self._batch, self._batch_size = [], 0
        with self._lock:
            self._queue.append(batch)
            self._queued += size
            if self._worker is None:
                self._worker = _HASHING.submit(self._drain)
            return self._worker, self._queued

    async def settled(self) -> None:
        """Wait until every byte fed so far went through its hashes."""
        self.flush()
        while True:
            with self._lock:
                worker = self._worker
            if worker is None:
                return
            await _finished(worker)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._worker = None  # the queue is empty and every update done: settled
                    return
                batch = self._queue.popleft()
            for data, hashers in batch:
                for hasher in hashers:
                    hasher.update(data)
            with self._lock:
                self._queued -= sum(len(data) for data, _ in batch)


async def _finished(worker: concurrent.futures.Future[None]) -> None:
    # Shielded: a cancelled request must not cancel a worker that is queued but not started (the
    # feed would wait on it for ever); the worker runs to the end of the queue either way.
    await asyncio.shield(asyncio.wrap_future(worker))


@dataclass(frozen=True)
class RunningHash:
    """An upload's whole-file sha256 after ``offset`` bytes, once its feed has settled."""

    offset: int
    state: hashlib._Hash
    feed: HashFeed

    async def hexdigest(self) -> str:
        """The digest of the ``offset`` bytes (waits for the feed)."""
        await self.feed.settled()
        return self.state.hexdigest()


class RunningHashes:
    """Whole-file sha256 states of uploads in progress in this process, by acknowledged offset.

    Bounded, oldest dropped first (a dropped state only costs a re-read at completion)."""

    def __init__(self, limit: int = 4096) -> None:
        self._states: OrderedDict[UUID, RunningHash] = OrderedDict()
        self.limit = limit

    def take(self, upload_id: UUID, offset: int) -> RunningHash | None:
        """The state at ``offset`` (removed: the caller puts it back when the chunk is kept).
        A new upload (offset 0) starts a fresh state."""
        found = self._states.pop(upload_id, None)
        if found is not None and found.offset == offset:
            return found
        return RunningHash(0, hashlib.sha256(), HashFeed()) if offset == 0 else None

    def keep(self, upload_id: UUID, running: RunningHash) -> None:
        """Remember the state (its offset covers the acknowledged bytes, some maybe still queued)."""
        self._states[upload_id] = running
        while len(self._states) > self.limit:
            self._states.popitem(last=False)

    def forget(self, upload_id: UUID | None = None) -> None:
        """Drop one upload's state, or all (what a restart does)."""
        if upload_id is None:
            self._states.clear()
        else:
            self._states.pop(upload_id, None)


RUNNING = RunningHashes()
