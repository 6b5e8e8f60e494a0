"""``fieldvisit cases``: import cases from the upstream system."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn
from rich.table import Table

from api.cases.importer import ImportReport, import_stream
from api.cli.runtime import run

console = Console(stderr=True)
CHUNK = 256 * 1024
_TYPES = {".csv": "text/csv", ".jsonl": "application/x-ndjson", ".ndjson": "application/x-ndjson"}


@click.group()
def cases() -> None:
    """Cases from the upstream collection system."""


@cases.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default=None,
    help="Default: from the file extension (.csv, .jsonl, .ndjson).",
)
@click.option(
    "--errors",
    "errors_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every bad row (row number and reason) to this file.",
)
def cases_import(file: Path, fmt: str | None, errors_file: Path | None) -> None:
    """Import FILE (CSV or JSON Lines; columns in docs/import.md). Upserts by (source, external_ref);
    importing the same file twice changes nothing; bad rows are reported and never stop good ones."""
    content_type = {"csv": "text/csv", "jsonl": "application/x-ndjson"}.get(fmt or "") or _TYPES.get(
        file.suffix.lower()
    )
    if content_type is None:
        raise click.UsageError(f"cannot tell the format of {file.name}; pass --format csv|jsonl")
    size = file.stat().st_size
    with Progress(
        TextColumn("importing {task.fields[name]}"),
        BarColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[rows]} rows"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("import", total=size, name=file.name, rows=0)

        async def chunks() -> AsyncIterator[bytes]:
            with file.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    progress.update(task, advance=len(chunk))
                    yield chunk

        report = run(lambda: import_stream(chunks(), content_type, lambda n: progress.update(task, rows=n)))
    _print_report(report, errors_file)


def _print_report(report: ImportReport, errors_file: Path | None) -> None:
    table = Table("rows", "created", "updated", "unchanged", "closed", "failed")
    table.add_row(
        *(str(v) for v in (report.rows, report.created, report.updated, report.unchanged, report.closed, report.failed))
    )
    Console().print(table)
    for error in report.errors[:20]:
        console.print(f"[red]row {error.row}[/red]: {error.error}")
    if report.failed > 20:
        console.print(f"... and {report.failed - 20} more bad rows" + ("" if errors_file else " (use --errors FILE)"))
    if errors_file is not None:
        errors_file.write_text("".join(f"{e.row}\t{e.error}\n" for e in report.errors))
