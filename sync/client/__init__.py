"""The reference device client: a local SQLite store with an outbox, and the pull/push loop.

It is what the tests, the demo and the benchmarks drive, and it shows app developers how to speak
the protocol (``docs/sync-protocol.md``)::

    store = LocalStore("phone.sqlite3")
    async with DeviceClient("https://fieldvisit.example", token, store) as phone:
        await phone.pull()                       # the day's visits
        phone.enqueue("visit.check_in", visit_id, {}, base_version=3, location=here)
        await phone.sync()                       # push the outbox, then pull
"""

from sync.client.client import DeviceClient, PushFailed, SyncUnavailable
from sync.client.store import LocalStore

__all__ = ["DeviceClient", "LocalStore", "PushFailed", "SyncUnavailable"]
