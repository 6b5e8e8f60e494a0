"""Writing and reading the change feed of a user's scope. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from piccolo.engine.sqlite import SQLiteEngine

from sync.feed import Cursor, window
from sync.tables import SyncChange

UPSERT = "upsert"
REMOVE = "remove"


@dataclass(frozen=True)
class Change:
    """The latest thing that happened to one entity in a page of the feed."""

    entity: str
    entity_id: UUID
    kind: str
    reason: str


@dataclass(frozen=True)
class Page:
    """A page of a scope's feed: the latest change per entity, the cursor after it, and whether more wait.

    ``held_back``: changes exist after the cursor that a still-running transaction (anywhere in the
    database cluster) keeps from being final yet; they will be delivered, just not in this page.
    """

    changes: list[Change]
    cursor: Cursor
    has_more: bool
    held_back: bool = False
    seqs: tuple[int, ...] = ()  # the feed rows this page covered (for audits and tests)


async def append(scope: UUID, entity: str, entity_id: UUID, kind: str, reason: str = "") -> None:
    """Record that ``entity_id`` changed (or left, with ``REMOVE``) in ``scope``."""
    await SyncChange.insert(SyncChange(scope=scope, entity=entity, entity_id=entity_id, kind=kind, reason=reason))


async def append_many(rows: list[tuple[UUID, str, UUID, str, str]]) -> None:
    """Record several changes: (scope, entity, entity_id, kind, reason) each."""
    if rows:
        await SyncChange.insert(
            *(SyncChange(scope=s, entity=e, entity_id=i, kind=k, reason=r) for s, e, i, k, r in rows)
        )


def _postgres() -> bool:
    return not isinstance(SyncChange._meta.db, SQLiteEngine)


async def read(scope: UUID, cursor: Cursor, limit: int) -> Page:
    """The scope's final changes after ``cursor`` (see ``sync.feed``), collapsed per entity."""
    sql, args = window(cursor, postgres=_postgres())
    rows: list[dict[str, Any]] = await SyncChange.raw(
        "SELECT id, txid, entity, entity_id, kind, reason FROM sync_change "  # noqa: S608 - constant fragments
        f"WHERE scope = {{}} AND {sql} ORDER BY txid, id LIMIT {{}}",
        scope,
        *args,
        limit + 1,
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    latest: dict[tuple[str, UUID], Change] = {}
    for row in rows:  # later rows win: an entity added then removed in one page is a removal
        key = (str(row["entity"]), UUID(str(row["entity_id"])))
        latest.pop(key, None)
        latest[key] = Change(key[0], key[1], str(row["kind"]), str(row["reason"]))
    if rows:
        cursor = Cursor(int(rows[-1]["txid"]), int(rows[-1]["id"]))
    held_back = not has_more and _postgres() and await _held_back(scope, cursor)
    return Page(
        changes=list(latest.values()),
        cursor=cursor,
        has_more=has_more,
        held_back=held_back,
        seqs=tuple(int(r["id"]) for r in rows),
    )


async def _held_back(scope: UUID, cursor: Cursor) -> bool:
    # Any visible row after the cursor that the page did not return was kept out by the window: its
    # transaction (or an older one still running) was not final when the page was read. Checking
    # against the window's own xmin would race: xmin may have moved on between the two statements.
    rows = await SyncChange.raw(
        "SELECT EXISTS (SELECT 1 FROM sync_change WHERE scope = {} AND (txid, id) > ({}, {})) AS held",
        scope,
        cursor.txid,
        cursor.seq,
    )
    return bool(rows and rows[0]["held"])
