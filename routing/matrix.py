"""Travel times between places, behind a small interface so a road-network provider can replace it.

The default is straight-line distance x a detour factor / an average speed: no network, no data
files. Only per-region matrices are ever built (a whole-city 20,000^2 matrix would be 1.7 GB).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from routing.geo import FloatArray, haversine_matrix_m

DurationMatrix = npt.NDArray[np.uint32]


class TravelTimeProvider(Protocol):
    """Seconds of travel from each origin (rows) to each destination (columns)."""

    def durations(self, lat_a: FloatArray, lon_a: FloatArray, lat_b: FloatArray, lon_b: FloatArray) -> DurationMatrix:
        """A len(A) x len(B) matrix of whole seconds."""
        ...


class StraightLineProvider:
    """Great-circle distance x ``detour_factor`` at ``speed_kmh``."""

    def __init__(self, detour_factor: float = 1.35, speed_kmh: float = 25.0) -> None:
        if detour_factor < 1.0 or speed_kmh <= 0:
            raise ValueError("detour_factor must be >= 1 and speed_kmh > 0")
        self.detour_factor = detour_factor
        self.speed_ms = speed_kmh / 3.6

    def durations(self, lat_a: FloatArray, lon_a: FloatArray, lat_b: FloatArray, lon_b: FloatArray) -> DurationMatrix:
        """Whole seconds, rounded to the nearest second."""
        metres = haversine_matrix_m(lat_a, lon_a, lat_b, lon_b)
        return np.rint(metres * (self.detour_factor / self.speed_ms)).astype(np.uint32)

    def square(self, lat: FloatArray, lon: FloatArray) -> DurationMatrix:
        """The matrix of a set of places to themselves."""
        return self.durations(lat, lon, lat, lon)
