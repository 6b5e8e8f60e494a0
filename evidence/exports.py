"""Legal exports as use cases: request, build (in a job), read, download (logged).

The application gathers the domain records (case, visits, check-ins, outcomes, timeline) and passes
them in as plain values; the engine adds the evidence, appends an ``exported`` link to every item's
custody chain (once per export, so a retried job adds nothing), writes the bundle and records its
sha256.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from evidence import items
from evidence import repository as repo
from evidence.bundle import BundleInput, build_bundle
from evidence.errors import ExportNotFound, ExportNotReady
from evidence.kinds import CustodyAction
from evidence.ports import BUILD_EXPORT, SERVER, EvidenceConfig, JobSink, Who


@dataclass(frozen=True)
class DomainRecords:
    """What the application knows about the exported case and visits, as JSON-ready values."""

    case: dict[str, Any]
    visits: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    agreements: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


Gather = Callable[[UUID, list[UUID]], Awaitable[DomainRecords]]


@dataclass(frozen=True)
class ExportInfo:
    """An export's state and, once ready, the bundle's hash and size."""

    id: UUID
    case_id: UUID
    visit_ids: list[UUID]
    state: str
    sha256: str
    size: int
    item_count: int
    notes: list[str]
    created_at: datetime
    finished_at: datetime | None


def _info(row: dict[str, Any]) -> ExportInfo:
    return ExportInfo(
        id=row["id"],
        case_id=row["case_id"],
        visit_ids=list(row["visit_ids"]),
        state=row["state"],
        sha256=row["sha256"],
        size=int(row["size"]),
        item_count=int(row["item_count"]),
        notes=list(row["notes"]),
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )


async def request_export(case_id: UUID, visit_ids: list[UUID], who: Who, defer: JobSink) -> ExportInfo:
    """Record an export request for a case's visits (checked by the caller) and defer its build."""
    export_id = uuid4()
    await repo.insert_export(
        {
            "id": export_id,
            "case_id": case_id,
            "visit_ids": visit_ids,
            "requested_by": who.user_id,
            "address": who.address,
        }
    )
    await defer(BUILD_EXPORT, str(export_id))
    return await get_export_or_raise(export_id)


async def get_export_or_raise(export_id: UUID) -> ExportInfo:
    """An export by id."""
    row = await repo.get_export(export_id)
    if row is None:
        raise ExportNotFound(f"no export {export_id}")
    return _info(row)


def bundle_path(config: EvidenceConfig, export_id: UUID) -> Path:
    """Where an export's ZIP lives."""
    return config.export_dir / f"{export_id}.zip"


async def ready_file(config: EvidenceConfig, export_id: UUID) -> tuple[ExportInfo, Path]:
    """A ready export and its file (ExportNotReady before the job finished)."""
    info = await get_export_or_raise(export_id)
    path = bundle_path(config, export_id)
    if info.state != "ready" or not path.is_file():
        raise ExportNotReady(f"export {export_id} is {info.state}")
    return info, path


async def log_download(export_id: UUID, who: Who, byte_range: str) -> None:
    """Write down who fetched (part of) an export."""
    if who.user_id is not None:
        await repo.log_export_download(export_id, who.user_id, who.address, byte_range)


async def _mark_exported(export_id: UUID, item_ids: list[UUID]) -> None:
    done = {
        link.item_id
        for link in await repo.list_links(item_ids)
        if link.action == CustodyAction.EXPORTED.value and link.details.get("export_id") == str(export_id)
    }
    for item_id in item_ids:
        if str(item_id) not in done:
            await repo.get_item(item_id, lock=True)
            await items.append_custody(item_id, CustodyAction.EXPORTED, SERVER, {"export_id": str(export_id)})


async def build_export(config: EvidenceConfig, export_id: UUID, gather: Gather) -> bool:
    """Build the bundle of a pending export; False if it was already built."""
    async with config.transaction():
        info = await get_export_or_raise(export_id)
        if info.state != "pending":
            return False
        domain = await gather(info.case_id, info.visit_ids)
        visit_ids = [UUID(str(v["id"])) for v in domain.visits]
        found = await items.list_items(visit_ids=visit_ids)
        await _mark_exported(export_id, [i.id for i in found])
    async with config.transaction():
        found = await items.list_items(visit_ids=visit_ids)
        links = await repo.list_links([i.id for i in found])
        signed = await repo.list_agreements(visit_ids=visit_ids)
    data = BundleInput(
        export_id=str(export_id),
        created_at=items.now(),
        scope={"case_id": str(info.case_id), "visit_ids": [str(v) for v in visit_ids]},
        case=domain.case,
        visits=domain.visits,
        agreements=_agreements(domain.agreements, signed),
        timeline=domain.timeline,
        items=found,
        custody=links,
        open_blob=config.store.open,
        notes=domain.notes,
    )
    digest, size = await asyncio.to_thread(build_bundle, data, bundle_path(config, export_id))
    async with config.transaction():
        await repo.finish_export(
            export_id,
            {"state": "ready", "sha256": digest, "size": size, "item_count": len(found), "notes": domain.notes}
            | {"finished_at": items.now()},
        )
    return True


def _agreements(domain: list[dict[str, Any]], signed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The domain's agreements (approval, tier) merged with the evidence that backs each signed one."""
    by_id = {str(a.get("id")): dict(a) for a in domain}
    for row in signed:
        entry = by_id.setdefault(str(row["id"]), {"id": str(row["id"])})
        entry.update(
            {
                "visit_id": str(row["visit_id"]),
                "amount": row["amount"],
                "currency": row["currency"],
                "terms_item_id": str(row["terms_item_id"]),
                "signature_item_id": str(row["signature_item_id"]),
                "document_item_id": str(row["document_item_id"]) if row["document_item_id"] else None,
            }
        )
    return list(by_id.values())
