"""Writing and reading the change feed of a user's scope. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from piccolo.engine.sqlite import SQLiteEngine

from sync.feed import Cursor, order_column, sequence, window
from sync.rows import insert_rows
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
    """A page of a scope's feed: the latest change per entity, the cursor after it, whether more wait."""

    changes: list[Change]
    cursor: Cursor
    has_more: bool
    ids: tuple[int, ...] = ()  # the feed rows this page covered (for audits and tests)


async def append(scope: UUID, entity: str, entity_id: UUID, kind: str, reason: str = "") -> None:
    """Record that ``entity_id`` changed (or left, with ``REMOVE``) in ``scope``."""
    await SyncChange.insert(SyncChange(scope=scope, entity=entity, entity_id=entity_id, kind=kind, reason=reason))


async def append_many(rows: list[tuple[UUID, str, UUID, str, str]]) -> None:
    """Record several changes: (scope, entity, entity_id, kind, reason) each."""
    await insert_rows(
        SyncChange,
        [{"scope": s, "entity": e, "entity_id": i, "kind": k, "reason": r} for s, e, i, k, r in rows],
        deferrable=True,
    )


def postgres() -> bool:
    """True when the feed needs the sequencer (PostgreSQL)."""
    return not isinstance(SyncChange._meta.db, SQLiteEngine)


async def _rows(scope: UUID, cursor: Cursor, limit: int) -> list[dict[str, Any]]:
    sql, args = window(cursor, postgres=postgres())
    order = order_column(postgres())
    rows: list[dict[str, Any]] = await SyncChange.raw(
        f"SELECT id, {order} AS seq, entity, entity_id, kind, reason FROM sync_change "  # noqa: S608 - constants
        f"WHERE scope = {{}} AND {sql} ORDER BY {order} LIMIT {{}}",
        scope,
        *args,
        limit + 1,
    )
    return rows


async def _unsequenced(scope: UUID) -> bool:
    rows = await SyncChange.raw(
        "SELECT EXISTS (SELECT 1 FROM sync_change WHERE scope = {} AND seq IS NULL) AS pending", scope
    )
    return bool(rows and rows[0]["pending"])


async def read(scope: UUID, cursor: Cursor, limit: int) -> Page:
    """The scope's changes after ``cursor`` (see ``sync.feed``), collapsed per entity."""
    if postgres() and await _unsequenced(scope):  # a writer died between its commit and its pass
        await sequence(SyncChange)
    rows = await _rows(scope, cursor, limit)
    has_more = len(rows) > limit
    rows = rows[:limit]
    latest: dict[tuple[str, UUID], Change] = {}
    for row in rows:  # later rows win: an entity added then removed in one page is a removal
        key = (str(row["entity"]), UUID(str(row["entity_id"])))
        latest.pop(key, None)
        latest[key] = Change(key[0], key[1], str(row["kind"]), str(row["reason"]))
    if rows:
        cursor = Cursor(int(rows[-1]["seq"]))
    return Page(changes=list(latest.values()), cursor=cursor, has_more=has_more, ids=tuple(int(r["id"]) for r in rows))
