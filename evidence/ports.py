"""What the evidence engine needs from whoever runs it, as plain values and protocols.

The application builds one :class:`EvidenceConfig` (blob store, folders, limits) and passes a
:class:`JobSink` that defers jobs in the current transaction. The engine never imports ``api``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from evidence.blobs import BlobStore
from evidence.kinds import DEFAULT_SIZE_LIMITS, EvidenceKind
from evidence.media.limits import ImageLimits

PROCESS_ITEM = "evidence.process_item"
RENDER_AGREEMENT = "evidence.render_agreement"
BUILD_EXPORT = "evidence.build_export"


class Transactor(Protocol):
    """Opens a write transaction (committed when the block ends) for use cases that must do long
    file I/O between short transactions: an upload's bytes never stream inside one."""

    def __call__(self) -> AbstractAsyncContextManager[Any]: ...


class JobSink(Protocol):
    """Defers a job by name inside the caller's transaction (it runs after commit)."""

    async def __call__(self, name: str, *args: str) -> Any: ...


@dataclass(frozen=True)
class Who:
    """Who does something to evidence, as the custody chain records it."""

    user_id: UUID | None
    device_id: UUID | None = None
    address: str = ""

    @property
    def actor_id(self) -> str | None:
        return str(self.user_id) if self.user_id is not None else None

    @property
    def device(self) -> str | None:
        return str(self.device_id) if self.device_id is not None else None


SERVER = Who(user_id=None, device_id=None, address="server")


@dataclass(frozen=True)
class EvidenceConfig:
    """Where evidence lives and the limits it is held to."""

    store: BlobStore
    upload_dir: Path
    export_dir: Path
    defer: JobSink
    transaction: Transactor
    size_limits: Mapping[EvidenceKind, int] = field(default_factory=lambda: dict(DEFAULT_SIZE_LIMITS))
    upload_ttl: timedelta = timedelta(hours=24)
    image_limits: ImageLimits = field(default_factory=ImageLimits)

    @property
    def max_upload_size(self) -> int:
        """The largest upload of any kind (advertised as Tus-Max-Size)."""
        return max(self.size_limits.values())
