"""Background jobs of the evidence context, registered by ``api.queue.catalogue``."""

from __future__ import annotations

from uuid import UUID

from api.db import write_transaction
from api.evidence.config import evidence_config
from api.evidence.export_gather import gather_domain
from api.outcomes.tables import Agreement
from api.queue.registry import CronSpec, JobSpec
from api.queue.runner import JobContext
from evidence import agreements, exports, processing, uploads
from evidence.ports import BUILD_EXPORT, PROCESS_ITEM, RENDER_AGREEMENT


async def process_item(ctx: JobContext, item_id: str) -> None:
    """evidence.process_item: inspect a verified item's bytes, make its derived file, flag what is doubtful."""
    await processing.process_item(evidence_config(), UUID(item_id), record_in=ctx.final_transaction)


async def render_agreement(ctx: JobContext, agreement_id: str) -> None:
    """evidence.render_agreement: render the signed agreement's PDF once its signature is processed, and
    point the domain agreement of the same id (the AGR outcome's) at the document item."""
    config = evidence_config()
    await agreements.render_agreement(config, UUID(agreement_id))
    async with write_transaction():
        rendered = await agreements.get_agreement_or_raise(UUID(agreement_id))
        if rendered.document_item_id is None:
            return
        await Agreement.update({Agreement.document_evidence: rendered.document_item_id}).where(
            (Agreement.id == rendered.id) & Agreement.document_evidence.is_null()
        )


async def build_export(ctx: JobContext, export_id: str) -> None:
    """evidence.build_export: write a legal export's bundle and record its sha256."""
    await exports.build_export(evidence_config(), UUID(export_id), gather_domain)


async def expire_uploads(ctx: JobContext) -> None:
    """evidence.expire_uploads: close incomplete uploads past their expiry and delete their bytes."""
    await uploads.expire_uploads(evidence_config())


JOBS: list[JobSpec] = [
    JobSpec(name=PROCESS_ITEM, fn=process_item, timeout_s=120),
    JobSpec(name=RENDER_AGREEMENT, fn=render_agreement, timeout_s=120),
    JobSpec(name=BUILD_EXPORT, fn=build_export, timeout_s=3600),
]
CRONS: list[CronSpec] = [CronSpec(name="evidence.expire_uploads", fn=expire_uploads, every_s=600)]
