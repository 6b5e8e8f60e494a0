"""Rows on hot paths: a primary-key lookup and plain inserts whose SQL is composed once per table.

Piccolo's query builder spends more CPU composing a query (columns, joins, value conversion) than
PostgreSQL spends running a primary-key lookup or a one-row insert. The queries every sync mutation
runs go through these helpers instead; they give and take the same rows as ``Table.select()`` and
``Table(...)`` + ``insert`` (defaults computed the same way, values converted as Piccolo would).
Inside a PostgreSQL transaction they run on its asyncpg connection directly, with the ``$n`` form of
each SQL template worked out once (Piccolo's ``raw`` re-parses the template and wraps every call in
a query object: ~60 µs a query, a fifth of a sync mutation's CPU). Portable: PostgreSQL and SQLite.
How a row's values are converted and defaulted, per column, is planned in ``sync.row_values``.
"""

from __future__ import annotations

import functools
import string
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from piccolo.columns.base import Column
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

from sync.row_values import Convert, array_type, converter, insertable, row_values, sql_value
from sync.txstate import Deferred, Pending, copies_of, deferred_of, of_transaction, states


@functools.lru_cache(maxsize=1024)
def _numbered(template: str) -> str:
    """A ``{}`` template in PostgreSQL's ``$1, $2, ...`` form (``{{``/``}}`` are literal braces)."""
    parts, n = [], 0
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(literal)
        if field is not None:
            n += 1
            parts.append(f"${n}")
    return "".join(parts)


async def run(table: type[Table], template: str, *args: Any, sees_updates: bool = True) -> list[dict[str, Any]]:
    """Run SQL with ``{}`` placeholders on ``table``'s database; rows as dicts, as ``Table.raw`` gives them.

    Row changes deferred on ``table`` (``update_row``) are written first, unless ``sees_updates`` is
    False: for a statement no deferred change can alter (one that reads only columns never updated)."""
    db = table._meta.db
    transaction = db.current_transaction.get()
    if transaction is not None:
        pending = of_transaction(transaction).deferred
        if sees_updates and pending is not None and table in pending.dirty:  # it sees the rows as they are
            await flush_updates(table)
        if isinstance(db, PostgresEngine):
            records = await transaction.connection.fetch(_numbered(template), *args)
            return [dict(record) for record in records]
    rows: list[dict[str, Any]] = await table.raw(template, *args)
    return rows


@functools.cache
def _select_sql(table: type[Table]) -> str:
    columns = ", ".join(f'"{c._meta.db_column_name}"' for c in table._meta.columns)
    return f'SELECT {columns} FROM "{table._meta.tablename}"'  # noqa: S608 - table metadata


@functools.cache
def _select_by_id_sql(table: type[Table], lock: bool) -> str:
    pk = table._meta.primary_key._meta.db_column_name
    return f'{_select_sql(table)} WHERE "{pk}" = {{}}' + (" FOR NO KEY UPDATE" if lock else "")


async def list_rows(table: type[Table], where: str, *args: Any) -> list[dict[str, Any]]:
    """Every column of the rows matching ``where`` (SQL with ``{}`` placeholders for ``args``)."""
    return await run(table, f"{_select_sql(table)} WHERE {where}", *args)


async def update_row(
    table: type[Table], row_id: Any, values: dict[Column, Any], *, increment: Column | None = None
) -> int | None:
    """Write ``values`` to one row (and add 1 to ``increment``, returning its new value).

    A row the transaction keeps (locked), of a table registered with ``defer_updates_of``, inside
    ``sync.deferred.deferred_inserts()``: the change is made to the kept copy now and written with the
    block's other changes of the table in one statement later (``flush_updates``): when the block ends,
    or before any statement on the table (``run``) or any query through Piccolo or ``api.db``."""
    copies = copies_of(table)
    copy = copies.get((table, row_id)) if copies else None
    if copy is not None and table in _UPDATES_DEFERRED:
        pending = deferred_of(table)
        if pending is not None:
            return _defer_update(pending, table, row_id, copy, values, increment)
    return await _update_now(table, row_id, values, increment=increment)


def _defer_update(
    pending: Deferred,
    table: type[Table],
    row_id: Any,
    copy: dict[str, Any],
    values: dict[Column, Any],
    increment: Column | None,
) -> int | None:
    copy.update((c._meta.name, _as_read(sql_value(v, c))) for c, v in values.items())
    dirty = pending.updates.setdefault((table, row_id), set())
    dirty.update(values)
    pending.dirty.add(table)
    if increment is None:
        return None
    dirty.add(increment)
    copy[increment._meta.name] = int(copy[increment._meta.name]) + 1  # locked: nobody else changes it
    return int(copy[increment._meta.name])


