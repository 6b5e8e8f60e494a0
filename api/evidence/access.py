"""Who may do what with evidence, on top of the cases domain's visit scope.

Collectors declare and upload only for visits assigned to them; dispatchers and supervisors see the
items and thumbnails of their team's visits (not the originals); legal and admins read everything,
and each of their reads is written to the item's custody chain.
"""

from __future__ import annotations

from uuid import UUID

from api.cases.access import VisitScope, can_read, get_visit_scope, is_field_member
from api.errors import NotYourData, RecordNotFound
from api.people.roles import Principal, Role
from evidence.models import Item
from evidence.ports import Who

READ_ALL = frozenset({Role.LEGAL, Role.ADMIN})


def who(principal: Principal, address: str | None) -> Who:
    """The custody actor for a request."""
    return Who(user_id=principal.user_id, device_id=principal.device_id, address=(address or "")[:64])


async def scope_or_raise(visit_id: UUID) -> VisitScope:
    """The visit's ownership facts (404 if the visit does not exist)."""
    scope = await get_visit_scope(visit_id)
    if scope is None:
        raise RecordNotFound(f"no visit {visit_id}")
    return scope


async def require_field_member(principal: Principal, visit_id: UUID) -> VisitScope:
    """Only the collector the visit is assigned to may add evidence to it."""
    scope = await scope_or_raise(visit_id)
    if not is_field_member(principal, scope):
        raise NotYourData("you can add evidence only to visits assigned to you")
    return scope


async def require_reader(principal: Principal, visit_id: UUID) -> VisitScope:
    """Collectors read their own visits' items, managers their team's, legal and admins all."""
    scope = await scope_or_raise(visit_id)
    if not can_read(principal, scope):
        raise NotYourData("this visit's evidence is outside your scope")
    return scope


async def require_uploader(principal: Principal, item: Item) -> None:
    """The bytes of an item come from the collector who declared it, even if the visit was reassigned or
    cancelled meanwhile (work done offline is kept), or from the visit's current collector."""
    if principal.role is Role.COLLECTOR and item.declared_by == principal.user_id:
        return
    await require_field_member(principal, item.visit_id)


def require_original_reader(principal: Principal) -> None:
    """Originals and custody logs are for legal and admins; others see thumbnails."""
    if principal.role not in READ_ALL:
        raise NotYourData("only legal and admins read originals and custody logs")


def must_log_reads(principal: Principal) -> bool:
    """Reads by legal and admins go into the custody chain (every read of a file does, for anyone)."""
    return principal.role in READ_ALL


def visible(principal: Principal, items: list[Item], scope: VisitScope) -> list[Item]:
    """The items of a visit the principal may list (all of them once the visit is readable)."""
    return items if can_read(principal, scope) else []
