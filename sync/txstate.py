"""What ``sync.rows`` keeps for the transaction in progress: the rows it read and locked (as they are now
and as first locked), what it deferred (``sync.deferred``), and a memo. Piccolo's transaction objects take
no attributes, so the state lives in a context variable, tied to its transaction."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from piccolo.columns.base import Column
from piccolo.table import Table


def copies_of(table: type[Table]) -> dict[tuple[type[Table], Any], dict[str, Any]] | None:
    """The rows kept for the transaction ``table``'s database has open (None outside one)."""
    transaction = table._meta.db.current_transaction.get()
    return None if transaction is None else of_transaction(transaction).rows


def forget_cached(transaction: Any) -> None:
    """Drop the transaction's cached rows (a savepoint rolled back: its changes and locks are undone)."""
    state = states.get()
    if state is not None and state.transaction is transaction:
        state.rows.clear()
        state.first.clear()
        state.memo.clear()


class _State:
    """What is kept for one transaction: cached rows, deferred writes, a memo."""

    __slots__ = ("deferred", "first", "memo", "rows", "transaction")

    def __init__(self, transaction: Any) -> None:
        self.transaction = transaction
        self.rows: dict[tuple[type[Table], Any], dict[str, Any]] = {}  # as they are now
        self.first: dict[tuple[type[Table], Any], dict[str, Any]] = {}  # as first locked
        self.deferred: Deferred | None = None
        self.memo: dict[Any, Any] = {}


states: ContextVar[_State | None] = ContextVar("fieldvisit_transaction_rows", default=None)


def of_transaction(transaction: Any) -> _State:
    """The state kept for ``transaction`` (Piccolo's transaction objects take no attributes)."""
    state = states.get()
    if state is None or state.transaction is not transaction:
        state = _State(transaction)
        states.set(state)
    return state


class Pending:
    """Values deferred to the end of a transaction; those before ``flushed`` have been written."""

    __slots__ = ("flushed", "rows")

    def __init__(self) -> None:
        self.rows: list[Any] = []
        self.flushed = 0


class Deferred:
    """What a transaction has put off (``sync.deferred``): rows per table, calls per name, and the
    columns changed of kept rows (``update_row``) not written yet, with their tables."""

    __slots__ = ("calls", "dirty", "tables", "updates")

    def __init__(self) -> None:
        self.tables: dict[type[Table], Pending] = {}
        self.calls: dict[str, Pending] = {}
        self.updates: dict[tuple[type[Table], Any], set[Column]] = {}
        self.dirty: set[type[Table]] = set()


def deferred_of(table: type[Table]) -> Deferred | None:
    """What the transaction ``table``'s database has open defers (None outside a deferring block)."""
    transaction = table._meta.db.current_transaction.get()
    return None if transaction is None else of_transaction(transaction).deferred


def memo_of(table: type[Table]) -> dict[Any, Any] | None:
    """A dict that lives as long as the transaction ``table``'s database has open (None outside one),
    emptied when a savepoint rolls back: for reads a transaction repeats (the pushing collector's row)."""
    transaction = table._meta.db.current_transaction.get()
    return None if transaction is None else of_transaction(transaction).memo
