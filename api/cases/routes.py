"""HTTP doors of the cases context."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
