"""HTTP doors of the routing context."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
