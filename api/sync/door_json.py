"""A pull answered as JSON on PostgreSQL: the database writes each visit's JSON (``json_build_object``), the
server only picks which of them the page sends and splices them into the answer as they are.

The visits are most of a pull's bytes; decoding their columns into Python values, building Structs and
encoding them again was most of a pull's CPU. The JSON written here is the msgspec encoding of
``schemas.VisitAtDoor`` (same field names in the same order, ``null`` for None, UUIDs and dates as
msgspec writes them, datetimes in UTC with ``Z`` and microseconds only when there are some, amounts as
exact decimal strings). Floats are PostgreSQL's shortest exact text, which decodes to the same float
(``31`` where msgspec writes ``31.0``). The object keys are built from the Structs' own fields, so a field
added to a Struct without its SQL here fails at import. MessagePack answers and SQLite keep the Python path.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from api.db import fetch_pg
from api.sync import schemas
from sync import changes
from sync.feed import Cursor
from sync.protocol import Removal


def _ts(expr: str) -> str:
    """``expr`` (timestamptz) as msgspec writes an aware UTC datetime."""
    return f"""replace(to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '.000000Z', 'Z')"""


def _object(struct: type[msgspec.Struct], exprs: Mapping[str, str], alias: str) -> str:
    """``json_build_object`` over every field of ``struct``, in order: ``exprs[field]`` or ``alias.field``."""
    pairs = [f"'{name}', {exprs.get(name, f'{alias}.{name}')}" for name in struct.__struct_fields__]
    unknown = set(exprs) - set(struct.__struct_fields__)
    if unknown:
        raise RuntimeError(f"{struct.__name__} has no fields {sorted(unknown)}")
    return f"json_build_object({', '.join(pairs)})"


_PREVIOUS = _object(schemas.PreviousOutcome, {"visit_id": "o.visit", "at": _ts("o.recorded_at")}, "o")
_PROMISE = _object(schemas.OpenPromise, {"amount": "pr.amount::text"}, "pr")
_VISIT_JSON = _object(
    schemas.VisitAtDoor,
    {
        "eta": _ts("v.eta"),
        "appointment_start": _ts("v.appointment_start"),
        "appointment_end": _ts("v.appointment_end"),
        "address": _object(schemas.DoorAddress, {}, "a"),
        "case": _object(schemas.DoorCase, {"amount_owed": "c.amount_owed::text"}, "c"),
        "previous_outcomes": "COALESCE(prev.items, '[]'::json)",
        "promise": f"CASE WHEN pr.due_date IS NULL THEN NULL ELSE {_PROMISE} END",
    },
    "v",
)

# As ``door._PAGE_AT_DOOR_SQL``: one row per feed entry, in feed order, with what the server needs to decide
# whether the visit is still the collector's (its owners, its status, its case's status) and its JSON.
_PAGE_JSON_SQL = (
    f"WITH {changes.PG_PAGE_CTES} "  # noqa: S608 - constants
    "SELECT flag.pending, p.change_id, p.seq, p.entity, p.entity_id, p.kind, p.reason, "
    f'v.id AS visit, v.status, c.status AS case_status, v.assigned_to, v.partner, {_VISIT_JSON}::text AS "json" '
    "FROM flag LEFT JOIN page p ON true "
    "LEFT JOIN visit v ON p.entity = 'visit' AND v.id = p.entity_id "
    "LEFT JOIN address a ON a.id = v.address "
    'LEFT JOIN collection_case c ON c.id = v."case" '
    f"LEFT JOIN LATERAL (SELECT json_agg({_PREVIOUS} ORDER BY o.recorded_at) AS items "
    'FROM visit_outcome o WHERE o."case" = c.id AND o.visit IS DISTINCT FROM v.id '
    "AND o.state <> 'superseded') prev ON c.id IS NOT NULL "
    'LEFT JOIN LATERAL (SELECT due_date, amount, currency FROM promise WHERE "case" = c.id '
    "AND status = 'open' ORDER BY created_at DESC LIMIT 1) pr ON c.id IS NOT NULL "
    "ORDER BY p.seq"
)


class DoorJson(msgspec.Struct, frozen=True):
    """A visit as the database wrote it: its JSON, and what decides whether the collector still has it."""

    json: msgspec.Raw
    owners: frozenset[UUID]
    status: str
    case_status: str


AtDoorJson = dict[UUID, DoorJson]


class PullAnswer(msgspec.Struct):
    """``schemas.PullResponse`` with its visits as JSON already written (checked below: same fields)."""

    protocol: int
    server_time: datetime
    cursor: str
    has_more: bool
    visits: list[msgspec.Raw]
    removals: list[Removal]
    conflicts: list[schemas.ConflictView]


assert PullAnswer.__struct_fields__ == schemas.PullResponse.__struct_fields__


async def _fetch(scope: UUID, seq: int, limit: int) -> list[Mapping[str, Any]]:
    return await fetch_pg(_PAGE_JSON_SQL, scope, seq, limit)


async def page_at_door_json(scope: UUID, cursor: Cursor, limit: int) -> tuple[changes.Page, AtDoorJson]:
    """PostgreSQL: the scope's feed page after ``cursor`` (as ``sync.changes.read``) and each visit it names
    with its JSON, in one round trip."""
    page, rows = await changes.read_joined(scope, cursor, limit, _fetch)
    at_door: AtDoorJson = {}
    for row in rows:
        visit_id = row["visit"]
        if visit_id is not None and visit_id not in at_door:
            at_door[visit_id] = DoorJson(
                json=msgspec.Raw(row["json"].encode()),
                owners=frozenset((row["assigned_to"], row["partner"])) - {None},
                status=row["status"],
                case_status=row["case_status"],
            )
    return page, at_door
