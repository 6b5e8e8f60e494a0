"""Writing and reading the change feed of a user's scope. Never commits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from uuid import UUID

from piccolo.engine.sqlite import SQLiteEngine

from sync.feed import Cursor, order_column, sequence_shared, window
from sync.rows import insert_rows
from sync.tables import SyncChange

UPSERT = "upsert"
REMOVE = "remove"


class Change(NamedTuple):
    """The latest thing that happened to one entity in a page of the feed (a tuple: every pull makes one
    per feed entry, and a frozen dataclass costs several times as much to build)."""

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
        f"SELECT id AS change_id, {order} AS seq, entity, entity_id, kind, reason "  # noqa: S608 - constants
        f"FROM sync_change WHERE scope = {{}} AND {sql} ORDER BY {order} LIMIT {{}}",
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
        await sequence_shared(SyncChange)
    rows = [  # in ``collapse``'s layout; SQLite gives the entity ids as text
        (None, r["change_id"], r["seq"], r["entity"], _uuid(r["entity_id"]), r["kind"], r["reason"])
        for r in await _rows(scope, cursor, limit)
    ]
    return collapse(rows, cursor, limit)


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


# The page as a CTE, for a caller that reads the page together with what it points at in one statement
# (PostgreSQL only; asyncpg placeholders: $1 the scope, $2 the cursor's number, $3 the limit + 1).
# ``flag`` is one row saying whether the scope has unnumbered changes: join ``page`` to it (LEFT JOIN ...
# ON true) so the flag comes back even when the page is empty; see ``read_joined``.
PG_PAGE_CTES = (
    "flag AS (SELECT EXISTS (SELECT 1 FROM sync_change WHERE scope = $1 AND seq IS NULL) AS pending), "
    "page AS (SELECT id AS change_id, seq, entity, entity_id, kind, reason FROM sync_change "
    "WHERE scope = $1 AND seq > $2 ORDER BY seq LIMIT $3)"
)

Fetch = Callable[[UUID, int, int], Awaitable[Sequence[Any]]]  # asyncpg records: by position and by name


async def read_joined(scope: UUID, cursor: Cursor, limit: int, fetch: Fetch) -> tuple[Page, list[tuple[Any, ...]]]:
    """Like ``read``, in one round trip, on PostgreSQL: ``fetch(scope, seq, limit + 1)`` runs a statement built
    on ``PG_PAGE_CTES`` whose first columns are ``flag.pending`` and the page's ``change_id, seq, entity,
    entity_id, kind, reason`` (NULL when the page is empty), in feed order, then whatever it joins. Returns
    the page and the page's rows as tuples (positions as selected)."""
    rows = await fetch(scope, cursor.seq, limit + 1)
    if rows and rows[0][0]:  # flag.pending: a writer died between its commit and its pass: number, read again
        await sequence_shared(SyncChange)
        rows = await fetch(scope, cursor.seq, limit + 1)
    found = [tuple(row) for row in rows if row[2] is not None]  # seq
    return collapse(found, cursor, limit), found[:limit]


def collapse(rows: list[tuple[Any, ...]], cursor: Cursor, limit: int) -> Page:
    """A page from feed rows read in order, ``limit + 1`` at most, each ``(pending, change_id, seq, entity,
    entity_id, kind, reason, ...)`` (``read_joined``'s layout; entity ids as UUIDs): the latest change per
    entity, the cursor after them, ``has_more``."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    latest: dict[tuple[str, UUID], Change] = {}
    for row in rows:  # later rows win: an entity added then removed in one page is a removal
        key = (row[3], row[4])
        latest.pop(key, None)
        latest[key] = Change(row[3], row[4], row[5], row[6])
    if rows:
        cursor = Cursor(int(rows[-1][2]))
    return Page(changes=list(latest.values()), cursor=cursor, has_more=has_more, ids=tuple([int(r[1]) for r in rows]))