async def _update_now(
    table: type[Table], row_id: Any, values: dict[Column, Any], *, increment: Column | None = None
) -> int | None:
    names = [f'"{c._meta.db_column_name}" = {{}}' for c in values]
    args = [sql_value(v, c) for c, v in values.items()]
    returning = ""
    if increment is not None:
        name = increment._meta.db_column_name
        names.append(f'"{name}" = "{name}" + 1')
        returning = f' RETURNING "{name}"'
    pk = table._meta.primary_key._meta.db_column_name
    sql = f'UPDATE "{table._meta.tablename}" SET {", ".join(names)} WHERE "{pk}" = {{}}{returning}'  # noqa: S608
    rows = await run(table, sql, *args, row_id)
    copies = copies_of(table)
    copy = copies.get((table, row_id)) if copies else None
    if copy is not None:
        copy.update((c._meta.name, _as_read(v)) for c, v in zip(values, args, strict=True))
        if increment is not None and rows:
            copy[increment._meta.name] = rows[0][increment._meta.db_column_name]
    return int(rows[0][increment._meta.db_column_name]) if increment is not None and rows else None


async def get_row(
    table: type[Table], row_id: Any, *, for_update: bool = False, cached: bool = False
) -> dict[str, Any] | None:
    """One row by primary key, every column (row-locked on PostgreSQL when asked).

    ``cached``: inside a transaction, a row read with ``for_update`` is kept for the rest of the
    transaction and given again instead of read again (this transaction holds its lock, and
    ``update_row`` keeps the copy current). For tables whose every write goes through ``update_row``;
    whoever rolls a savepoint back must drop the copies (``forget_cached``).
    """
    copies = copies_of(table) if cached else None
    if copies is not None:
        found = copies.get((table, row_id))
        if found is not None:
            return dict(found)
    lock = for_update and not isinstance(table._meta.db, SQLiteEngine)  # SQLite serialises writers already
    rows = await run(table, _select_by_id_sql(table, lock), row_id)
    if not rows:
        return None
    if copies is not None and for_update:
        _keep(table, row_id, rows[0])
    return rows[0]


async def insert_returning(table: type[Table], values: dict[str, Any], column: Column) -> Any:
    """Insert one row as ``insert_rows`` would and give back ``column`` (a serial id)."""
    name = column._meta.db_column_name
    rows = await run(table, f'{_insert_sql(table, 1)} RETURNING "{name}"', *row_values(table, values))
    return rows[0][name]


async def insert_kept(table: type[Table], values: dict[str, Any]) -> dict[str, Any]:
    """Insert one row (``values`` must hold its primary key) and keep it for the transaction, as a row
    it locked: nobody else sees it before the commit. Returns it as ``get_row`` would; on PostgreSQL
    in one statement (``RETURNING``)."""
    pk = table._meta.primary_key._meta.db_column_name
    converted = row_values(table, values)
    transaction = table._meta.db.current_transaction.get()
    if transaction is None or not isinstance(table._meta.db, PostgresEngine):
        await insert_values(table, [converted])
        found = await get_row(table, values[pk], for_update=True, cached=True)
        assert found is not None, "a row inserted in this transaction is there"
        return found
    returning = _select_sql(table).removeprefix("SELECT ").split(" FROM ")[0]
    sql = f"{_insert_sql(table, 1)} RETURNING {returning}"
    row = (await run(table, sql, *converted, sees_updates=False))[0]
    _keep(table, _key(table, row[pk]), row)
    return dict(row)


def _keep(table: type[Table], row_id: Any, row: dict[str, Any]) -> None:
    transaction = table._meta.db.current_transaction.get()
    state = of_transaction(transaction)
    state.rows[(table, row_id)] = dict(row)
    state.first.setdefault((table, row_id), dict(row))


def as_first_locked(table: type[Table], row_id: Any) -> dict[str, Any] | None:
    """The row as this transaction first locked it (``lock_rows`` / ``get_row(..., cached=True)``):
    every change since was made by this transaction. None if it was not kept (or a savepoint rolled
    back since, which may have released the lock)."""
    transaction = table._meta.db.current_transaction.get()
    if transaction is None:
        return None
    return of_transaction(transaction).first.get((table, row_id))


async def lock_rows(table: type[Table], row_ids: list[Any]) -> None:
    """Lock many rows by primary key in one query (in key order, so concurrent callers queue rather than
    deadlock) and keep them for the transaction, as ``get_row(..., for_update=True, cached=True)`` would."""
    await _read_and_keep(table, row_ids, lock=True)


