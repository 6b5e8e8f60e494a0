"""``fieldvisit demo``: a day in the field end to end (the README's first command), and the city seed."""

from __future__ import annotations

import asyncio
import shutil
import time
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.demo_summary import print_summary
from api.cli.runtime import run
from api.demo.city import build_city
from api.demo.runner import run_demo
from api.demo.seed import DemoAlreadySeeded, SeedSummary, seed
from api.settings import get_settings

console = Console()


def _bars() -> Progress:
    return Progress(
        TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


def _progress(bars: Progress) -> Any:
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bars.add_task(stage, total=total)
        bars.update(tasks[stage], completed=done, total=total)

    return update


@click.group(invoke_without_command=True)
@click.option(
    "--cases",
    "case_count",
    type=click.IntRange(200, 20_000),
    default=1200,
    show_default=True,
    help="Cases in the synthetic city.",
)
@click.option("--seed", "seed_value", type=int, default=7, show_default=True, help="Same seed, same day.")
@click.option("--reset", is_flag=True, help="Delete the embedded data directory first (SQLite mode only).")
@click.pass_context
def demo(ctx: click.Context, case_count: int, seed_value: int, reset: bool) -> None:
    """Run a day in the field, end to end, on whatever storage is configured (the embedded default:
    SQLite in ./var, jobs in-process; or PostgreSQL and arq when FIELDVISIT_DATABASE_URL and
    FIELDVISIT_REDIS_URL are set). Afterwards `fieldvisit serve` shows the same data."""
    if ctx.invoked_subcommand is not None:
        return
    settings = get_settings()
    data_dir = settings.storage.data_dir
    if reset:
        if settings.database.url is not None:
            raise click.UsageError("--reset only clears the embedded SQLite data directory")
        shutil.rmtree(data_dir, ignore_errors=True)
    started = time.monotonic()
    try:
        with _bars() as bars:
            log, summary = asyncio.run(run_demo(data_dir, _progress(bars), cases=case_count, seed_value=seed_value))
    except DemoAlreadySeeded as exc:
        raise click.ClickException(f"{type(exc).__name__} ({exc.code}): {exc}") from None
    print_summary(console, log, summary, data_dir, time.monotonic() - started)


@demo.command("seed")
@click.option(
    "--cases",
    "case_count",
    type=click.IntRange(10, 200_000),
    default=3000,
    show_default=True,
    help="How many cases the city has.",
)
@click.option("--seed", "seed_value", type=int, default=7, show_default=True, help="Same seed, same city.")
@click.option("--teams", type=click.IntRange(1, 4), default=3, show_default=True, help="Teams (areas of the city).")
@click.option("--collectors-per-team", type=click.IntRange(1, 200), default=12, show_default=True)
def demo_seed(case_count: int, seed_value: int, teams: int, collectors_per_team: int) -> None:
    """Seed only the synthetic city: teams, staff and collectors (with home bases and shifts), cases with
    addresses spread over neighbourhoods (imported like upstream data), and pressure/tracing visits."""
    city = build_city(seed=seed_value, cases=case_count, teams=teams, collectors_per_team=collectors_per_team)
    with _bars() as bars:
        summary = run(lambda: seed(city, seed_value=seed_value, progress=_progress(bars)))
    _print(summary)


def _print(summary: SeedSummary) -> None:
    table = Table("what", "count")
    table.add_row("teams", str(len(summary.teams)))
    table.add_row("collectors", str(len(summary.collectors)))
    if summary.imported:
        table.add_row("cases imported", str(summary.imported.created))
    table.add_row("visits requested", str(summary.visits))
    table.add_row("visits assigned", str(summary.assigned))
    console.print(table)
    console.print("staff tokens (shown only now):")
    for username, token in summary.tokens.items():
        console.print(f"  {username:<28} {token}")
