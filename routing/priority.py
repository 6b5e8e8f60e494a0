"""How important a visit is to the solver, 0..100 (no I/O).

When the day cannot hold every visit, the solver keeps the ones with the highest priority sum. The
score grows with the amount owed (logarithmically: 10x the debt is +10), with days past due, when
a promise to pay has fallen due, as the visit's own due date comes near, and with the dispatcher's
own priority.
"""

from __future__ import annotations

import math


def visit_priority(
    amount_owed: float, days_past_due: int, promise_due: bool, days_to_due: int, dispatcher_priority: int = 0
) -> int:
    """The solver priority of a visit (0..100)."""
    amount = min(35.0, 10.0 * math.log10(1.0 + max(0.0, amount_owed) / 1_000.0))
    overdue = min(25.0, max(0, days_past_due) / 8.0)
    promise = 15.0 if promise_due else 0.0
    urgency = 15.0 if days_to_due <= 0 else (8.0 if days_to_due <= 2 else 0.0)
    chosen = min(10.0, max(0, dispatcher_priority) / 100.0)
    return int(min(100.0, amount + overdue + promise + urgency + chosen))
