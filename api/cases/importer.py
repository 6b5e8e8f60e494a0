"""Importing cases from the upstream system: streamed, batched, idempotent, with a per-row report.

Each batch is one transaction: new cases are bulk-inserted (COPY on PostgreSQL), changed cases are
updated, unchanged ones (same digest) are left alone, so importing a file twice changes nothing.
A batch the database refuses is retried row by row, so a bad row never stops the good ones.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID

import msgspec

from api.cases import import_repository as repo
from api.cases import repository as cases_repo
from api.cases.errors import ImportFormatUnknown, ImportHeaderInvalid
from api.cases.import_format import (
    COLUMNS,
    REQUIRED,
    CsvPlan,
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


Record = tuple[int, dict[str, Any] | str, bool]  # row number, the row (or why it is unreadable), flat?


def _plan(record: list[str]) -> CsvPlan:
    header = [h.strip() for h in record]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        raise ImportHeaderInvalid(f"missing columns {missing}, unknown columns {unknown}")
    return CsvPlan(header)


async def _csv_dicts(lines: AsyncIterator[str]) -> AsyncIterator[Record]:
    plan: CsvPlan | None = None
    number = 0
    async for batch in csv_records(lines):
        for values in batch:
            if plan is None:
                if isinstance(values, str):
                    raise ImportHeaderInvalid(f"the header row is {values}")
                plan = _plan(values)
                continue
            number += 1
            if isinstance(values, str):
                yield number, values, False
            elif len(values) != plan.width:
                yield number, f"expected {plan.width} fields, found {len(values)}", False
            else:
                yield number, plan.record(values), False


async def _jsonl_dicts(lines: AsyncIterator[str]) -> AsyncIterator[Record]:
    number = 0
    async for line in lines:
        if not line.strip():
            continue
        number += 1
        try:
            value = json.loads(line)
        except ValueError as exc:
            yield number, f"not JSON: {exc}", True
            continue
        yield number, value if isinstance(value, dict) else "each line must be a JSON object", True


def _records(chunks: AsyncIterator[bytes], content_type: str) -> AsyncIterator[Record]:
    media = content_type.split(";")[0].strip().lower()
    if media in ("text/csv", "application/csv"):
        return _csv_dicts(decoded_lines(chunks))
    if media in ("application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/json-lines"):
        return _jsonl_dicts(decoded_lines(chunks))
    raise ImportFormatUnknown(f"cannot import {media or 'a body without Content-Type'}")


async def import_stream(
    chunks: AsyncIterator[bytes], content_type: str, progress: Progress | None = None
) -> ImportReport:
    """Import a CSV or JSON Lines stream; returns the report.

    A batch is written while the next one is parsed, so the database and Python work side by side.
    """
    report = ImportReport()
    teams = await repo.team_ids_by_name()
    batch: list[tuple[int, ImportRow]] = []
    writing: asyncio.Task[None] | None = None
    async for number, record, flat in _records(chunks, content_type):
        report.rows += 1
        row = _validated(number, record, flat, teams, report)
        if row is not None:
            batch.append((number, row))
        if len(batch) >= BATCH:
            if writing is not None:
                await writing
            writing = asyncio.create_task(_flush(batch, teams, report, progress, report.rows))
            batch = []
    if writing is not None:
        await writing
    await _flush(batch, teams, report, progress, report.rows)
    return report


def _validated(
    number: int, record: dict[str, Any] | str, flat: bool, teams: dict[str, UUID], report: ImportReport
) -> ImportRow | None:
    if isinstance(record, str):
        report.fail(number, record)
        return None
    try:
        row = parse_row(record, flat=flat)
    except (msgspec.ValidationError, ValueError, TypeError) as exc:
        report.fail(number, str(exc))
        return None
    if row.team is not None and row.team not in teams:
        report.fail(number, f"unknown team {row.team!r}")
        return None
    return row


async def _flush(
    batch: list[tuple[int, ImportRow]],
    teams: dict[str, UUID],
    report: ImportReport,
    progress: Progress | None,
    rows_read: int,
) -> None:
    rows = _last_wins(batch)
    if progress:
        progress(rows_read)
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


def new_id() -> UUID:
    """A random (version 4) UUID; cheaper than ``uuid4()`` per call, which the import makes a lot of."""
    return UUID(bytes=os.urandom(16), version=4)


def _case_values(row: ImportRow, teams: dict[str, UUID], row_digest: str) -> tuple[Any, ...]:
    """The upstream-owned fields of a case, in ``repo.CASE_FIELDS`` order."""
    return (
        row.source,
        row.external_ref,
        row.source_ref,
        row.debtor_name,
        row.national_id,
        row.phones,
        row.amount_owed,
        row.currency,
        row.days_past_due,
        stage_for(row.days_past_due).value,
        row.contact_state.value,
        teams.get(row.team) if row.team else None,
        row.last_contact_at,
        row.last_payment_at,
        row_digest,
    )


def _address_values(case_id: UUID, row: ImportRow, default_tz: str) -> list[tuple[Any, ...]]:
    """A row's addresses, in ``repo.ADDRESS_COLUMNS`` order."""
    return [
        (
            new_id(),
            case_id,
            a.kind.value,
            a.text,
            normalise_address(a.text),
            a.lat,
            a.lon,
            a.timezone or default_tz,
            "import",
        )
        for a in row.addresses
    ]


async def _apply(rows: list[tuple[int, ImportRow]], teams: dict[str, UUID]) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "unchanged": 0, "closed": 0}
    default_tz = get_settings().compliance.default_timezone
    existing = await repo.existing_by_ref([row.source_ref for _, row in rows])
    new_cases: list[tuple[Any, ...]] = []
    new_addresses: list[tuple[Any, ...]] = []
    for _, row in rows:
        row_digest = digest(row)
        found = existing.get(row.source_ref)
        if found is None:
            case_id = new_id()
            new_cases.append((case_id, row.status, *_case_values(row, teams, row_digest)))
            new_addresses += _address_values(case_id, row, default_tz)
            counts["created"] += 1
        elif found["import_digest"] == row_digest:
            counts["unchanged"] += 1
        else:
            counts["closed"] += await _update(found, row, teams, row_digest, default_tz)
            counts["updated"] += 1
    await repo.insert_cases(new_cases)
    await repo.insert_addresses(new_addresses)
    return counts


async def _update(
    found: dict[str, Any], row: ImportRow, teams: dict[str, UUID], row_digest: str, default_tz: str
) -> int:
    """Update upstream-owned fields; add addresses not known yet; close the case if upstream did."""
    await repo.update_case_fields(found["id"], _case_values(row, teams, row_digest))
    known = {(a["kind"], a["normalised"]) for a in await repo.addresses_of(found["id"])}
    fresh = [a for a in _address_values(found["id"], row, default_tz) if (a[2], a[4]) not in known]
    await repo.insert_addresses(fresh)
    if row.status == "closed" and found["status"] != CaseStatus.CLOSED.value:
        await apply_case_event(found["id"], Event.CLOSED_UPSTREAM, "closed_upstream")
        for visit in await cases_repo.open_visits_of_case(found["id"]):
            await dispatch.cancel(visit, "case closed upstream", None, kind="cancelled_case_closed")
        return 1
    return 0
