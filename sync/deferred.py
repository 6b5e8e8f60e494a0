"""Writes a sync push puts off to the end of its transaction, to make one statement of many.

Inside ``deferred_inserts()``, deferrable inserts (``sync.rows.insert_rows(..., deferrable=True)``:
timeline and feed rows) are kept and written per table in one insert when the block ends, and calls
registered with ``on_flush`` (``defer_call``) are collected and made once, with every item queued,
just before the rows of their table are written (a case change published to its visits' feeds: one
query for all the cases a push changed). A read of such a table flushes it first (``flush_deferred``);
a savepoint that rolls back drops what was deferred inside it (``deferred_mark`` / ``deferred_undo``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from piccolo.table import Table

from sync.rows import flush_updates_in, insert_values
from sync.txstate import Deferred, Pending, deferred_of, of_transaction

Mark = tuple[dict[Any, tuple[int, int]], dict[tuple[type[Table], Any], tuple[set[Any], dict[str, Any]]]]
Handler = Callable[[list[Any]], Awaitable[None]]

_handlers: dict[str, tuple[type[Table], Handler]] = {}


def on_flush(name: str, table: type[Table], handler: Handler) -> None:
    """Register the call ``defer_call(table, name, item)`` defers: ``handler(items)`` runs before
    ``table``'s deferred rows are written (it may add some)."""
    _handlers[name] = (table, handler)


def defer_call(table: type[Table], name: str, item: Any) -> bool:
    """Queue ``item`` for the ``name`` call if the transaction defers; False when it does not (the
    caller then acts at once)."""
    pending = deferred_of(table)
    if pending is None:
        return False
    if _handlers.get(name, (None,))[0] is not table:
        raise KeyError(f"no deferred call {name!r} registered for {table._meta.tablename}")
    pending.calls.setdefault(name, Pending()).rows.append(item)
    return True


@contextlib.asynccontextmanager
async def deferred_inserts(table: type[Table]) -> AsyncIterator[None]:
    """Collect the deferrable inserts and calls of the transaction that ``table``'s database has open,
    and write them per table in one statement when the block ends (a sync push: timeline and feed rows)."""
    transaction = table._meta.db.current_transaction.get()
    if transaction is None:
        raise RuntimeError("deferred_inserts() needs an open transaction")
    state = of_transaction(transaction)
    if state.deferred is not None:  # nested: the outer block writes them
        yield
        return
    state.deferred = Deferred()
    try:
        yield
        await flush_deferred(table, every=True)
    finally:
        state.deferred = None


async def flush_deferred(table: type[Table], *, every: bool = False) -> None:
    """Make ``table``'s (or, with ``every``, all) deferred calls, then write its deferred rows: before
    reading them back."""
    pending = deferred_of(table)
    if pending is None:
        return
    if every:
        await flush_updates_in(table._meta.db)  # first, every table: the calls read the rows they change
    for name, calls in list(pending.calls.items()):
        target, handler = _handlers[name]
        if (every or target is table) and calls.flushed < len(calls.rows):
            items = calls.rows[calls.flushed :]
            calls.flushed = len(calls.rows)
            await handler(items)
    tables = list(pending.tables.items()) if every else [(table, pending.tables.get(table))]
    for name_, rows in tables:
        if rows is not None and rows.flushed < len(rows.rows):
            await insert_values(name_, rows.rows[rows.flushed :])
            rows.flushed = len(rows.rows)


def deferred_mark(transaction: Any) -> Mark | None:
    """Where the transaction's deferred rows, calls and row changes stand (taken when a savepoint opens)."""
    state = of_transaction(transaction)
    pending = state.deferred
    if pending is None:
        return None
    counts = {key: (len(p.rows), p.flushed) for key, p in [*pending.tables.items(), *pending.calls.items()]}
    changed = {key: (set(columns), dict(state.rows[key])) for key, columns in pending.updates.items()}
    return counts, changed


def deferred_undo(transaction: Any, mark: Mark | None) -> None:
    """A savepoint rolled back: drop the rows and calls added since ``mark``, and count those written
    or made inside it (now undone) as not done; row changes go back to what was deferred at ``mark``
    (written inside the savepoint or not, the database no longer has them), their rows kept again
    (locked before the savepoint, they still are). Call it after ``sync.rows.forget_cached``."""
    state = of_transaction(transaction)
    pending = state.deferred
    if pending is None:
        return
    counts, changed = mark or ({}, {})
    for key, rows in [*pending.tables.items(), *pending.calls.items()]:
        length, flushed = counts.get(key, (0, 0))
        del rows.rows[length:]
        rows.flushed = min(rows.flushed, flushed)
    pending.updates = {key: set(columns) for key, (columns, _) in changed.items()}
    pending.dirty = {table for table, _ in changed}
    for key, (_, row) in changed.items():
        state.rows[key] = dict(row)
