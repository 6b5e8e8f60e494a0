"""HTTP doors of the sync context."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
