"""``fieldvisit demo``: the synthetic city and the demo day."""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.runtime import run
from api.demo.city import build_city
from api.demo.seed import SeedSummary, seed

console = Console()


@click.group()
def demo() -> None:
    """Demo data: a synthetic city with teams, collectors, cases and visits."""


@demo.command("seed")
@click.option(
    "--cases",
    "case_count",
    type=click.IntRange(10, 200_000),
    default=3000,
    show_default=True,
    help="How many cases the city has.",
)
@click.option(
    "--seed", "seed_value", type=int, default=7, show_default=True, help="Random seed (same seed, same city)."
)
@click.option("--teams", type=click.IntRange(1, 4), default=3, show_default=True, help="Teams (areas of the city).")
@click.option("--collectors-per-team", type=click.IntRange(1, 200), default=12, show_default=True)
def demo_seed(case_count: int, seed_value: int, teams: int, collectors_per_team: int) -> None:
    """Seed the synthetic city: teams, staff and collectors, cases with addresses spread over
    neighbourhoods (imported like upstream data), and pressure/tracing visit requests."""
    city = build_city(seed=seed_value, cases=case_count, teams=teams, collectors_per_team=collectors_per_team)
    with Progress(
        TextColumn("{task.description:>8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bars:
        tasks: dict[str, object] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            bars.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

        summary = run(lambda: seed(city, seed_value=seed_value, progress=progress))
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
