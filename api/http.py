"""Small Litestar helpers shared by every controller: the transaction dependency and error docs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncGenerator

from litestar.openapi.datastructures import ResponseSpec

from api.db import UnitOfWork, write_transaction
from api.errors import ErrorBody


async def provide_uow() -> AsyncGenerator[UnitOfWork, None]:
    """Dependency: the request's write transaction, committed after the handler returns.

    An exception from the handler is thrown into this generator, so the transaction rolls back
    and any job it deferred is never dispatched.
    """
    async with write_transaction() as uow:
        yield uow


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
