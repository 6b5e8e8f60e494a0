"""Visit priorities for the solver."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from routing.priority import visit_priority

amounts = st.floats(0, 1e9, allow_nan=False)
days = st.integers(0, 2000)


@given(a=amounts, b=amounts, dpd=days, promise=st.booleans(), due=st.integers(-30, 30), chosen=st.integers(0, 1000))
def test_priority_is_bounded_and_grows_with_the_debt(
    a: float, b: float, dpd: int, promise: bool, due: int, chosen: int
) -> None:
    low, high = sorted((a, b))
    p_low = visit_priority(low, dpd, promise, due, chosen)
    p_high = visit_priority(high, dpd, promise, due, chosen)
    assert 0 <= p_low <= p_high <= 100


@given(a=amounts, dpd=days, due=st.integers(-30, 30))
def test_a_promise_fallen_due_and_an_overdue_visit_never_lower_the_priority(a: float, dpd: int, due: int) -> None:
    assert visit_priority(a, dpd, True, due) >= visit_priority(a, dpd, False, due)
    assert visit_priority(a, dpd, False, 0) >= visit_priority(a, dpd, False, 5)
    assert visit_priority(a, dpd + 30, False, due) >= visit_priority(a, dpd, False, due)
