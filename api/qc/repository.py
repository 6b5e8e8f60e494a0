"""Every query of quality control."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from api.cases.tables import Visit
from api.qc.tables import QcReview

Row = dict[str, Any]


async def completed_visits(start: datetime, end: datetime) -> list[Row]:
    """Visits completed in ``[start, end)`` with their collector and team."""
    return (
        await Visit.select(Visit.id, Visit.assigned_to, Visit.team)
        .where((Visit.status == "completed") & (Visit.completed_at >= start) & (Visit.completed_at < end))
        .where(Visit.assigned_to.is_not_null())
        .order_by(Visit.id)
    )


async def sampled_visit_ids(month: str) -> set[UUID]:
    """Visits already drawn for a month."""
    rows = await QcReview.select(QcReview.visit).where(QcReview.month == month)
    return {UUID(str(r["visit"])) for r in rows}


async def create_review(visit_id: UUID, collector_id: UUID, team_id: UUID | None, month: str) -> None:
    """Insert a pending review."""
    await QcReview.insert(QcReview(visit=visit_id, collector=collector_id, team=team_id, month=month))


async def get_review(review_id: UUID) -> Row | None:
    """A review."""
    return await QcReview.select().where(QcReview.id == review_id).first()


async def list_reviews(
    *, team_id: UUID | None, month: str | None, state: str | None, collector_id: UUID | None, limit: int, offset: int
) -> list[Row]:
    """Reviews, by month then sampling time."""
    query = QcReview.select().order_by(QcReview.month, ascending=False).order_by(QcReview.sampled_at)
    if team_id is not None:
        query = query.where(QcReview.team == team_id)
    if month is not None:
        query = query.where(QcReview.month == month)
    if state is not None:
        query = query.where(QcReview.state == state)
    if collector_id is not None:
        query = query.where(QcReview.collector == collector_id)
    return await query.limit(limit).offset(offset)


async def update_review(review_id: UUID, state: str, reviewer: UUID, comment: str) -> None:
    """Record a verdict."""
    await QcReview.update(
        {
            QcReview.state: state,
            QcReview.reviewer: reviewer,
            QcReview.comment: comment,
            QcReview.reviewed_at: datetime.now(UTC),
        }
    ).where(QcReview.id == review_id)
