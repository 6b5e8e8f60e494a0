"""Who may see or touch a visit: the scope rules shared by every context (sync, evidence, routing)."""

from __future__ import annotations

from uuid import UUID

import msgspec

from api.cases.tables import Visit
from api.people.roles import Principal, Role


class VisitScope(msgspec.Struct, frozen=True):
    """The ownership facts of a visit."""

    visit_id: UUID
    case_id: UUID
    team_id: UUID | None
    assigned_to: UUID | None
    partner_id: UUID | None
    status: str


async def get_visit_scope(visit_id: UUID) -> VisitScope | None:
    """The ownership facts of a visit, or None if it does not exist."""
    row = (
        await Visit.select(Visit.id, Visit.case, Visit.team, Visit.assigned_to, Visit.partner, Visit.status)
        .where(Visit.id == visit_id)
        .first()
    )
    if row is None:
        return None
    return VisitScope(
        visit_id=row["id"],
        case_id=row["case"],
        team_id=row["team"],
        assigned_to=row["assigned_to"],
        partner_id=row["partner"],
        status=row["status"],
    )


def is_field_member(principal: Principal, scope: VisitScope) -> bool:
    """The collector (or partner) the visit is assigned to."""
    return principal.role is Role.COLLECTOR and principal.user_id in (scope.assigned_to, scope.partner_id)


def can_read(principal: Principal, scope: VisitScope) -> bool:
    """Legal and admins read everything; team managers their team; collectors their own visits."""
    if principal.role in (Role.ADMIN, Role.LEGAL):
        return True
    if principal.role is Role.COLLECTOR:
        return is_field_member(principal, scope)
    return principal.manages_team(scope.team_id)


def can_dispatch(principal: Principal, scope: VisitScope) -> bool:
    """Dispatchers and supervisors of the visit's team, and admins."""
    return principal.manages_team(scope.team_id)
