"""HTTP doors of the evidence context."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
