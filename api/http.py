"""Small Litestar helpers shared by every controller: the transaction decorator and error docs."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Annotated, ParamSpec, TypeVar

from litestar.enums import ScopeType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.types import ASGIApp, Receive, Scope, Send

from api.db import write_transaction
from api.errors import ErrorBody, InvalidRequestBody

P = ParamSpec("P")
R = TypeVar("R")

MAX_OFFSET = 1_000_000_000
"""The largest page offset a list route takes: far past any real listing, and well inside the
databases' 64-bit integers (a larger one used to reach PostgreSQL and fail there as a 500)."""

Offset = Annotated[int, Parameter(ge=0, le=MAX_OFFSET, description="rows to skip")]


def transactional(handler: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Run a route handler inside the request's write transaction, committed when it returns.

    An exception rolls the transaction back, so jobs it deferred are never dispatched. (Not a
    yield-dependency: Litestar resolves dependencies in other tasks, and Piccolo's transaction
    lives in a context variable that must be set in the handler's own context.)
    """

    @functools.wraps(handler)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        async with write_transaction():
            return await handler(*args, **kwargs)

    return wrapper


def reject_nul(app: ASGIApp) -> ASGIApp:
    """Middleware: a path or query string holding a NUL character is a coded 400 (no text the
    server keeps may hold one; PostgreSQL refuses it)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            query = scope.get("query_string", b"")
            if "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query:
                raise InvalidRequestBody("text may not contain NUL characters")
        await app(scope, receive, send)

    return middleware


def _describe(error: type[Exception]) -> str:
    doc = (error.__doc__ or "").strip().splitlines()
    return f"`{error.__name__}` ({getattr(error, 'code', '?')}): {doc[0] if doc else ''}"


def errors(*error_types: type[Exception]) -> dict[int, ResponseSpec]:
    """OpenAPI responses documenting the coded errors a route can answer with."""
    by_status: dict[int, list[type[Exception]]] = defaultdict(list)
    for error in error_types:
        by_status[int(getattr(error, "status_code", 500))].append(error)
    return {
        status: ResponseSpec(
            data_container=ErrorBody,
            description="; ".join(_describe(e) for e in found),
            generate_examples=False,
        )
        for status, found in sorted(by_status.items())
    }


def merge_responses(*groups: dict[int, ResponseSpec]) -> dict[int, ResponseSpec]:
    """Combine error docs from several groups (same status: descriptions joined)."""
    merged: dict[int, ResponseSpec] = {}
    for group in groups:
        for status, spec in group.items():
            if status in merged:
                merged[status] = ResponseSpec(
                    data_container=ErrorBody,
                    description=f"{merged[status].description}; {spec.description}",
                    generate_examples=False,
                )
            else:
                merged[status] = spec
    return merged
