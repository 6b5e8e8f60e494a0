"""Importing cases from the upstream system: streamed, batched, idempotent, with a per-row report.

Each batch is one transaction: new cases are bulk-inserted (COPY on PostgreSQL), changed cases are
updated, unchanged ones (same digest) are left alone, so importing a file twice changes nothing.
A batch the database refuses is retried row by row, so a bad row never stops the good ones.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import msgspec

from api.cases import import_repository as repo
from api.cases import repository as cases_repo
from api.cases.errors import ImportFormatUnknown, ImportHeaderInvalid
from api.cases.import_format import (
    COLUMNS,
    REQUIRED,
    ImportRow,
    RowError,
    csv_records,
    decoded_lines,
    digest,
    parse_row,
)
from api.cases.rules import normalise_address, stage_for
from api.db import write_transaction
from api.dispatch import service as dispatch
from api.outcomes.case_states import CaseStatus, Event
from api.outcomes.service import apply_case_event
from api.settings import get_settings

BATCH = 2000
MAX_REPORTED_ERRORS = 1000
Progress = Callable[[int], None]


class ImportReport(msgspec.Struct):
    """What an import did. ``errors`` lists the first 1,000 bad rows (row 1 is the first data row)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0
    failed: int = 0
    errors: list[RowError] = msgspec.field(default_factory=list)

    def fail(self, row: int, error: str) -> None:
        self.failed += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row=row, error=error))


@dataclass
class _Batch:
    rows: list[tuple[int, ImportRow]] = field(default_factory=list)


async def _csv_dicts(lines: AsyncIterator[str]) -> AsyncIterator[tuple[int, dict[str, Any] | str]]:
    header: list[str] | None = None
    number = 0
    async for record in csv_records(lines):
        if header is None:
            header = [h.strip() for h in record]
            missing = [c for c in REQUIRED if c not in header]
            unknown = [c for c in header if c not in COLUMNS]
            if missing or unknown:
                raise ImportHeaderInvalid(f"missing columns {missing}, unknown columns {unknown}")
            continue
        number += 1
        if len(record) != len(header):
            yield number, f"expected {len(header)} fields, found {len(record)}"
            continue
        yield number, dict(zip(header, record, strict=True))


async def _jsonl_dicts(lines: AsyncIterator[str]) -> AsyncIterator[tuple[int, dict[str, Any] | str]]:
    number = 0
    async for line in lines:
        if not line.strip():
            continue
        number += 1
        try:
            value = json.loads(line)
        except ValueError as exc:
            yield number, f"not JSON: {exc}"
            continue
        yield number, value if isinstance(value, dict) else "each line must be a JSON object"


def _records(chunks: AsyncIterator[bytes], content_type: str) -> AsyncIterator[tuple[int, dict[str, Any] | str]]:
    media = content_type.split(";")[0].strip().lower()
    if media in ("text/csv", "application/csv"):
        return _csv_dicts(decoded_lines(chunks))
    if media in ("application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/json-lines"):
        return _jsonl_dicts(decoded_lines(chunks))
    raise ImportFormatUnknown(f"cannot import {media or 'a body without Content-Type'}")


async def import_stream(
    chunks: AsyncIterator[bytes], content_type: str, progress: Progress | None = None
) -> ImportReport:
    """Import a CSV or JSON Lines stream; returns the report."""
    report = ImportReport()
    teams = await repo.team_ids_by_name()
    batch = _Batch()
    async for number, record in _records(chunks, content_type):
        report.rows += 1
        row = _validated(number, record, teams, report)
        if row is not None:
            batch.rows.append((number, row))
        if len(batch.rows) >= BATCH:
            await _flush(batch, teams, report)
            if progress:
                progress(report.rows)
    await _flush(batch, teams, report)
    if progress:
        progress(report.rows)
    return report


def _validated(
    number: int, record: dict[str, Any] | str, teams: dict[str, UUID], report: ImportReport
) -> ImportRow | None:
    if isinstance(record, str):
        report.fail(number, record)
        return None
    try:
        row = parse_row(record)
    except (msgspec.ValidationError, ValueError, TypeError) as exc:
        report.fail(number, str(exc))
        return None
    if row.team is not None and row.team not in teams:
        report.fail(number, f"unknown team {row.team!r}")
        return None
    return row


