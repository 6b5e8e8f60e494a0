"""The demo's closing table and what to open next."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from api.demo.report import DayLog, Summary


def _counts(title: str, counts: Counter[str]) -> list[tuple[str, str]]:
    if not counts:
        return [(title, "none")]
    return [(title if n == 0 else "", f"{key}: {value}") for n, (key, value) in enumerate(sorted(counts.items()))]


def print_summary(console: Console, log: DayLog, summary: Summary, data_dir: Path, seconds: float) -> None:
    """Print what the day did."""
    table = Table("the day", "", title=f"fieldvisit demo: a day in the field ({seconds:.0f} s)")
    rows = [
        *_counts("visits done, by outcome", summary.outcomes),
        *_counts("case status changes", summary.case_changes),
        *_counts("agreements", summary.agreements),
        *_counts("conflicts held for review", summary.conflicts),
        *_counts("flags raised", summary.flags),
        *_counts("evidence items", summary.evidence),
        (
            "evidence stored",
            f"{summary.evidence_bytes / 1e6:.1f} MB in the blob store; {log.uploads} uploads "
            f"through tus, {log.resumed_uploads} resumed after an interruption",
        ),
        *_counts("push results", Counter(log.results)),
        ("route plan", f"{log.plan.get('id', '-')} ({log.plan.get('placed', 0)} visits published to phones)"),
        (
            "legal bundle",
            f"{log.bundle} ({'verified' if log.bundle_ok else 'VERIFICATION FAILED'})" if log.bundle else "none",
        ),
    ]
    for label, value in rows:
        table.add_row(label, value)
    for note in log.notes:
        table.add_row("", note)
    console.print(table)
    admin = log.seed.tokens.get("demo-admin", "") if log.seed else ""
    console.print(
        "\nWhat to open next:\n"
        f"  uv run fieldvisit serve            then http://127.0.0.1:8000/schema (the API, same data in {data_dir})\n"
        f"  the plan as a picture:             GET /v1/routing/plans/{log.plan.get('id', '<id>')}.svg\n"
        f"  verify the bundle yourself:        uv run fieldvisit evidence verify {log.bundle or 'BUNDLE.zip'}\n"
        f"  demo-admin token (shown once):     {admin}\n"
        "  other staff tokens: run `fieldvisit users token <username>` (dispatcher-team-west, demo-legal, ...)"
    )
