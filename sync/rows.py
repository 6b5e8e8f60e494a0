"""Rows on hot paths: a primary-key lookup and plain inserts whose SQL is composed once per table.

Piccolo's query builder spends more CPU composing a query (columns, joins, value conversion) than
PostgreSQL spends running a primary-key lookup or a one-row insert. The queries every sync mutation
runs go through these helpers instead; they give and take the same rows as ``Table.select()`` and
``Table(...)`` + ``insert`` (defaults computed the same way, values converted as Piccolo would).
Inside a PostgreSQL transaction they run on its asyncpg connection directly, with the ``$n`` form of
each SQL template worked out once (Piccolo's ``raw`` re-parses the template and wraps every call in
a query object: ~60 µs a query, a fifth of a sync mutation's CPU). Portable: PostgreSQL and SQLite.
"""

from __future__ import annotations

import functools
import string
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from piccolo.columns.base import Column
from piccolo.columns.column_types import JSON, JSONB
from piccolo.columns.defaults.base import Default
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString
from piccolo.table import Table
from piccolo.utils.sql_values import convert_to_sql_value


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


async def run(table: type[Table], template: str, *args: Any) -> list[dict[str, Any]]:
    """Run SQL with ``{}`` placeholders on ``table``'s database; rows as dicts, as ``Table.raw`` gives them."""
    db = table._meta.db
    if isinstance(db, PostgresEngine):
        transaction = db.current_transaction.get()
        if transaction is not None:
            records = await transaction.connection.fetch(_numbered(template), *args)
            return [dict(record) for record in records]
    rows: list[dict[str, Any]] = await table.raw(template, *args)
    return rows


_PLAIN = frozenset({str, int, float, bool, UUID, datetime, date, Decimal, type(None)})


def sql_value(value: Any, column: Column) -> Any:
    """``value`` as the database takes it for ``column`` (Piccolo's conversion, with a fast lane for
    the plain types that need none)."""
    kind = type(value)
    if kind in _PLAIN and (kind is str or value is None or not isinstance(column, JSON | JSONB)):
        return value
    return convert_to_sql_value(value, column)


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
    """Write ``values`` to one row (and add 1 to ``increment``, returning its new value)."""
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
    return int(rows[0][increment._meta.db_column_name]) if increment is not None and rows else None


async def get_row(table: type[Table], row_id: Any, *, for_update: bool = False) -> dict[str, Any] | None:
    """One row by primary key, every column (row-locked on PostgreSQL when asked)."""
    lock = for_update and not isinstance(table._meta.db, SQLiteEngine)  # SQLite serialises writers already
    rows = await run(table, _select_by_id_sql(table, lock), row_id)
    return rows[0] if rows else None


@functools.cache
def _insertable(table: type[Table]) -> tuple[Column, ...]:
    return tuple(c for c in table._meta.columns if not isinstance(c.get_default_value(), QueryString))


@functools.cache
def _names(table: type[Table]) -> frozenset[str]:
    return frozenset(c._meta.name for c in table._meta.columns)


@functools.cache
def _plan(table: type[Table]) -> tuple[tuple[str, Column, bool], ...]:
    """Per insertable column: its name, the column, whether it holds JSON."""
    return tuple((c._meta.name, c, isinstance(c, JSON | JSONB)) for c in _insertable(table))


def _row_values(table: type[Table], values: dict[str, Any]) -> list[Any]:
    if not _names(table).issuperset(values):  # as Table(**values) would
        unknown = set(values) - _names(table)
        raise ValueError(f"{table._meta.tablename} has no column {', '.join(sorted(unknown))}")
    out = []
    for name, column, holds_json in _plan(table):
        if name in values:
            value = values[name]
        else:
            value = column.get_default_value()
            if isinstance(value, Default):
                value = value.python()
        kind = type(value)
        if kind in _PLAIN and (kind is str or value is None or not holds_json):
            out.append(value)
        else:
            out.append(convert_to_sql_value(value, column))
    return out


@functools.lru_cache(maxsize=256)
def _insert_sql(table: type[Table], count: int) -> str:
    columns = _insertable(table)
    names = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
    group = "(" + ", ".join(["{}"] * len(columns)) + ")"
    return f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ' + ", ".join([group] * count)  # noqa: S608


async def insert_rows(table: type[Table], rows: list[dict[str, Any]]) -> None:
    """Insert rows given as ``{column name: value}``; other columns get their defaults, as with ``Table(...)``."""
    if not rows:
        return
    await run(table, _insert_sql(table, len(rows)), *(value for row in rows for value in _row_values(table, row)))


async def insert_new(table: type[Table], rows: list[dict[str, Any]]) -> set[Any]:
    """Insert the rows whose primary key is not taken yet; the keys inserted.

    One statement (``ON CONFLICT DO NOTHING``): a key that a concurrent transaction has just inserted
    waits for it, and counts as taken if it commits."""
    if not rows:
        return set()
    pk = table._meta.primary_key._meta.db_column_name
    sql = f'{_insert_sql(table, len(rows))} ON CONFLICT ("{pk}") DO NOTHING RETURNING "{pk}"'
    inserted = await run(table, sql, *(value for row in rows for value in _row_values(table, row)))
    return {_key(table, row[pk]) for row in inserted}


def _key(table: type[Table], value: Any) -> Any:
    """A primary key as the database gave it (SQLite returns UUIDs as text)."""
    return UUID(value) if isinstance(value, str) and table._meta.primary_key.value_type is UUID else value


async def update_many(table: type[Table], columns: tuple[Column, ...], rows: list[tuple[Any, ...]]) -> None:
    """Set ``columns`` of many rows by primary key: each row is (key, value per column).

    PostgreSQL: one statement over arrays; SQLite (in-process, writers serialised): a statement a row."""
    if not rows:
        return
    pk = table._meta.primary_key
    if isinstance(table._meta.db, PostgresEngine):
        everything = (pk, *columns)
        names = ", ".join(f'"{c._meta.db_column_name}"' for c in everything)
        arrays = ", ".join(f"{{}}::{_array_type(c)}[]" for c in everything)
        sets = ", ".join(f'"{n}" = v."{n}"' for n in (c._meta.db_column_name for c in columns))
        name = pk._meta.db_column_name
        sql = (
            f'UPDATE "{table._meta.tablename}" AS t SET {sets} FROM unnest({arrays}) AS v({names}) '  # noqa: S608
            f'WHERE t."{name}" = v."{name}"'
        )
        await run(table, sql, *([sql_value(row[i], c) for row in rows] for i, c in enumerate(everything)))
        return
    for key, *values in rows:
        await update_row(table, key, dict(zip(columns, values, strict=True)))


def _array_type(column: Column) -> str:
    kind = column.column_type
    return "text" if kind.startswith("VARCHAR") else kind.lower()


async def delete_many(table: type[Table], keys: list[Any]) -> None:
    """Delete rows by primary key."""
    if keys:
        pk = table._meta.primary_key._meta.db_column_name
        placeholders = ", ".join(["{}"] * len(keys))
        await run(table, f'DELETE FROM "{table._meta.tablename}" WHERE "{pk}" IN ({placeholders})', *keys)  # noqa: S608
