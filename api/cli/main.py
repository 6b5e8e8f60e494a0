"""``fieldvisit``: serve the API, run the worker, manage the database, people and devices."""

from __future__ import annotations

import logging

import click
from rich.console import Console
from rich.table import Table

from api.cli.cases import cases
from api.cli.demo import demo
from api.cli.evidence import evidence
from api.cli.people import devices, teams, users
from api.cli.runtime import run
from api.settings import SETTINGS_DOC, get_settings

console = Console()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
def cli(verbose: bool) -> None:
    """fieldvisit: the server behind the offline-first field-visit app.

    Without configuration everything runs embedded: a SQLite file and blobs under ./var
    (FIELDVISIT_DATA_DIR), jobs in-process. Set FIELDVISIT_DATABASE_URL and FIELDVISIT_REDIS_URL
    for PostgreSQL and arq. `fieldvisit settings` lists every setting.
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("piccolo", "httpx", "arq.worker"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)


@cli.command()
@click.option("--host", default=None, help="Bind address (default FIELDVISIT_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default FIELDVISIT_PORT or 8000).")
@click.option("--workers", type=int, default=1, show_default=True, help="Server processes (PostgreSQL only).")
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the HTTP API (OpenAPI at /schema, health at /health)."""
    import uvicorn

    settings = get_settings()
    if workers > 1 and settings.database.url is None:
        raise click.UsageError("--workers > 1 needs PostgreSQL: the embedded SQLite mode is one process")
    uvicorn.run(
        "api.asgi:app",
        host=host or settings.http.host,
        port=port or settings.http.port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
    )


@cli.command()
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then exit.")
def worker(burst: bool) -> None:
    """Run the arq worker on Redis (needs FIELDVISIT_REDIS_URL)."""
    from api.queue.catalogue import register_all
    from api.queue.worker import run_worker

    settings = get_settings()
    if settings.queue.redis_url is None:
        raise click.UsageError("FIELDVISIT_REDIS_URL is not set: without Redis, jobs run inside `fieldvisit serve`")
    register_all()
    run_worker(settings, burst=burst)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (PostgreSQL or the SQLite file)."""
    from api.migrations import server_warnings, upgrade

    async def upgrade_and_check() -> tuple[str, list[str]]:
        return await upgrade(quiet=True), await server_warnings()

    report, warnings = run(upgrade_and_check, migrate=False)
    console.print(report.strip() or "nothing to do")
    console.print("[green]database is up to date[/green]")
    for warning in warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


@cli.command("settings")
def show_settings() -> None:
    """List every FIELDVISIT_* setting, its default and meaning."""
    table = Table("variable", "default", "meaning")
    for name, default, meaning in SETTINGS_DOC:
        table.add_row(name, default, meaning)
    console.print(table)


cli.add_command(teams)
cli.add_command(users)
cli.add_command(devices)
cli.add_command(cases)
cli.add_command(demo)
cli.add_command(evidence)
