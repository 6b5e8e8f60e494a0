"""Ordered feeds that never skip a late-committing row and never repeat one past a cursor.

The trap: a sequence number is taken at insert time, but rows become visible at commit time. A
reader that remembers "the last id I saw" skips a row whose transaction took a lower id and
committed later. The fix used here (on PostgreSQL):

- every feed row records the 64-bit id of the transaction that wrote it (``txid``, filled by a
  trigger with ``pg_current_xact_id()``), next to its sequence ``id``;
- a reader only returns rows with ``txid < xmin`` of its snapshot: every transaction below the
  snapshot's xmin has finished, so the set of such rows can no longer grow;
- rows are ordered by ``(txid, id)`` and the cursor is the last ``(txid, id)`` returned.

A row that appears later belongs to a transaction that was still running (``txid >= xmin``) or
had not started, so it sorts after every row already returned: nothing is skipped, nothing is
repeated. The price is latency: a long transaction holds rows after it back until it ends.

What the order does *not* promise: causal order between two rows about the same entity. A
transaction takes its id at its first write, possibly before it waits for a row lock another one
holds, so the later change can carry the smaller id. Readers therefore treat feed rows as "this
changed" and read the entity's current state (the sync pull), or order one entity's rows by its
own version (the case feed's ``case_version``).

On SQLite writers are serialised, so ``id`` order is commit order and ``txid`` stays 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sync.errors import SyncError


class CursorInvalid(SyncError):
    """The cursor was not issued by this server (or was altered)."""

    code = "400.50"
    status_code = 400


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in a feed: everything at or before ``(txid, seq)`` has been delivered."""

    txid: int = 0
    seq: int = 0

    def encode(self) -> str:
        """The opaque text form sent to clients."""
        return f"{self.txid}-{self.seq}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor:
        """Parse a client's cursor; empty means the beginning."""
        if not text:
            return cls()
        match = re.fullmatch(r"(\d{1,20})-(\d{1,20})", text)
        if match is None:
            raise CursorInvalid(f"cursor {text[:40]!r} is not of the form <txid>-<seq>")
        return cls(int(match.group(1)), int(match.group(2)))


def window(cursor: Cursor, *, postgres: bool) -> tuple[str, list[int]]:
    """A WHERE fragment (Piccolo ``{}`` placeholders) selecting final rows after ``cursor``.

    Order the rows by ``txid, id``; the next cursor is the last row's ``(txid, id)``.
    """
    if postgres:
        return (
            "txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint AND (txid, id) > ({}, {})",
            [cursor.txid, cursor.seq],
        )
    return "(txid > {} OR (txid = {} AND id > {}))", [cursor.txid, cursor.txid, cursor.seq]


def pg_txid_trigger_sql(table: str, index_prefix: str = "") -> list[str]:
    """DDL that stamps each new row of ``table`` with its writer's transaction id (PostgreSQL),
    and the index feed reads use (``index_prefix`` names leading columns, e.g. ``scope, ``)."""
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
