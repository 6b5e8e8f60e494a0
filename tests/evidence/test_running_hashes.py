"""The running whole-file hashes: a shortcut that is used only at the exact acknowledged offset."""

from __future__ import annotations

import uuid

from evidence.upload_files import RunningHashes


def test_running_hashes_match_only_the_acknowledged_offset():
    running = RunningHashes(limit=2)
    first = uuid.uuid4()
    fresh = running.take(first, 0)
    assert fresh is not None  # a new upload starts a fresh state
    assert running.take(first, 10) is None  # nothing kept at that offset: the completion re-reads
    running.keep(first, 10, fresh)
    assert running.take(first, 20) is None  # another offset: the state is dropped, not reused
    assert running.take(first, 10) is None
    for upload_id in (first, uuid.uuid4(), uuid.uuid4()):  # bounded: the oldest goes first
        running.keep(upload_id, 5, fresh)
    assert running.take(first, 5) is None


def test_forgetting_drops_every_state():
    running = RunningHashes()
    upload_id = uuid.uuid4()
    state = running.take(upload_id, 0)
    assert state is not None
    running.keep(upload_id, 7, state)
    running.forget()
    assert running.take(upload_id, 7) is None
