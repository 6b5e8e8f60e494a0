"""The queries of the upstream import, tuned for volume: COPY into the tables on PostgreSQL,
chunked multi-row inserts on SQLite."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from api.cases.tables import Address, Case
from api.db import get_engine, is_sqlite
from api.people.tables import Team

Row = dict[str, Any]
# The upstream-owned fields of a case, in the order the importer builds them.
CASE_FIELDS = (
    "source",
    "external_ref",
    "source_ref",
    "debtor_name",
    "national_id_last4",
    "phones",
    "amount_owed",
    "currency",
    "days_past_due",
    "stage",
    "contact_state",
    "team",
    "last_contact_at",
    "last_payment_at",
    "import_digest",
)
CASE_COLUMNS = ("id", "status", *CASE_FIELDS)
ADDRESS_COLUMNS = ("id", "case", "kind", "text", "normalised", "lat", "lon", "timezone", "origin")
_PHONES = CASE_COLUMNS.index("phones")
_SQLITE_CHUNK = 400  # rows per INSERT: stays under SQLite's bound-parameter limit


async def team_ids_by_name() -> dict[str, UUID]:
    """Every team's id by name."""
    return {r["name"]: r["id"] for r in await Team.select(Team.id, Team.name)}


async def existing_by_ref(source_refs: list[str]) -> dict[str, Row]:
    """Cases already known, by source_ref."""
    if not source_refs:
        return {}
    rows = await Case.select(Case.id, Case.source_ref, Case.import_digest, Case.status).where(
        Case.source_ref.is_in(source_refs)
    )
    return {r["source_ref"]: r for r in rows}


def _connection() -> Any:
    transaction = get_engine().current_transaction.get()
    if transaction is None:
        raise RuntimeError("the import writes inside write_transaction()")
    return transaction.connection


async def insert_cases(rows: list[tuple[Any, ...]]) -> None:
    """Insert new cases in bulk (tuples in ``CASE_COLUMNS`` order)."""
    if not rows:
        return
    if not is_sqlite():
        records = [(*r[:_PHONES], json.dumps(r[_PHONES]), *r[_PHONES + 1 :]) for r in rows]
        await _connection().copy_records_to_table("collection_case", records=records, columns=list(CASE_COLUMNS))
        return
    for start in range(0, len(rows), _SQLITE_CHUNK):
        chunk = rows[start : start + _SQLITE_CHUNK]
        await Case.insert(*(Case(**dict(zip(CASE_COLUMNS, r, strict=True))) for r in chunk))


async def insert_addresses(rows: list[tuple[Any, ...]]) -> None:
    """Insert addresses in bulk (tuples in ``ADDRESS_COLUMNS`` order)."""
    if not rows:
        return
    if not is_sqlite():
        await _connection().copy_records_to_table("address", records=rows, columns=list(ADDRESS_COLUMNS))
        return
    for start in range(0, len(rows), _SQLITE_CHUNK):
        chunk = rows[start : start + _SQLITE_CHUNK]
        await Address.insert(*(Address(**dict(zip(ADDRESS_COLUMNS, r, strict=True))) for r in chunk))


async def update_case_fields(case_id: UUID, values: tuple[Any, ...]) -> None:
    """Overwrite the upstream-owned fields of a case (``CASE_FIELDS`` order)."""
    columns = {getattr(Case, name): value for name, value in zip(CASE_FIELDS, values, strict=True)}
    await Case.update({**columns, Case.version: Case.version + 1}).where(Case.id == case_id)


async def addresses_of(case_id: UUID) -> list[Row]:
    """A case's addresses (kind and normalised text)."""
    return await Address.select(Address.kind, Address.normalised).where(Address.case == case_id)
