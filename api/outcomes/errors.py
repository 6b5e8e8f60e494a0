"""Errors of outcomes, promises and agreements (codes x.35 to x.44)."""

from __future__ import annotations

from api.errors import DomainError


class VisitAlreadyClosed(DomainError):
    """The visit is completed or cancelled: no outcome can be recorded on it."""

    code = "409.35"
    status_code = 409


class OutcomeAlreadyRecorded(DomainError):
    """A different outcome is already recorded on this visit."""

    code = "409.36"
    status_code = 409


class VisitNotAssignedToYou(DomainError):
    """Only the collector the visit is assigned to (or their partner) records its outcome."""

    code = "403.35"
    status_code = 403


class CaseTransitionRefused(DomainError):
    """The case's state does not allow this event."""

    code = "409.37"
    status_code = 409


class AgreementNotFound(DomainError):
    """No agreement has this id."""

    code = "404.35"
    status_code = 404


class AgreementNotPending(DomainError):
    """The agreement is not waiting for approval."""

    code = "409.38"
    status_code = 409


class ApprovalAboveYourTier(DomainError):
    """This agreement's amount needs a higher approval tier than yours."""

    code = "403.36"
    status_code = 403


class NothingToConfirm(DomainError):
    """No dispute or death report waits for confirmation on this case."""

    code = "409.39"
    status_code = 409


class CurrencyMismatch(DomainError):
    """The amount's currency is not the case's currency."""

    code = "422.35"
    status_code = 422
