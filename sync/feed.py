"""Ordered feeds that never skip a late-committing row and never repeat one past a cursor.

The trap: a sequence number is taken at insert time, but rows become visible at commit time. A
reader that remembers "the last id I saw" skips a row whose transaction took a lower id and
committed later.

On PostgreSQL, rows are written with ``seq`` empty and a **sequencer** numbers them after they
commit: one pass at a time (a transaction-level advisory lock), each pass giving the committed,
unnumbered rows the numbers after the highest one so far, and committing. A pass's rows are all
visible at once, after every earlier pass's: readers see a gap-free prefix of the numbers, so
reading ``seq > cursor`` in order never skips and never repeats. Writers run a pass right after
they commit (so their changes are readable when their request returns), pulls run one when they
find unnumbered rows of their scope (a writer killed between its commit and its pass), and a
periodic job sweeps whatever is left. Unlike ordering by transaction id against the snapshot's
xmin, this never makes readers wait for unrelated long transactions.

What the order does *not* promise: causal order between two rows about the same entity that
concurrent transactions wrote (each pass numbers rows in insert order). Readers treat rows as
"this changed" and read the entity's current state (the sync pull), or order one entity's rows by
its own version (the case feed's ``case_version``).

On SQLite writers are serialised, so the row id is already commit order: readers use it as ``seq``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import re
import weakref
from dataclasses import dataclass

from piccolo.table import Table

from sync.errors import SyncError

# One advisory-lock key per feed table (any stable 64-bit numbers).
_LOCK_KEYS = {"sync_change": 7_346_021_001, "case_event": 7_346_021_002}


class CursorInvalid(SyncError):
    """The cursor was not issued by this server (or was altered)."""

    code = "400.50"
    status_code = 400


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in a feed: every row numbered up to ``seq`` has been delivered."""

    seq: int = 0

    def encode(self) -> str:
        """The opaque text form sent to clients."""
        return f"s{self.seq}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor:
        """Parse a client's cursor; empty means the beginning."""
        if not text:
            return cls()
        match = re.fullmatch(r"s(\d{1,19})", text)
        if match is None:
            raise CursorInvalid(f"cursor {text[:40]!r} was not issued by this server")
        return cls(int(match.group(1)))


def order_column(postgres: bool) -> str:
    """The column that orders a feed: the sequencer's number on PostgreSQL, the row id on SQLite."""
    return "seq" if postgres else "id"


def window(cursor: Cursor, *, postgres: bool) -> tuple[str, list[int]]:
    """A WHERE fragment (Piccolo ``{}`` placeholders) selecting readable rows after ``cursor``.

    Order the rows by ``order_column``; the next cursor is the last row's value of it.
    """
    return f"{order_column(postgres)} > {{}}", [cursor.seq]


async def sequence(table: type[Table]) -> int:
    """Number the committed, unnumbered rows of a feed table (PostgreSQL; runs its own transaction).

    Returns how many rows were numbered. Waits for a pass already running, so that rows committed
    before this call are numbered when it returns.
    """
    name = table._meta.tablename
    async with table._meta.db.transaction():
        await table.raw("SELECT pg_advisory_xact_lock({})", _LOCK_KEYS[name])
        rows = await table.raw(
            f"WITH base AS (SELECT coalesce(max(seq), 0) AS top FROM {name}), "  # noqa: S608 - our own table
            f"pending AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM {name} WHERE seq IS NULL) "
            f"UPDATE {name} AS t SET seq = base.top + pending.n FROM pending, base "
            "WHERE t.id = pending.id RETURNING t.id"
        )
    return len(rows)


