"""Errors of cases, addresses and visits as records (codes x.20 to x.29)."""

from __future__ import annotations

from api.errors import DomainError


class CaseNotFound(DomainError):
    """No case has this id."""

    code = "404.20"
    status_code = 404


class VisitNotFound(DomainError):
    """No visit has this id."""

    code = "404.21"
    status_code = 404


class AddressNotFound(DomainError):
    """No address has this id."""

    code = "404.22"
    status_code = 404


class AddressMarkedInvalid(DomainError):
    """This address was found invalid; invalid addresses are never dispatched again."""

    code = "409.20"
    status_code = 409


class AddressNotOfCase(DomainError):
    """The address belongs to another case."""

    code = "422.20"
    status_code = 422


class CaseNotCollectable(DomainError):
    """The case is closed, paid, deceased or paused: no visit or outcome applies to it."""

    code = "409.21"
    status_code = 409


class NoValidAddress(DomainError):
    """The case has no valid address to visit."""

    code = "409.29"
    status_code = 409


class ImportFormatUnknown(DomainError):
    """Send the import as CSV (text/csv) or JSON Lines (application/x-ndjson)."""

    code = "415.20"
    status_code = 415


class ImportHeaderInvalid(DomainError):
    """The CSV header misses required columns or names unknown ones."""

    code = "400.20"
    status_code = 400
