"""The error catalogue and the one place errors become HTTP responses.

Every domain error is a fact (``DeviceRevoked``, ``StaleBaseVersion``) with a stable code
``"<status>.<n>"`` and an HTTP status. The minor number says where it comes from: 0-9 the HTTP surface
and auth (this module), 10-19 people, 20-49 cases/visits/outcomes/agreements, 50-69 sync, 70-99 evidence,
100-119 routing. Engines define their own error bases (they never import
``api``); :func:`error_bases` lists them and :func:`catalogue` walks every subclass, so one test
keeps the codes unique. Anything else that escapes a handler is logged and answered with a 500:
each such response is a bug.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of the application's domain errors."""

    code: ClassVar[str] = "500.0"
    status_code: ClassVar[int] = 500

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or (self.__doc__ or type(self).__name__).strip().splitlines()[0]
        self.extra = extra
        super().__init__(self.detail)


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """The body of every error response."""

    error: str
    code: str
    detail: str
    fields: list[dict[str, str]] | None = None
    extra: dict[str, Any] | None = None


# --- errors of the HTTP surface itself -------------------------------------------------------


class InvalidRequestBody(DomainError):
    """The request body or a parameter does not match the schema."""

    code = "400.1"
    status_code = 400


class MalformedBody(DomainError):
    """The body could not be decoded as the JSON or MessagePack its Content-Type names."""

    code = "400.2"
    status_code = 400


class BadRequest(DomainError):
    """The request is not well-formed."""

    code = "400.0"
    status_code = 400


class AuthenticationRequired(DomainError):
    """No bearer token was sent, or it is not one the server issued."""

    code = "401.1"
    status_code = 401


class TokenRevoked(DomainError):
    """The bearer token was revoked."""

    code = "401.2"
    status_code = 401


class RoleNotAllowed(DomainError):
    """Your role may not use this route."""

    code = "403.1"
    status_code = 403


class NotYourData(DomainError):
    """The record exists but is outside your scope."""

    code = "403.2"
    status_code = 403


class RouteNotFound(DomainError):
    """No route matches this path."""

    code = "404.0"
    status_code = 404


class RecordNotFound(DomainError):
    """The record does not exist."""

    code = "404.1"
    status_code = 404


class MethodNotAllowed(DomainError):
    """This route does not accept this method."""

    code = "405.0"
    status_code = 405


class NotAcceptable(DomainError):
    """The server cannot answer in a media type the Accept header allows."""

    code = "406.0"
    status_code = 406


class RequestBodyTooLarge(DomainError):
    """The request body is larger than the server accepts."""

    code = "413.0"
    status_code = 413


class UnsupportedMediaType(DomainError):
    """The body's Content-Type is not JSON or MessagePack."""

    code = "415.0"
    status_code = 415


class TooManyRequests(DomainError):
    """Slow down and retry later."""

    code = "429.0"
    status_code = 429


class InternalError(DomainError):
    """Unexpected server error; it has been logged."""

    code = "500.0"
    status_code = 500


class ServiceUnavailable(DomainError):
    """A backing service (database or queue) is unavailable; retry later."""

    code = "503.0"
    status_code = 503


_HTTP_STATUS_ERRORS: dict[int, type[DomainError]] = {
    400: BadRequest,
    401: AuthenticationRequired,
    403: RoleNotAllowed,
    404: RouteNotFound,
    405: MethodNotAllowed,
    406: NotAcceptable,
    413: RequestBodyTooLarge,
    415: UnsupportedMediaType,
    429: TooManyRequests,
    503: ServiceUnavailable,
}


def error_bases() -> tuple[type[Exception], ...]:
    """The base class of each context's domain errors (the api's and each engine's)."""
    from evidence.errors import EvidenceError
    from routing.errors import RoutingError
    from sync.errors import SyncError

    return (DomainError, SyncError, EvidenceError, RoutingError)


def catalogue() -> list[type[Exception]]:
    """Every concrete error class with a code, across the application and the engines."""
    found: list[type[Exception]] = []
    stack: list[type[Exception]] = [sub for base in error_bases() for sub in base.__subclasses__()]
    while stack:
        cls = stack.pop()
        if "code" in cls.__dict__:
            found.append(cls)
        stack.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: (str(getattr(c, "code", "")), c.__name__))


def _body(name: str, code: str, detail: str, **more: Any) -> ErrorBody:
    return ErrorBody(error=name, code=code, detail=detail, **more)


def _respond(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> Response[ErrorBody]:
    # Errors raised in middleware never meet the app's response_class: negotiate here too.
    # (Imported here because api.wire raises errors defined in this module.)
    from api.wire import WireResponse

    return WireResponse(content=body, status_code=status, headers=headers)


def domain_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """Turn a domain error (of the api or of an engine) into its coded response."""
    extra = getattr(exc, "extra", None) or None
    detail = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
    body = _body(type(exc).__name__, str(getattr(exc, "code", "500.0")), str(detail), extra=extra)
    return _respond(int(getattr(exc, "status_code", 500)), body, getattr(exc, "headers", None))


def _validation_fields(exc: ValidationException) -> list[dict[str, str]]:
    fields: list[dict[str, str]] = []
    if isinstance(exc.extra, list):
        for item in exc.extra:
            if isinstance(item, dict):
                fields.append({k: str(v) for k, v in item.items() if v is not None})
    return fields


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    """Litestar's own exceptions (routing, parsing, validation, size limits) in the coded shape."""
    if isinstance(exc, ValidationException):
        fields = _validation_fields(exc)
        if fields:
            names = ", ".join(f.get("key") or f.get("message", "") for f in fields)
            detail = f"invalid value for: {names}" if names else exc.detail
            body = _body(InvalidRequestBody.__name__, InvalidRequestBody.code, detail, fields=fields)
            return _respond(400, body)
        if "decode" in exc.detail.lower() or "malformed" in exc.detail.lower() or "json" in exc.detail.lower():
            return _respond(400, _body(MalformedBody.__name__, MalformedBody.code, exc.detail))
        return _respond(400, _body(InvalidRequestBody.__name__, InvalidRequestBody.code, exc.detail))
    status = exc.status_code
    if status >= 500:
        return internal_error_handler(request, exc)
    cls = _HTTP_STATUS_ERRORS.get(status, BadRequest if status < 500 else InternalError)
    detail = exc.detail if exc.detail and exc.detail != cls.__name__ else (cls.__doc__ or "").strip()
    return _respond(status, _body(cls.__name__, cls.code, detail), exc.headers)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """Log an unexpected exception and answer 500 — every one of these is a bug to fix.

    A lost database connection is not a bug of ours: it answers the coded 503 (retry), and since the
    transaction never committed, nothing was acknowledged.
    """
    from api.db import is_connection_lost

    if is_connection_lost(exc):
        log.warning("database connection lost on %s %s: %s", request.method, request.url.path, exc)
        body = _body(ServiceUnavailable.__name__, ServiceUnavailable.code, "the database connection was lost; retry")
        return _respond(503, body, {"Retry-After": "1"})
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    body = _body(InternalError.__name__, InternalError.code, "unexpected server error; it has been logged")
    return _respond(HTTP_500_INTERNAL_SERVER_ERROR, body)


def exception_handlers() -> dict[type[Exception] | int, Any]:
    """The handler map for the Litestar app."""
    handlers: dict[type[Exception] | int, Any] = {base: domain_error_handler for base in error_bases()}
    handlers[HTTPException] = http_exception_handler
    handlers[Exception] = internal_error_handler
    return handlers