class _Passes:
    """One table's sequencer passes in one process: at most one running and one waiting to start.

    A caller wants "a pass that starts after now" (its rows committed before it asked). Everybody who
    asks while a pass runs shares the one that starts when it ends: a burst of N commits costs two
    passes, not N passes queued on the advisory lock, each holding a pooled connection while it waits.
    """

    def __init__(self, table: type[Table]) -> None:
        self.table = table
        self.running: asyncio.Future[int] | None = None
        self.waiting: asyncio.Future[int] | None = None

    async def after_now(self) -> int:
        if self.waiting is None:
            # A fresh context: the pass runs its own transaction, never the caller's.
            self.waiting = asyncio.get_running_loop().create_task(
                self._start_after(self.running), context=contextvars.Context()
            )
        # Shielded: a cancelled caller must not cancel the pass the others wait for.
        return await asyncio.shield(self.waiting)

    async def _start_after(self, previous: asyncio.Future[int] | None) -> int:
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous
        self.running, self.waiting = self.waiting, None  # from here on, new callers wait for the next pass
        try:
            return await sequence(self.table)
        finally:
            if self.running is asyncio.current_task():
                self.running = None  # holds nothing once done (a finished task keeps its loop alive)


_PASSES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Passes]] = weakref.WeakKeyDictionary()


async def sequence_shared(table: type[Table]) -> int:
    """Like :func:`sequence` (rows committed before the call are numbered when it returns), sharing
    the pass with the callers of this process that asked meanwhile. Returns the rows that pass numbered."""
    passes = _PASSES.setdefault(asyncio.get_running_loop(), {})
    name = table._meta.tablename
    if name not in passes:
        passes[name] = _Passes(table)
    return await passes[name].after_now()


def pg_feed_sql(table: str, scope_column: str | None) -> list[str]:
    """DDL for a feed table on PostgreSQL: the reading index and the sequencer's to-do index."""
    prefix = f"{scope_column}, " if scope_column else ""
    return [
        f"DROP TRIGGER IF EXISTS {table}_stamp_txid ON {table}",
        f"DROP FUNCTION IF EXISTS {table}_stamp_txid()",
        f"DROP INDEX IF EXISTS {table}_txid_id",
        f"CREATE UNIQUE INDEX IF NOT EXISTS {table}_seq ON {table} (seq)",
        f"CREATE INDEX IF NOT EXISTS {table}_read ON {table} ({prefix}seq)",
        f"CREATE INDEX IF NOT EXISTS {table}_unsequenced ON {table} (id) WHERE seq IS NULL",
    ]


def pg_scoped_feed_sql(table: str, scope_column: str) -> list[str]:
    """DDL (replacing ``pg_feed_sql``'s indexes) for a feed read by scope: the numbered indexes leave NULLs
    out, and unnumbered rows are indexed by ``(scope, id)``.

    Every row is written unnumbered and numbered by an update. With NULLs in the ``seq`` and ``(scope, seq)``
    indexes, a row cost five index entries at its insert and four at its numbering; now three and four.
    Reads still use the numbered indexes (``seq > cursor`` implies ``seq IS NOT NULL``). A reader's check
    for unnumbered rows of its scope (``sync.changes``) visits its own scope's entries instead of every
    scope's (entries of numbered rows linger until vacuum, longer while old snapshots are open); the
    sequencer reads them all, as before. (The 336 ms pulls of ``bench.load`` that led here came from
    plans cached for empty tables with autovacuum off, not from this: see ``api.migrations.server_warnings``.)
    """
    return [
        f"CREATE INDEX IF NOT EXISTS {table}_unsequenced_scope ON {table} ({scope_column}, id) WHERE seq IS NULL",
        f"DROP INDEX IF EXISTS {table}_unsequenced",
        f"CREATE UNIQUE INDEX IF NOT EXISTS {table}_seq_numbered ON {table} (seq) WHERE seq IS NOT NULL",
        f"DROP INDEX IF EXISTS {table}_seq",
        f"CREATE INDEX IF NOT EXISTS {table}_read_numbered ON {table} ({scope_column}, seq) WHERE seq IS NOT NULL",
        f"DROP INDEX IF EXISTS {table}_read",
    ]


def pg_txid_trigger_sql(table: str, index_prefix: str = "") -> list[str]:
    """DDL of the first feed design (kept because committed migrations call it): a trigger stamping
    each row with its writer's transaction id, and the index reads used."""
    function = f"{table}_stamp_txid"
    return [
        f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
  NEW.txid := pg_current_xact_id()::text::bigint;
  RETURN NEW;
END $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS {function} ON {table}",
        f"CREATE TRIGGER {function} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()",
        f"CREATE INDEX IF NOT EXISTS {table}_txid_id ON {table} ({index_prefix}txid, id)",
    ]
