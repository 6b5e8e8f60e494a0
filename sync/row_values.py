"""How the values of a row become what the database takes: per column, a converter and a default,
worked out once per table (pure: no I/O). ``sync.rows`` writes the rows."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from asyncpg.pgproto.pgproto import UUID as PgUUID  # the UUIDs asyncpg gives back
from piccolo.columns.base import Column
from piccolo.columns.column_types import JSON, JSONB
from piccolo.columns.defaults.base import Default
from piccolo.querystring import QueryString
from piccolo.table import Table
from piccolo.utils.encoding import dump_json
from piccolo.utils.sql_values import convert_to_sql_value

_PLAIN = frozenset({str, int, float, bool, UUID, PgUUID, datetime, date, Decimal, type(None)})


def sql_value(value: Any, column: Column) -> Any:
    """``value`` as the database takes it for ``column`` (Piccolo's conversion, with a fast lane for
    the plain types that need none)."""
    kind = type(value)
    if kind in _PLAIN and (kind is str or value is None or not isinstance(column, JSON | JSONB)):
        return value
    return convert_to_sql_value(value, column)


@functools.cache
def insertable(table: type[Table]) -> tuple[Column, ...]:
    return tuple(c for c in table._meta.columns if not isinstance(c.get_default_value(), QueryString))


@functools.cache
def column_names(table: type[Table]) -> frozenset[str]:
    return frozenset(c._meta.name for c in table._meta.columns)


Convert = Callable[[Any], Any]
PlanEntry = tuple[str, Convert, Callable[[], Any] | None, Any]
_NO_CONSTANT = object()


def converter(column: Column) -> Convert:
    """``sql_value`` for one column, its type tests done once (a Piccolo ``ForeignKey`` answers every
    attribute lookup through a Python-level ``__getattribute__``: a row must not touch its columns)."""
    holds_json = isinstance(column, JSON | JSONB)

    def convert(value: Any) -> Any:
        kind = type(value)
        if kind in _PLAIN and (kind is str or value is None or not holds_json):
            return value
        if holds_json and (kind is dict or kind is list):
            return dump_json(value)  # what convert_to_sql_value does for them, minus its type tests
        return convert_to_sql_value(value, column)

    return convert


@functools.cache
def plan(table: type[Table]) -> tuple[PlanEntry, ...]:
    """Per insertable column: its name, its converter, and its default: a function giving a fresh value
    per row (``Default`` objects: now, a new UUID) or, when None, the constant (already converted)."""
    plan: list[PlanEntry] = []
    for column in insertable(table):
        convert = converter(column)
        default = column.get_default_value()
        if callable(getattr(column, "default", None)):  # a function Piccolo calls for each row
            plan.append((column._meta.name, convert, functools.partial(_call_default, column), _NO_CONSTANT))
        elif isinstance(default, Default):
            plan.append((column._meta.name, convert, default.python, _NO_CONSTANT))
        else:
            plan.append((column._meta.name, convert, None, convert(default)))
    return tuple(plan)


def _call_default(column: Column) -> Any:
    value = column.get_default_value()
    return value.python() if isinstance(value, Default) else value


def row_values(table: type[Table], values: dict[str, Any]) -> list[Any]:
    if not column_names(table).issuperset(values):  # as Table(**values) would
        unknown = set(values) - column_names(table)
        raise ValueError(f"{table._meta.tablename} has no column {', '.join(sorted(unknown))}")
    out = []
    for name, convert, fresh, constant in plan(table):
        if name in values:
            out.append(convert(values[name]))
        elif fresh is not None:
            out.append(convert(fresh()))
        else:
            out.append(constant)
    return out


def array_type(column: Column) -> str:
    kind = column.column_type
    return "text" if kind.startswith("VARCHAR") else kind.lower()
