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


async def server_warnings() -> list[str]:
    """What the database server is set up to do that this application needs done otherwise (PostgreSQL)."""
    from api.db import get_engine, is_sqlite

    if is_sqlite():
        return []
    rows = await get_engine().run_ddl("SHOW autovacuum")
    if rows and rows[0].get("autovacuum") == "off":
        return [
            "PostgreSQL runs with autovacuum off: nothing refreshes the planner's statistics or removes dead rows, "
            "and pooled connections keep plans made for tables that were empty then. The sync feed rewrites every "
            "row it numbers, and pulls slow down by orders of magnitude within minutes of busy syncing (bench.load "
            "measured a 355 ms page statement). Turn it on (the default), or run VACUUM ANALYZE regularly."
        ]
    return []
