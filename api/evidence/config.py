"""The evidence engine as this application runs it: blob store, folders, limits, transactions, jobs."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Any

from api.db import write_transaction
from api.evidence.settings import get_evidence_settings
from api.queue.runner import defer
from api.settings import get_settings
from evidence.blobs import LocalBlobStore
from evidence.media.limits import ImageLimits
from evidence.ports import EvidenceConfig


async def defer_job(name: str, *args: str) -> Any:
    """The engine's job sink: an outbox row in the current transaction."""
    return await defer(name, *args)


@lru_cache(maxsize=1)
def evidence_config() -> EvidenceConfig:
    """The engine configuration of this process (blobs under the data dir by default)."""
    storage = get_settings().storage
    ev = get_evidence_settings()
    storage.upload_dir.mkdir(parents=True, exist_ok=True)
    storage.export_dir.mkdir(parents=True, exist_ok=True)
    return EvidenceConfig(
        store=LocalBlobStore(storage.blob_dir),
        upload_dir=storage.upload_dir,
        export_dir=storage.export_dir,
        defer=defer_job,
        transaction=write_transaction,
        size_limits=ev.size_limits,
        upload_ttl=timedelta(hours=ev.upload_ttl_hours),
        image_limits=ImageLimits(max_pixels=ev.max_image_pixels),
    )
