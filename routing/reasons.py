"""Which stops no collector could serve even alone, and why (no I/O).

A stop is servable by a collector when the collector can leave at the start of the shift, reach the
stop, begin within the stop's window, finish its visits and get back to the end place by the end of
the shift, with the stop's visits within the collector's capacity. Stops nobody can serve are not
given to the solver; they are reported with a reason. Everything is vectorised per block of stops,
so 20,000 stops x 600 collectors costs well under a second.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt

from routing.clustering import Stop
from routing.matrix import TravelTimeProvider
from routing.model import Collector, Reason
from routing.problem import end_of
from routing.windows import Clock, shift_interval

_BLOCK = 2_000
BoolArray = npt.NDArray[np.bool_]


def _collector_arrays(collectors: list[Collector], day: date, clock: Clock) -> dict[str, npt.NDArray[np.float64]]:
    ends = [end_of(c) for c in collectors]
    shifts = [shift_interval(c, day) for c in collectors]
    return {
        "start_lat": np.array([c.start_lat for c in collectors]),
        "start_lon": np.array([c.start_lon for c in collectors]),
        "end_lat": np.array([e[0] for e in ends]),
        "end_lon": np.array([e[1] for e in ends]),
        "open": np.array([clock.seconds(s) for s, _ in shifts], dtype=np.float64),
        "close": np.array([clock.seconds(e) for _, e in shifts], dtype=np.float64),
        "capacity": np.array([c.capacity for c in collectors], dtype=np.float64),
    }


def _block_reasons(
    block: list[Stop], c: dict[str, npt.NDArray[np.float64]], ids: list[str], provider: TravelTimeProvider, clock: Clock
) -> list[Reason | None]:
    lat, lon = np.array([s.lat for s in block]), np.array([s.lon for s in block])
    out = provider.durations(c["start_lat"], c["start_lon"], lat, lon).astype(np.float64)  # collectors x stops
    back = provider.durations(c["end_lat"], c["end_lon"], lat, lon).astype(np.float64)
    service = np.array([s.total_service_s for s in block], dtype=np.float64)[None, :]
    tw_open = np.array([clock.seconds(s.window_start) for s in block], dtype=np.float64)[None, :]
    latest = np.array([clock.seconds(s.window_end) for s in block], dtype=np.float64)[None, :] - service
    visits = np.array([len(s.visit_ids) for s in block], dtype=np.float64)[None, :]
    allowed: BoolArray = np.ones(out.shape, dtype=bool)
    for j, stop in enumerate(block):
        if stop.collector_id is not None:
            allowed[:, j] = np.array([i == stop.collector_id for i in ids])
    arrive = c["open"][:, None] + out
    reach = allowed & (arrive + service + back <= c["close"][:, None])  # the day's shift, any time in it
    begin = np.maximum(arrive, tw_open)
    windowed = reach & (begin <= latest) & (begin + service + back <= c["close"][:, None])
    fits = visits <= c["capacity"][:, None]
    reasons: list[Reason | None] = []
    for j in range(len(block)):
        if (windowed[:, j] & fits[:, j]).any():
            reasons.append(None)
        elif not reach[:, j].any():
            reasons.append(Reason.NO_COLLECTOR_IN_REACH)
        elif not windowed[:, j].any():
            reasons.append(Reason.OUTSIDE_EVERY_WINDOW)
        else:
            reasons.append(Reason.OVER_CAPACITY)
    return reasons


def unservable(
    stops: list[Stop], collectors: list[Collector], day: date, clock: Clock, provider: TravelTimeProvider
) -> dict[str, Reason]:
    """The stops that no collector can serve even on an otherwise empty day, with the reason."""
    if not collectors:
        return {s.id: Reason.NO_COLLECTOR_IN_REACH for s in stops}
    arrays = _collector_arrays(collectors, day, clock)
    ids = [c.id for c in collectors]
    found: dict[str, Reason] = {}
    for first in range(0, len(stops), _BLOCK):
        block = stops[first : first + _BLOCK]
        for stop, reason in zip(block, _block_reasons(block, arrays, ids, provider, clock), strict=True):
            if reason is not None:
                found[stop.id] = reason
    return found


DETAILS = {
    Reason.NO_COLLECTOR_IN_REACH: "no collector can get there and back within a shift",
    Reason.OUTSIDE_EVERY_WINDOW: "no collector's shift reaches it within its visiting window",
    Reason.OVER_CAPACITY: "the collectors who could serve it were fully used (visits or shift time)",
}
