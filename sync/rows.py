"""Rows on hot paths: a primary-key lookup and plain inserts whose SQL is composed once per table.

Piccolo's query builder spends more CPU composing a query (columns, joins, value conversion) than
PostgreSQL spends running a primary-key lookup or a one-row insert. The queries every sync mutation
runs go through these helpers instead; they give and take the same rows as ``Table.select()`` and
``Table(...)`` + ``insert`` (defaults computed the same way, values converted by Piccolo itself).
Portable: PostgreSQL and SQLite.
"""

from __future__ import annotations

import functools
from typing import Any

from piccolo.columns.base import Column
from piccolo.columns.defaults.base import Default
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString
from piccolo.table import Table
from piccolo.utils.sql_values import convert_to_sql_value


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
    rows: list[dict[str, Any]] = await table.raw(f"{_select_sql(table)} WHERE {where}", *args)
    return rows


async def update_row(
    table: type[Table], row_id: Any, values: dict[Column, Any], *, increment: Column | None = None
) -> int | None:
    """Write ``values`` to one row (and add 1 to ``increment``, returning its new value)."""
    names = [f'"{c._meta.db_column_name}" = {{}}' for c in values]
    args = [convert_to_sql_value(v, c) for c, v in values.items()]
    returning = ""
    if increment is not None:
        name = increment._meta.db_column_name
        names.append(f'"{name}" = "{name}" + 1')
        returning = f' RETURNING "{name}"'
    pk = table._meta.primary_key._meta.db_column_name
    sql = f'UPDATE "{table._meta.tablename}" SET {", ".join(names)} WHERE "{pk}" = {{}}{returning}'  # noqa: S608
    rows = await table.raw(sql, *args, row_id)
    return int(rows[0][increment._meta.db_column_name]) if increment is not None and rows else None


async def get_row(table: type[Table], row_id: Any, *, for_update: bool = False) -> dict[str, Any] | None:
    """One row by primary key, every column (row-locked on PostgreSQL when asked)."""
    lock = for_update and not isinstance(table._meta.db, SQLiteEngine)  # SQLite serialises writers already
    rows = await table.raw(_select_by_id_sql(table, lock), row_id)
    return rows[0] if rows else None


@functools.cache
def _insertable(table: type[Table]) -> tuple[Column, ...]:
    return tuple(c for c in table._meta.columns if not isinstance(c.get_default_value(), QueryString))


@functools.cache
def _names(table: type[Table]) -> frozenset[str]:
    return frozenset(c._meta.name for c in table._meta.columns)


def _row_values(table: type[Table], values: dict[str, Any]) -> list[Any]:
    unknown = set(values) - _names(table)
    if unknown:  # as Table(**values) would
        raise ValueError(f"{table._meta.tablename} has no column {', '.join(sorted(unknown))}")
    out = []
    for column in _insertable(table):
        name = column._meta.name
        if name in values:
            value = values[name]
        else:
            value = column.get_default_value()
            if isinstance(value, Default):
                value = value.python()
        out.append(convert_to_sql_value(value, column))
    return out


async def insert_rows(table: type[Table], rows: list[dict[str, Any]]) -> None:
    """Insert rows given as ``{column name: value}``; other columns get their defaults, as with ``Table(...)``."""
    if not rows:
        return
    columns = _insertable(table)
    names = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
    group = "(" + ", ".join(["{}"] * len(columns)) + ")"
    sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ' + ", ".join([group] * len(rows))  # noqa: S608
    await table.raw(sql, *(value for row in rows for value in _row_values(table, row)))
