"""The demo's closing summary, read from the database the day wrote."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.cases.tables import CaseEvent, VisitFlag
from api.db import json_value
from api.demo.seed import SeedSummary
from api.outcomes.tables import Agreement, VisitOutcome
from evidence.tables import Blob, EvidenceItem
from sync.tables import SyncConflict


@dataclass
class DayLog:
    """What happened, for the summary."""

    seed: SeedSummary | None = None
    plan: dict[str, Any] = field(default_factory=dict)
    uploads: int = 0
    resumed_uploads: int = 0
    upload_bytes: int = 0
    results: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    bundle: Path | None = None
    bundle_ok: bool = False
    approved_agreement: str = ""


@dataclass
class Summary:
    """Counts of what the day produced."""

    outcomes: Counter[str] = field(default_factory=Counter)
    case_changes: Counter[str] = field(default_factory=Counter)
    conflicts: Counter[str] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)
    evidence: Counter[str] = field(default_factory=Counter)
    evidence_bytes: int = 0
    agreements: Counter[str] = field(default_factory=Counter)


async def summarise() -> Summary:
    """Read the day's results."""
    summary = Summary()
    for row in await VisitOutcome.select(VisitOutcome.code, VisitOutcome.state):
        summary.outcomes[f"{row['code']}" + ("" if row["state"] == "accepted" else f" ({row['state']})")] += 1
    for row in await CaseEvent.select(CaseEvent.from_status, CaseEvent.to_status):
        summary.case_changes[f"{row['from_status']} -> {row['to_status']}"] += 1
    for row in await SyncConflict.select(SyncConflict.reason, SyncConflict.status):
        summary.conflicts[f"{row['reason']} ({row['status']})"] += 1
    for row in await VisitFlag.select(VisitFlag.kind):
        summary.flags[row["kind"]] += 1
    for row in await EvidenceItem.select(EvidenceItem.kind, EvidenceItem.state, EvidenceItem.flags):
        summary.evidence[f"{row['kind']} {row['state']}"] += 1
        for flag in json_value(row["flags"], []):
            summary.flags[f"evidence: {flag.get('code', '?') if isinstance(flag, dict) else flag}"] += 1
    summary.evidence_bytes = sum(int(r["size"]) for r in await Blob.select(Blob.size))
    for row in await Agreement.select(Agreement.status, Agreement.required_tier):
        summary.agreements[f"{row['status']} (tier {row['required_tier']})"] += 1
    return summary
