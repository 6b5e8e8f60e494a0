"""Errors of the sync engine, named as facts, each with a stable code and HTTP status.

The application maps every subclass of ``SyncError`` to ``{"error", "code", "detail"}``;
the engine itself knows nothing about HTTP beyond the status number.
"""

from __future__ import annotations

from typing import Any, ClassVar


class SyncError(Exception):
    """Base of the sync engine's errors."""

    code: ClassVar[str]
    status_code: ClassVar[int]

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or (self.__doc__ or type(self).__name__).strip().splitlines()[0]
        self.extra = extra
        super().__init__(self.detail)
