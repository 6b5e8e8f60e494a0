"""Running async work from a CLI command with the database and the job backend up."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from api.db import is_sqlite, start_engine, stop_engine
from api.errors import error_bases
from api.migrations import upgrade
from api.queue.backends import InlineBackend, start_backend, stop_backend
from api.queue.catalogue import register_all
from api.settings import get_settings

T = TypeVar("T")


async def _with_runtime(work: Callable[[], Awaitable[T]], migrate: bool) -> T:
    settings = get_settings()
    register_all()
    opened = await start_engine(settings.database)
    backend: Any = None
    try:
        if migrate and is_sqlite():
            await upgrade()
        backend = await start_backend(settings, schedules=False)
        result = await work()
        if isinstance(backend, InlineBackend):
            await backend.drain()  # jobs deferred by the command finish before it exits
        return result
    finally:
        if backend is not None:
            await stop_backend(backend)
        if opened:
            await stop_engine()


def run(work: Callable[[], Awaitable[T]], *, migrate: bool = True) -> T:
    """Run ``work`` with the engine and job backend started; domain errors become clean CLI errors."""
    try:
        return asyncio.run(_with_runtime(work, migrate))
    except error_bases() as exc:
        code = getattr(exc, "code", "?")
        raise click.ClickException(f"{type(exc).__name__} ({code}): {exc}") from None
