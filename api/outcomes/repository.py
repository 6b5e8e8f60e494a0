"""Every query of outcomes, promises and agreements."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from api.db import insert_rows, is_sqlite
from api.outcomes.tables import Agreement, Promise, VisitOutcome
from sync.deferred import flush_deferred
from sync.rows import run

Row = dict[str, Any]


def _now() -> datetime:
    return datetime.now(UTC)


async def create_outcome(values: Row) -> UUID:
    """Insert an outcome record (deferrable, see ``sync.deferred``: every function here that reads
    outcomes, or writes a row referring to one, writes the deferred ones first)."""
    outcome_id = values.get("id") or uuid4()
    await insert_rows(VisitOutcome, [{**values, "id": outcome_id}], deferrable=True)
    return UUID(str(outcome_id))


async def latest_outcome(visit_id: UUID) -> Row | None:
    """The visit's current outcome record (the newest not superseded)."""
    await flush_deferred(VisitOutcome)
    return (
        await VisitOutcome.select()
        .where((VisitOutcome.visit == visit_id) & (VisitOutcome.state != "superseded"))
        .order_by(VisitOutcome.recorded_at, ascending=False)
        .first()
    )


async def pending_confirmation(case_id: UUID, code: str) -> Row | None:
    """The outcome of a case waiting for a supervisor's confirmation."""
    await flush_deferred(VisitOutcome)
    return (
        await VisitOutcome.select()
        .where(
            (VisitOutcome.case == case_id)
            & (VisitOutcome.code == code)
            & (VisitOutcome.state == "pending_confirmation")
        )
        .first()
    )


async def decide_outcome(outcome_id: UUID, state: str, by: UUID) -> None:
    """Mark an outcome confirmed or rejected."""
    await flush_deferred(VisitOutcome)
    await VisitOutcome.update(
        {VisitOutcome.state: state, VisitOutcome.decided_by: by, VisitOutcome.decided_at: _now()}
    ).where(VisitOutcome.id == outcome_id)


async def supersede_open_promises(case_id: UUID) -> None:
    """A new promise replaces the open ones."""
    sql = "UPDATE promise SET status = 'superseded', resolved_at = {} WHERE \"case\" = {} AND status = 'open'"
    await run(Promise, sql, _now(), case_id)


async def create_promise(values: Row) -> UUID:
    """Insert a promise."""
    await flush_deferred(VisitOutcome)
    promise_id = values.get("id") or uuid4()
    await insert_rows(Promise, [{**values, "id": promise_id}])
    return UUID(str(promise_id))


async def list_due_promises(before: date, limit: int = 500) -> list[Row]:
    """Open promises whose date has passed."""
    return await Promise.select().where((Promise.status == "open") & (Promise.due_date < before)).limit(limit)


async def get_promise(promise_id: UUID, *, for_update: bool = False) -> Row | None:
    """A promise by id."""
    query = Promise.select().where(Promise.id == promise_id)
    if for_update and not is_sqlite():
        query = query.lock_rows("NO KEY UPDATE")
    return await query.first()


async def resolve_promise(promise_id: UUID, status: str) -> None:
    """Mark a promise kept or broken."""
    await Promise.update({Promise.status: status, Promise.resolved_at: _now()}).where(Promise.id == promise_id)


async def list_promises(case_id: UUID) -> list[Row]:
    """A case's promises, newest first."""
    return await Promise.select().where(Promise.case == case_id).order_by(Promise.created_at, ascending=False)


async def create_agreement(values: Row) -> UUID:
    """Insert an agreement."""
    await flush_deferred(VisitOutcome)
    agreement = Agreement(**values)
    await agreement.save()
    return UUID(str(agreement.id))


async def get_agreement(agreement_id: UUID, *, for_update: bool = False) -> Row | None:
    """An agreement by id, with its case's team."""
    query = Agreement.select(*Agreement.all_columns(), Agreement.case.team.as_alias("team_id")).where(
        Agreement.id == agreement_id
    )
    if for_update and not is_sqlite():
        query = query.lock_rows("NO KEY UPDATE", of=(Agreement,))
    return await query.first()


async def list_agreements(
    *, team_id: UUID | None, status: str | None, case_id: UUID | None, limit: int, offset: int
) -> list[Row]:
    """Agreements, newest first."""
    query = Agreement.select(*Agreement.all_columns(), Agreement.case.team.as_alias("team_id")).order_by(
        Agreement.created_at, ascending=False
    )
    if team_id is not None:
        query = query.where(Agreement.case.team == team_id)
    if status is not None:
        query = query.where(Agreement.status == status)
    if case_id is not None:
        query = query.where(Agreement.case == case_id)
    return await query.limit(limit).offset(offset)


async def decide_agreement(agreement_id: UUID, status: str, by: UUID, comment: str) -> None:
    """Record an approval decision."""
    await Agreement.update(
        {
            Agreement.status: status,
            Agreement.decided_by: by,
            Agreement.decided_at: _now(),
            Agreement.decision_comment: comment,
        }
    ).where(Agreement.id == agreement_id)


async def supersede_outcomes(visit_id: UUID) -> None:
    """Mark a visit's current outcomes superseded (they stay on record)."""
    await flush_deferred(VisitOutcome)
    await VisitOutcome.update({VisitOutcome.state: "superseded"}).where(
        (VisitOutcome.visit == visit_id) & (VisitOutcome.state != "superseded")
    )