async def keep_rows(table: type[Table], row_ids: list[Any]) -> None:
    """Read many rows by primary key in one query, unlocked, and keep them for the transaction:
    ``get_row(..., cached=True)`` then gives them without a query. For rows the transaction reads
    but rarely sees change (a sync push's addresses); their writes must go through ``update_row``."""
    await _read_and_keep(table, row_ids, lock=False)


async def _read_and_keep(table: type[Table], row_ids: list[Any], *, lock: bool) -> None:
    copies = copies_of(table)
    if copies is None:
        return
    wanted = sorted({i for i in row_ids if i is not None and (table, i) not in copies})
    if not wanted:
        return
    pk = table._meta.primary_key._meta.db_column_name
    placeholders = ", ".join(["{}"] * len(wanted))
    locking = " FOR NO KEY UPDATE" if lock and not isinstance(table._meta.db, SQLiteEngine) else ""
    sql = f'{_select_sql(table)} WHERE "{pk}" IN ({placeholders}) ORDER BY "{pk}"{locking}'
    for row in await run(table, sql, *wanted):
        key = _key(table, row[pk])
        if lock:
            _keep(table, key, row)  # also remembered as first locked
        else:
            copies[(table, key)] = row


def kept_row(table: type[Table], row_id: Any) -> dict[str, Any] | None:
    """A row kept for the current transaction, without a query (None if not kept)."""
    copies = copies_of(table)
    found = copies.get((table, row_id)) if copies is not None else None
    return None if found is None else dict(found)


def _as_read(value: Any) -> Any:
    """A written value as the database gives it back (timestamps in UTC)."""
    return value.astimezone(UTC) if isinstance(value, datetime) and value.tzinfo is not None else value


@functools.lru_cache(maxsize=256)
def _insert_sql(table: type[Table], count: int) -> str:
    columns = insertable(table)
    names = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
    group = "(" + ", ".join(["{}"] * len(columns)) + ")"
    return f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ' + ", ".join([group] * count)  # noqa: S608


async def insert_rows(table: type[Table], rows: list[dict[str, Any]], *, deferrable: bool = False) -> None:
    """Insert rows given as ``{column name: value}``; other columns get their defaults, as with ``Table(...)``.

    ``deferrable``: inside ``sync.deferred.deferred_inserts()`` the rows are checked and converted now
    but written with the block's other rows of the table, in one statement, when the block ends (or
    before the table is read: ``flush_deferred``)."""
    if not rows:
        return
    values = [row_values(table, row) for row in rows]
    pending = deferred_of(table) if deferrable else None
    if pending is not None:
        pending.tables.setdefault(table, Pending()).rows.extend(values)
        return
    await insert_values(table, values)


