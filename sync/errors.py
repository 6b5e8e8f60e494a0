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


class ProtocolVersionUnsupported(SyncError):
    """This app speaks a sync protocol version the server does not know: update the app."""

    code = "426.50"
    status_code = 426


class BatchTooLarge(SyncError):
    """Too many mutations in one push; send them in smaller batches."""

    code = "413.50"
    status_code = 413


class UnknownMutationType(SyncError):
    """The server does not know this mutation type."""

    code = "422.50"
    status_code = 422


class InvalidMutationPayload(SyncError):
    """The mutation's payload does not match its type's schema."""

    code = "422.51"
    status_code = 422


class ConflictNotFound(SyncError):
    """No conflict has this id."""

    code = "404.50"
    status_code = 404


class ConflictAlreadyResolved(SyncError):
    """This conflict was already resolved."""

    code = "409.50"
    status_code = 409


class SyncRetryLater(SyncError):
    """The server could not apply this mutation now; keep it and push it again later."""

    code = "503.50"
    status_code = 503
