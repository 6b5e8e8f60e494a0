"""Errors of visit requests and dispatch (codes x.30 to x.34)."""

from __future__ import annotations

from api.errors import DomainError


class IllegalVisitTransition(DomainError):
    """The visit's state does not allow this change."""

    code = "409.30"
    status_code = 409


class CollectorNotInTeam(DomainError):
    """The user is not a collector of the visit's team."""

    code = "422.30"
    status_code = 422


class StaleVisitVersion(DomainError):
    """The visit changed since the version you based this change on; reload it."""

    code = "409.31"
    status_code = 409