async def insert_values(table: type[Table], values: list[list[Any]]) -> None:
    if isinstance(table._meta.db, PostgresEngine) and len(values) > 1:
        await run(table, _unnest_insert_sql(table), *_columns_of(values), sees_updates=False)
        return
    per_statement = max(1, 30_000 // len(insertable(table)))  # under SQLite's parameter limit
    for start in range(0, len(values), per_statement):
        chunk = values[start : start + per_statement]
        await run(table, _insert_sql(table, len(chunk)), *(value for row in chunk for value in row), sees_updates=False)


@functools.cache
def _unnest_insert_sql(table: type[Table]) -> str:
    """A many-row insert on PostgreSQL: one array a column, so one statement text (prepared once per
    connection) whatever the number of rows; ``VALUES`` lists would be a new statement for each count."""
    columns = insertable(table)
    names = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
    arrays = ", ".join(f"{{}}::{array_type(c)}[]" for c in columns)
    return f'INSERT INTO "{table._meta.tablename}" ({names}) SELECT * FROM unnest({arrays})'  # noqa: S608


def _columns_of(rows: list[list[Any]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


_UPDATES_DEFERRED: set[type[Table]] = set()


def defer_updates_of(*tables: type[Table]) -> None:
    """Let ``update_row`` defer changes to kept rows of ``tables``: tables written only through it while
    a transaction keeps their rows (visits and cases), with no unique index on a column it changes (an
    insert does not wait for the deferred changes of other rows)."""
    _UPDATES_DEFERRED.update(tables)


async def flush_updates(table: type[Table]) -> None:
    """Write the deferred changes to rows of ``table`` in the transaction its database has open: per
    set of columns, one statement (PostgreSQL: ``UPDATE ... FROM unnest``), values from the kept copies."""
    await flush_updates_in(table._meta.db, only=table)


async def flush_updates_in(db: Any, *, only: type[Table] | None = None) -> None:
    """``flush_updates`` of every table (or ``only``) for the transaction the engine ``db`` has open (its
    engine calls it before every query it runs)."""
    transaction = db.current_transaction.get()
    if transaction is None:
        return
    state = states.get()
    if state is None or state.transaction is not transaction:
        return
    pending = state.deferred
    if pending is None or not pending.updates:
        return
    if only is None:
        updates, pending.updates = pending.updates, {}
    else:
        updates = {key: columns for key, columns in pending.updates.items() if key[0] is only}
        pending.updates = {key: columns for key, columns in pending.updates.items() if key[0] is not only}
    pending.dirty = {table for table, _ in pending.updates}
    groups: dict[tuple[type[Table], tuple[Column, ...]], list[tuple[Any, ...]]] = {}
    for (owner, row_id), columns in updates.items():
        ordered = tuple(sorted(columns, key=lambda c: c._meta.name))
        copy = state.rows[(owner, row_id)]  # a rolled-back savepoint restores what it drops (deferred_undo)
        groups.setdefault((owner, ordered), []).append((row_id, *(copy[c._meta.name] for c in ordered)))
    for (owner, ordered), rows in groups.items():
        await update_many(owner, ordered, rows)


async def insert_new(table: type[Table], rows: list[dict[str, Any]]) -> set[Any]:
    """Insert the rows whose primary key is not taken yet; the keys inserted.

    One statement (``ON CONFLICT DO NOTHING``): a key that a concurrent transaction has just inserted
    waits for it, and counts as taken if it commits."""
    if not rows:
        return set()
    pk = table._meta.primary_key._meta.db_column_name
    values = [row_values(table, row) for row in rows]
    tail = f' ON CONFLICT ("{pk}") DO NOTHING RETURNING "{pk}"'
    if isinstance(table._meta.db, PostgresEngine):
        inserted = await run(table, _unnest_insert_sql(table) + tail, *_columns_of(values))
    else:
        inserted = await run(table, _insert_sql(table, len(rows)) + tail, *(v for row in values for v in row))
    return {_key(table, row[pk]) for row in inserted}


def _key(table: type[Table], value: Any) -> Any:
    """A primary key as the database gave it (SQLite returns UUIDs as text)."""
    return UUID(value) if isinstance(value, str) and table._meta.primary_key.value_type is UUID else value


async def update_many(table: type[Table], columns: tuple[Column, ...], rows: list[tuple[Any, ...]]) -> None:
    """Set ``columns`` of many rows by primary key: each row is (key, value per column).

    PostgreSQL: one statement over arrays; SQLite (in-process, writers serialised): a statement a row."""
    if not rows:
        return
    if isinstance(table._meta.db, PostgresEngine):
        sql, converters = _update_many_sql(table, columns)
        await run(table, sql, *([convert(row[i]) for row in rows] for i, convert in enumerate(converters)))
        return
    for key, *values in rows:
        await _update_now(table, key, dict(zip(columns, values, strict=True)))


_UPDATE_MANY: dict[tuple[type[Table], tuple[str, ...]], tuple[str, tuple[Convert, ...]]] = {}


def _update_many_sql(table: type[Table], columns: tuple[Column, ...]) -> tuple[str, tuple[Convert, ...]]:
    """``update_many``'s statement and the converters of its arrays (key first), made once per set of columns."""
    key = (table, tuple(c._meta.name for c in columns))
    found = _UPDATE_MANY.get(key)
    if found is None:
        everything = (table._meta.primary_key, *columns)
        names = ", ".join(f'"{c._meta.db_column_name}"' for c in everything)
        arrays = ", ".join(f"{{}}::{array_type(c)}[]" for c in everything)
        sets = ", ".join(f'"{n}" = v."{n}"' for n in (c._meta.db_column_name for c in columns))
        name = table._meta.primary_key._meta.db_column_name
        sql = (
            f'UPDATE "{table._meta.tablename}" AS t SET {sets} FROM unnest({arrays}) AS v({names}) '  # noqa: S608
            f'WHERE t."{name}" = v."{name}"'
        )
        found = _UPDATE_MANY[key] = (sql, tuple(converter(c) for c in everything))
    return found


async def delete_many(table: type[Table], keys: list[Any]) -> None:
    """Delete rows by primary key."""
    if keys:
        pk = table._meta.primary_key._meta.db_column_name
        placeholders = ", ".join(["{}"] * len(keys))
        await run(table, f'DELETE FROM "{table._meta.tablename}" WHERE "{pk}" IN ({placeholders})', *keys)  # noqa: S608
