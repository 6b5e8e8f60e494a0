"""The visit state machine (pure).

requested -> assigned -> checked_in -> completed
requested | assigned | checked_in -> cancelled
assigned -> assigned (reassignment), assigned -> requested (unassign)
completed and cancelled are final.
"""

from __future__ import annotations

from enum import StrEnum


class VisitStatus(StrEnum):
    """Where a visit is in its life."""

    REQUESTED = "requested"
    ASSIGNED = "assigned"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class VisitType(StrEnum):
    """Why the visit happens."""

    PRESSURE = "pressure"  # debtor reachable but not paying
    TRACING = "tracing"  # debtor cannot be reached


FINAL = frozenset({VisitStatus.COMPLETED, VisitStatus.CANCELLED})
OPEN = frozenset({VisitStatus.REQUESTED, VisitStatus.ASSIGNED, VisitStatus.CHECKED_IN})

_ALLOWED: dict[VisitStatus, frozenset[VisitStatus]] = {
    VisitStatus.REQUESTED: frozenset({VisitStatus.ASSIGNED, VisitStatus.CANCELLED}),
    VisitStatus.ASSIGNED: frozenset(
        {
            VisitStatus.ASSIGNED,
            VisitStatus.REQUESTED,
            VisitStatus.CHECKED_IN,
            VisitStatus.COMPLETED,
            VisitStatus.CANCELLED,
        }
    ),
    VisitStatus.CHECKED_IN: frozenset({VisitStatus.CHECKED_IN, VisitStatus.COMPLETED, VisitStatus.CANCELLED}),
    VisitStatus.COMPLETED: frozenset(),
    VisitStatus.CANCELLED: frozenset(),
}


def can_move(current: VisitStatus, target: VisitStatus) -> bool:
    """Whether the state machine allows ``current -> target``."""
    return target in _ALLOWED[current]
