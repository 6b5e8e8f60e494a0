"""Errors of the application's side of sync (codes x.60 to x.69)."""

from __future__ import annotations

from api.errors import DomainError


class ResolutionNotPossible(DomainError):
    """This resolution cannot be applied to this conflict."""

    code = "422.60"
    status_code = 422
