"""Errors of people, teams, tokens and devices (codes x.10 to x.19)."""

from __future__ import annotations

from api.errors import DomainError


class UsernameTaken(DomainError):
    """A user with this username already exists."""

    code = "409.10"
    status_code = 409


class TeamNameTaken(DomainError):
    """A team with this name already exists."""

    code = "409.11"
    status_code = 409


class TeamNotFound(DomainError):
    """No team has this id or name."""

    code = "404.10"
    status_code = 404


class UserNotFound(DomainError):
    """No user has this id or username."""

    code = "404.11"
    status_code = 404


class DeviceNotFound(DomainError):
    """No device has this id."""

    code = "404.12"
    status_code = 404


class TokenNotFound(DomainError):
    """No staff token has this id."""

    code = "404.13"
    status_code = 404


class EnrolmentCodeUnknown(DomainError):
    """This enrolment code was never issued (check for typos)."""

    code = "404.14"
    status_code = 404


class EnrolmentCodeExpired(DomainError):
    """This enrolment code has expired; ask your dispatcher for a new one."""

    code = "410.10"
    status_code = 410


class EnrolmentCodeUsed(DomainError):
    """This enrolment code was already redeemed by another device."""

    code = "409.12"
    status_code = 409


class NotACollector(DomainError):
    """Devices are enrolled for collectors only."""

    code = "422.10"
    status_code = 422


class DeviceRevoked(DomainError):
    """This device was revoked; enrol it again with a new code."""

    code = "401.10"
    status_code = 401


class UserInactive(DomainError):
    """This user account is deactivated."""

    code = "401.11"
    status_code = 401


class TeamRequired(DomainError):
    """Collectors, dispatchers and supervisors must belong to a team."""

    code = "422.11"
    status_code = 422


class UnknownApprovalTier(DomainError):
    """The approval tier is not one of the configured tiers."""

    code = "422.12"
    status_code = 422
