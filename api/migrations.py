"""Applying the committed Piccolo migrations of every app (``fieldvisit db upgrade``)."""

from __future__ import annotations

import contextlib
import io

from piccolo.apps.migrations.commands.forwards import run_forwards


class MigrationFailed(RuntimeError):
    """A migration could not be applied; the message holds Piccolo's report."""


async def upgrade(*, quiet: bool = True) -> str:
    """Apply every pending migration of every app, in dependency order; return Piccolo's report."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out) if quiet else contextlib.nullcontext():
        result = await run_forwards(app_name="all")
    if not result.success:
        raise MigrationFailed(f"{result.message}\n{out.getvalue()}")
    return out.getvalue()
