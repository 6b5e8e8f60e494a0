"""Settings of the evidence context, read once from ``FIELDVISIT_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache

import msgspec

from api.settings import SettingsInvalid, _env
from evidence.kinds import DEFAULT_SIZE_LIMITS, EvidenceKind

MiB = 1024 * 1024


class EvidenceSettings(msgspec.Struct, frozen=True):
    """Upload size limits per kind, how long an incomplete upload lives, the image pixel limit."""

    size_limits: dict[EvidenceKind, int]
    upload_ttl_hours: float
    max_image_pixels: int


def _size_limits() -> dict[EvidenceKind, int]:
    limits = dict(DEFAULT_SIZE_LIMITS)
    raw = _env("UPLOAD_LIMITS_MB")
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition(":")
        try:
            kind = EvidenceKind(name.strip())
            limits[kind] = int(float(value) * MiB)
        except ValueError:
            raise SettingsInvalid(f"FIELDVISIT_UPLOAD_LIMITS_MB entry {part!r} must be kind:megabytes") from None
        if not sep or not kind.uploadable:
            raise SettingsInvalid(f"FIELDVISIT_UPLOAD_LIMITS_MB entry {part!r} must name an uploadable kind")
    return limits


def load_evidence_settings() -> EvidenceSettings:
    """Read the evidence settings from the environment."""
    try:
        ttl = float(_env("UPLOAD_TTL_HOURS") or 24)
        pixels = int(_env("MAX_IMAGE_PIXELS") or 64_000_000)
    except ValueError:
        raise SettingsInvalid("FIELDVISIT_UPLOAD_TTL_HOURS and FIELDVISIT_MAX_IMAGE_PIXELS must be numbers") from None
    return EvidenceSettings(size_limits=_size_limits(), upload_ttl_hours=ttl, max_image_pixels=pixels)


@lru_cache(maxsize=1)
def get_evidence_settings() -> EvidenceSettings:
    """The process-wide evidence settings."""
    return load_evidence_settings()
