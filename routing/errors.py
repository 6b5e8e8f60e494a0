"""Errors of the routing engine, named as facts, each with a stable code and HTTP status.

The application maps every subclass of ``RoutingError`` to ``{"error", "code", "detail"}``;
the engine itself knows nothing about HTTP beyond the status number.
"""

from __future__ import annotations

from typing import Any, ClassVar


class RoutingError(Exception):
    """Base of the routing engine's errors."""

    code: ClassVar[str]
    status_code: ClassVar[int]

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or (self.__doc__ or type(self).__name__).strip().splitlines()[0]
        self.extra = extra
        super().__init__(self.detail)


class InvalidPlanInput(RoutingError):
    """A visit, collector or option given to the planner is not usable (see the detail)."""

    code = "422.100"
    status_code = 422


class UnknownTimezone(RoutingError):
    """A timezone is not a known IANA timezone name."""

    code = "422.101"
    status_code = 422


class PlanNotFound(RoutingError):
    """No plan has this id."""

    code = "404.100"
    status_code = 404


class PlanNotReady(RoutingError):
    """The plan is still being computed (or failed); try again when its status is ``ready``."""

    code = "409.100"
    status_code = 409


class PlanAlreadyPublished(RoutingError):
    """This plan was already published; plan again or re-plan to change it."""

    code = "409.101"
    status_code = 409


class PlanSuperseded(RoutingError):
    """A newer plan (a re-plan or another plan of the same team and day) was published after this one."""

    code = "409.102"
    status_code = 409


class ReplanScopeUnknown(RoutingError):
    """The collector or region to re-plan is not part of this plan."""

    code = "422.102"
    status_code = 422


class CollectorProfileNotFound(RoutingError):
    """The collector does not exist or has no routing profile (home base, shift, capacity) yet."""

    code = "404.101"
    status_code = 404