async def _flush(batch: _Batch, teams: dict[str, UUID], report: ImportReport) -> None:
    rows, batch.rows = _last_wins(batch.rows), []
    if not rows:
        return
    try:
        async with write_transaction():
            counts = await _apply(rows, teams)
    except Exception:  # the database refused something in the batch: find the row, keep the rest
        counts = {"created": 0, "updated": 0, "unchanged": 0, "closed": 0}
        for number, row in rows:
            try:
                async with write_transaction():
                    single = await _apply([(number, row)], teams)
            except Exception as exc:
                report.fail(number, f"{type(exc).__name__}: {exc}")
                continue
            for key, value in single.items():
                counts[key] += value
    for key, value in counts.items():
        setattr(report, key, getattr(report, key) + value)


def _last_wins(rows: list[tuple[int, ImportRow]]) -> list[tuple[int, ImportRow]]:
    """If a file names a case twice in one batch, its later row is the one that counts."""
    by_ref = {row.source_ref: (number, row) for number, row in rows}
    return sorted(by_ref.values(), key=lambda item: item[0])


def _case_values(row: ImportRow, teams: dict[str, UUID], row_digest: str) -> dict[str, Any]:
    return {
        "source": row.source,
        "external_ref": row.external_ref,
        "source_ref": row.source_ref,
        "debtor_name": row.debtor_name,
        "national_id_last4": row.national_id,
        "phones": row.phones,
        "amount_owed": row.amount_owed,
        "currency": row.currency,
        "days_past_due": row.days_past_due,
        "stage": stage_for(row.days_past_due).value,
        "contact_state": row.contact_state.value,
        "team": teams.get(row.team) if row.team else None,
        "last_contact_at": row.last_contact_at,
        "last_payment_at": row.last_payment_at,
        "import_digest": row_digest,
    }


def _address_values(case_id: UUID, row: ImportRow) -> list[dict[str, Any]]:
    default_tz = get_settings().compliance.default_timezone
    return [
        {
            "id": uuid4(),
            "case": case_id,
            "kind": a.kind.value,
            "text": a.text,
            "normalised": normalise_address(a.text),
            "lat": a.lat,
            "lon": a.lon,
            "timezone": a.timezone or default_tz,
            "origin": "import",
        }
        for a in row.addresses
    ]


async def _apply(rows: list[tuple[int, ImportRow]], teams: dict[str, UUID]) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "unchanged": 0, "closed": 0}
    existing = await repo.existing_by_ref([row.source_ref for _, row in rows])
    new_cases: list[dict[str, Any]] = []
    new_addresses: list[dict[str, Any]] = []
    for _, row in rows:
        row_digest = digest(row)
        found = existing.get(row.source_ref)
        if found is None:
            values = {"id": uuid4(), "status": row.status, **_case_values(row, teams, row_digest)}
            new_cases.append(values)
            new_addresses += _address_values(values["id"], row)
            counts["created"] += 1
        elif found["import_digest"] == row_digest:
            counts["unchanged"] += 1
        else:
            closed = await _update(found, row, teams, row_digest)
            counts["updated"] += 1
            counts["closed"] += closed
    await repo.insert_cases(new_cases)
    await repo.insert_addresses(new_addresses)
    return counts


async def _update(found: dict[str, Any], row: ImportRow, teams: dict[str, UUID], row_digest: str) -> int:
    """Update upstream-owned fields; add addresses not known yet; close the case if upstream did."""
    await repo.update_case_fields(found["id"], _case_values(row, teams, row_digest))
    known = {(a["kind"], a["normalised"]) for a in await repo.addresses_of(found["id"])}
    fresh = [a for a in _address_values(found["id"], row) if (a["kind"], a["normalised"]) not in known]
    await repo.insert_addresses(fresh)
    if row.status == "closed" and found["status"] != CaseStatus.CLOSED.value:
        await apply_case_event(found["id"], Event.CLOSED_UPSTREAM, "closed_upstream")
        for visit in await cases_repo.open_visits_of_case(found["id"]):
            await dispatch.cancel(visit, "case closed upstream", None, kind="cancelled_case_closed")
        return 1
    return 0
