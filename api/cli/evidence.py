"""``fieldvisit evidence``: check an exported bundle offline."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click
from rich.console import Console

from evidence.bundle_verify import verify_bundle

console = Console()


@click.group()
def evidence() -> None:
    """Evidence bundles."""


@evidence.command("verify")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sha256", "expected", default=None, help="The bundle's sha256 as the server recorded it.")
def verify(bundle: Path, expected: str | None) -> None:
    """Check every hash and custody chain in BUNDLE (a legal export ZIP); name each file that fails.

    Needs no database or server. Exits 0 when the bundle is intact, 1 otherwise.
    """
    report = verify_bundle(bundle)
    if expected is not None:
        with bundle.open("rb") as reader:
            actual = hashlib.file_digest(reader, "sha256").hexdigest()
        if actual != expected.lower():
            report.fail(bundle.name, f"the ZIP hashes to {actual}, not the recorded {expected}")
    for problem in report.problems:
        click.echo(f"FAIL {problem.file}: {problem.reason}")
    summary = f"{report.files} files, {report.items} items, {report.chains} custody chains"
    if not report.ok:
        console.print(f"[red]bundle does NOT verify[/red] ({summary}, {len(report.problems)} problem(s))")
        raise SystemExit(1)
    console.print(f"[green]bundle verifies[/green]: {summary}")
