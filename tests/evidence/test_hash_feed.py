"""The hash feed: pieces hashed in order off the event loop, whatever the batch and queue limits."""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence import hash_feed
from evidence.hash_feed import HashFeed, RunningHashes


async def _feed_all(pieces: list[bytes], checksum_every: int) -> None:
    feed = HashFeed()
    whole = hashlib.sha256()
    for start in range(0, len(pieces), checksum_every):
        chunk = pieces[start : start + checksum_every]
        chunk_hash = hashlib.sha1()  # noqa: S324 - tus allows sha1 checksums
        for piece in chunk:
            await feed.add(piece, (chunk_hash, whole))
        await feed.settled()
        assert chunk_hash.digest() == hashlib.sha1(b"".join(chunk)).digest()  # noqa: S324
    await feed.settled()
    assert whole.hexdigest() == hashlib.sha256(b"".join(pieces)).hexdigest()


@pytest.mark.parametrize(("batch", "limit"), [(1, 1), (1000, 3000), (256 * 1024, 8 * 1024 * 1024)])
async def test_pieces_are_hashed_in_order_whatever_the_batch_and_queue_limits(
    monkeypatch: pytest.MonkeyPatch, batch: int, limit: int
):
    monkeypatch.setattr(hash_feed, "BATCH", batch)
    monkeypatch.setattr(hash_feed, "QUEUE_LIMIT", limit)
    pieces = [os.urandom(size) for size in (1, 700, 65_536, 3, 200_000, 0, 4096) * 5]
    await _feed_all(pieces, checksum_every=4)


@settings(max_examples=30, deadline=None)
@given(sizes=st.lists(st.integers(0, 5000), max_size=40), every=st.integers(1, 10))
async def test_any_split_of_a_body_hashes_like_the_whole(sizes: list[int], every: int):
    await _feed_all([os.urandom(size) for size in sizes], every)


def test_running_hashes_match_only_the_acknowledged_offset():
    running = RunningHashes(limit=2)
    first = uuid.uuid4()
    fresh = running.take(first, 0)
    assert fresh is not None  # a new upload starts a fresh state
    assert fresh.offset == 0
    assert running.take(first, 10) is None  # nothing kept at that offset: the completion re-reads
    running.keep(first, hash_feed.RunningHash(10, fresh.state, fresh.feed))
    assert running.take(first, 20) is None  # another offset: the state is dropped, not reused
    assert running.take(first, 10) is None
    for upload_id in (first, uuid.uuid4(), uuid.uuid4()):  # bounded: the oldest goes first
        running.keep(upload_id, hash_feed.RunningHash(5, fresh.state, fresh.feed))
    assert running.take(first, 5) is None


async def test_a_flushed_feed_holds_no_bytes_once_the_worker_is_done():
    feed = HashFeed()
    whole = hashlib.sha256()
    await feed.add(b"x" * 1000, (whole,))  # below a batch: still the loop's
    feed.flush()  # what the end of every acknowledged chunk does
    assert feed._batch == []
    await feed.settled()
    assert not feed._queue
    assert whole.hexdigest() == hashlib.sha256(b"x" * 1000).hexdigest()
