"""Every query of route planning: plans and collector profiles (engine tables), and the visits,
addresses, cases and promises a plan reads."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from api.cases.tables import Visit
from api.db import is_sqlite
from api.outcomes.tables import Promise
from api.people.tables import User
from routing.tables import CollectorProfile, RoutePlan

Row = dict[str, Any]
PLANNABLE = ("requested", "assigned")
_CHUNK = 1_000


def now() -> datetime:
    """The server clock (UTC)."""
    return datetime.now(UTC)


# --- plans -----------------------------------------------------------------------------------

_SUMMARY = (
    RoutePlan.id,
    RoutePlan.team_id,
    RoutePlan.day,
    RoutePlan.status,
    RoutePlan.parent,
    RoutePlan.requested_by,
    RoutePlan.created_at,
    RoutePlan.published_at,
    RoutePlan.error,
)


async def create_plan(team_id: UUID, day: date, requested_by: UUID | None, request: str, parent: UUID | None) -> UUID:
    """Insert a pending plan."""
    plan = RoutePlan(team_id=team_id, day=day, requested_by=requested_by, request=request, parent=parent)
    await plan.save()
    return UUID(str(plan.id))


async def get_plan(plan_id: UUID, *, for_update: bool = False) -> Row | None:
    """A plan with its request and body."""
    query = RoutePlan.select().where(RoutePlan.id == plan_id)
    if for_update and not is_sqlite():
        query = query.lock_rows("NO KEY UPDATE")
    return await query.first()


async def list_plans(team_id: UUID | None, day: date | None, limit: int) -> list[Row]:
    """Plan summaries, newest first."""
    query = RoutePlan.select(*_SUMMARY).order_by(RoutePlan.created_at, ascending=False).limit(limit)
    if team_id is not None:
        query = query.where(RoutePlan.team_id == team_id)
    if day is not None:
        query = query.where(RoutePlan.day == day)
    return await query


async def update_plan(plan_id: UUID, values: dict[Any, Any]) -> None:
    """Write plan fields."""
    await RoutePlan.update({**values, RoutePlan.updated_at: now()}).where(RoutePlan.id == plan_id)


async def set_plan_ready(plan_id: UUID, body: str) -> None:
    """Store a computed plan."""
    await update_plan(plan_id, {RoutePlan.status: "ready", RoutePlan.body: body, RoutePlan.error: ""})


async def set_plan_failed(plan_id: UUID, error: str) -> None:
    """Record why a plan could not be computed."""
    await update_plan(plan_id, {RoutePlan.status: "failed", RoutePlan.error: error})


async def set_plan_published(plan_id: UUID, by: UUID) -> None:
    """Mark a plan published."""
    await update_plan(
        plan_id, {RoutePlan.status: "published", RoutePlan.published_at: now(), RoutePlan.published_by: by}
    )


async def latest_published(team_id: UUID, day: date) -> Row | None:
    """The plan of a team's day published last, if any."""
    return (
        await RoutePlan.select()
        .where((RoutePlan.team_id == team_id) & (RoutePlan.day == day) & (RoutePlan.status == "published"))
        .order_by(RoutePlan.published_at, ascending=False)
        .first()
    )


async def claim_plan(plan_id: UUID) -> bool:
    """Move a pending (or stale running) plan to running; False when another run has it or it is done."""
    rows = (
        await RoutePlan.update({RoutePlan.status: "running", RoutePlan.updated_at: now()})
        .where((RoutePlan.id == plan_id) & RoutePlan.status.is_in(["pending", "running"]))
        .returning(RoutePlan.id)
    )
    return bool(rows)


async def supersede_published(team_id: UUID, day: date, keep: UUID) -> None:
    """Mark the other published plans of a team's day as superseded."""
    await RoutePlan.update({RoutePlan.status: "superseded", RoutePlan.updated_at: now()}).where(
        (RoutePlan.team_id == team_id)
        & (RoutePlan.day == day)
        & (RoutePlan.status == "published")
        & (RoutePlan.id != keep)
    )


# --- collectors ------------------------------------------------------------------------------


async def list_team_collectors(team_id: UUID) -> list[Row]:
    """Active collectors of a team."""
    return await User.select(User.id, User.team, User.active).where(
        (User.team == team_id) & (User.role == "collector") & (User.active == True)  # noqa: E712
    )


async def get_user(user_id: UUID) -> Row | None:
    """A user's role, team and state."""
    return await User.select(User.id, User.role, User.team, User.active).where(User.id == user_id).first()


async def list_profiles(user_ids: Iterable[UUID]) -> list[Row]:
    """Collector profiles of the given users."""
    ids = list(user_ids)
    rows: list[Row] = []
    for first in range(0, len(ids), _CHUNK):
        rows += await CollectorProfile.select().where(CollectorProfile.user_id.is_in(ids[first : first + _CHUNK]))
    return rows


async def save_profile(user_id: UUID, values: dict[Any, Any]) -> None:
    """Insert or replace a collector's profile."""
    exists = await CollectorProfile.exists().where(CollectorProfile.user_id == user_id)
    if exists:
        await CollectorProfile.update({**values, CollectorProfile.updated_at: now()}).where(
            CollectorProfile.user_id == user_id
        )
    else:
        await CollectorProfile.insert(CollectorProfile(user_id=user_id, **{c._meta.name: v for c, v in values.items()}))


# --- visits ----------------------------------------------------------------------------------

_VISIT_COLUMNS = (
    Visit.id,
    Visit.status,
    Visit.type,
    Visit.team,
    Visit.assigned_to,
    Visit.priority,
    Visit.due_date,
    Visit.appointment_start,
    Visit.appointment_end,
    Visit.stop_order,
    Visit.eta,
    Visit.plan_id,
    Visit.case.as_alias("case_id"),
    Visit.address.lat.as_alias("lat"),
    Visit.address.lon.as_alias("lon"),
    Visit.address.timezone.as_alias("timezone"),
    Visit.address.normalised.as_alias("normalised"),
    Visit.address.valid.as_alias("address_valid"),
    Visit.case.amount_owed.as_alias("amount_owed"),
    Visit.case.days_past_due.as_alias("days_past_due"),
)


async def list_open_visits(team_id: UUID, due_by: date | None) -> list[Row]:
    """A team's plannable visits (requested or assigned) with what planning needs."""
    query = Visit.select(*_VISIT_COLUMNS).where((Visit.team == team_id) & Visit.status.is_in(list(PLANNABLE)))
    if due_by is not None:
        query = query.where(Visit.due_date <= due_by)
    return await query.order_by(Visit.id)


async def list_visits_by_id(visit_ids: Iterable[UUID]) -> list[Row]:
    """Visits by id with what planning needs (any status: the caller decides)."""
    ids = list(visit_ids)
    rows: list[Row] = []
    for first in range(0, len(ids), _CHUNK):
        rows += await Visit.select(*_VISIT_COLUMNS).where(Visit.id.is_in(ids[first : first + _CHUNK]))
    return rows


async def cases_with_promise_due(case_ids: Iterable[UUID], day: date) -> set[UUID]:
    """Cases with an open promise to pay due on or before ``day``."""
    ids = list(set(case_ids))
    found: set[UUID] = set()
    for first in range(0, len(ids), _CHUNK):
        rows = await Promise.select(Promise.case).where(
            Promise.case.is_in(ids[first : first + _CHUNK]) & (Promise.status == "open") & (Promise.due_date <= day)
        )
        found |= {UUID(str(r["case"])) for r in rows}
    return found
