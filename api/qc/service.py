"""Quality control: each month a share (default 30%) of every collector's completed visits is drawn
for review; supervisors review them. Never commits."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from api.cases.service import team_filter
from api.errors import NotYourData
from api.people.roles import Principal
from api.qc import repository as repo
from api.qc import schemas
from api.qc.errors import ReviewNotFound

Row = dict[str, Any]


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The UTC instants a YYYY-MM month spans, as ``[start, end)``."""
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=UTC)
    return start, end


def sample_size(completed: int, share: float) -> int:
    """At least ``share`` of the visits (rounded up), never more than there are."""
    return min(completed, math.ceil(completed * share - 1e-9))


def draw(visit_ids: list[UUID], already: set[UUID], size: int, seed: str) -> list[UUID]:
    """Top a collector's sample up to ``size`` with visits not drawn yet (reproducible per seed)."""
    missing = size - len([v for v in visit_ids if v in already])
    candidates = sorted(v for v in visit_ids if v not in already)
    if missing <= 0 or not candidates:
        return []
    return random.Random(seed).sample(candidates, min(missing, len(candidates)))  # noqa: S311 - sampling, not crypto


async def sample_month(month: str, share: float) -> schemas.SampleResult:
    """Draw (or top up) the month's sample for every collector."""
    start, end = month_bounds(month)
    by_collector: dict[UUID, list[Row]] = defaultdict(list)
    for row in await repo.completed_visits(start, end):
        by_collector[row["assigned_to"]].append(row)
    already = await repo.sampled_visit_ids(month)
    drawn = 0
    for collector_id, rows in by_collector.items():
        ids = [r["id"] for r in rows]
        team = {r["id"]: r["team"] for r in rows}
        for visit_id in draw(ids, already, sample_size(len(ids), share), f"{month}:{collector_id}"):
            await repo.create_review(visit_id, collector_id, team[visit_id], month)
            drawn += 1
    total = sum(len(rows) for rows in by_collector.values())
    return schemas.SampleResult(month=month, drawn=drawn, total_sampled=len(already) + drawn, completed_visits=total)


def _review(row: Row) -> schemas.Review:
    return schemas.Review(
        id=row["id"],
        visit_id=row["visit"],
        collector_id=row["collector"],
        team_id=row["team"],
        month=row["month"],
        state=row["state"],
        reviewer_id=row["reviewer"],
        comment=row["comment"],
        sampled_at=row["sampled_at"],
        reviewed_at=row["reviewed_at"],
    )


async def list_reviews(
    viewer: Principal, month: str | None, state: str | None, collector_id: UUID | None, limit: int, offset: int
) -> list[schemas.Review]:
    """Reviews of the viewer's team (all for admins)."""
    rows = await repo.list_reviews(
        team_id=team_filter(viewer, None),
        month=month,
        state=state,
        collector_id=collector_id,
        limit=limit,
        offset=offset,
    )
    return [_review(r) for r in rows]


async def review(review_id: UUID, data: schemas.ReviewUpdate, viewer: Principal) -> schemas.Review:
    """Record a supervisor's verdict on a sampled visit."""
    row = await repo.get_review(review_id)
    if row is None:
        raise ReviewNotFound(f"no QC review with id {review_id}")
    if not viewer.manages_team(row["team"]):
        raise NotYourData("this review belongs to another team")
    await repo.update_review(review_id, data.state, viewer.user_id, data.comment)
    updated = await repo.get_review(review_id)
    assert updated is not None
    return _review(updated)
