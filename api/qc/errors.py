"""Errors of quality control (codes x.26 to x.28)."""

from __future__ import annotations

from api.errors import DomainError


class ReviewNotFound(DomainError):
    """No QC review has this id."""

    code = "404.26"
    status_code = 404
