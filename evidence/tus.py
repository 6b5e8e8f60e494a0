"""The tus 1.0.0 resumable-upload protocol as plain values: header parsing and building, no I/O.

Only the parts fieldvisit serves: core, creation, creation-with-upload, termination, expiration and
checksum (sha1, sha256). Every parse error is an ``EvidenceError`` with a stable code, so a
malformed header is always a coded 4xx.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from uuid import UUID

from evidence.errors import (
    ChecksumHeaderInvalid,
    TusVersionUnsupported,
    UploadLengthInvalid,
    UploadMetadataInvalid,
    UploadOffsetInvalid,
)
from evidence.kinds import EvidenceKind

TUS_VERSION = "1.0.0"
EXTENSIONS = ("creation", "creation-with-upload", "termination", "expiration", "checksum")
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
CHECKSUM_ALGORITHMS: dict[str, Callable[[], hashlib._Hash]] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(r"^[^\s,]+$")
_DIGITS = re.compile(r"^[0-9]{1,19}$")


def require_version(header: str | None) -> None:
    """Every request but OPTIONS names the protocol version; only 1.0.0 is spoken here."""
    if header != TUS_VERSION:
        raise TusVersionUnsupported(f"Tus-Resumable must be {TUS_VERSION}, got {header!r}", tus_version=TUS_VERSION)


def parse_non_negative(header: str | None, error: type[UploadLengthInvalid | UploadOffsetInvalid], name: str) -> int:
    """A header holding a non-negative decimal integer (no sign, no spaces, at most 19 digits)."""
    if header is None or not _DIGITS.match(header.strip()):
        raise error(f"{name} must be a non-negative integer, got {header!r}")
    return int(header.strip())


def parse_length(header: str | None, defer_header: str | None) -> int:
    """Upload-Length; deferring the length (creation-defer-length) is not supported."""
    if header is None and defer_header is not None:
        raise UploadLengthInvalid("Upload-Defer-Length is not supported: send Upload-Length")
    return parse_non_negative(header, UploadLengthInvalid, "Upload-Length")


def parse_offset(header: str | None) -> int:
    """Upload-Offset of a PATCH."""
    return parse_non_negative(header, UploadOffsetInvalid, "Upload-Offset")


def parse_metadata(header: str | None) -> dict[str, str]:
    """Upload-Metadata: comma-separated ``key base64(value)`` pairs; keys unique, values UTF-8."""
    found: dict[str, str] = {}
    if header is None or not header.strip():
        return found
    for pair in header.split(","):
        parts = pair.strip().split(" ")
        key = parts[0]
        if not _KEY.match(key) or len(parts) > 2:
            raise UploadMetadataInvalid(f"Upload-Metadata pair {pair.strip()[:80]!r} is malformed")
        if key in found:
            raise UploadMetadataInvalid(f"Upload-Metadata names {key!r} twice")
        raw = parts[1] if len(parts) == 2 else ""
        try:
            found[key] = base64.b64decode(raw, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):  # binascii.Error, or non-ASCII header text
            raise UploadMetadataInvalid(f"Upload-Metadata value of {key!r} is not base64 of UTF-8 text") from None
    return found


def encode_metadata(values: Mapping[str, str]) -> str:
    """The Upload-Metadata header for ``values`` (the inverse of :func:`parse_metadata`)."""
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


@dataclass(frozen=True)
class UploadMetadata:
    """What the phone says about the file: whose evidence, its hash at capture, kind and type."""

    evidence_id: UUID
    sha256: str
    kind: EvidenceKind
    content_type: str
    filename: str


def _field(values: Mapping[str, str], name: str) -> str:
    value = values.get(name, "").strip()
    if not value:
        raise UploadMetadataInvalid(f"Upload-Metadata must carry {name!r}", field=name)
    return value


def read_upload_metadata(values: Mapping[str, str]) -> UploadMetadata:
    """Check the fields fieldvisit needs: ``evidence_id``, ``sha256``, ``kind``, ``content_type`` (and ``filename``)."""
    try:
        evidence_id = UUID(_field(values, "evidence_id"))
    except ValueError:
        raise UploadMetadataInvalid("evidence_id must be a UUID", field="evidence_id") from None
    sha256 = _field(values, "sha256").lower()
    if not _SHA256.match(sha256):
        raise UploadMetadataInvalid("sha256 must be 64 hexadecimal characters", field="sha256")
    kind_name = _field(values, "kind")
    try:
        kind = EvidenceKind(kind_name)
    except ValueError:
        raise UploadMetadataInvalid(f"kind {kind_name[:40]!r} is not an uploadable kind", field="kind") from None
    if not kind.uploadable:
        raise UploadMetadataInvalid(f"{kind.value} items are made by the server, not uploaded", field="kind")
    content_type = values.get("content_type") or values.get("filetype") or ""
    content_type = content_type.strip()[:100] or "application/octet-stream"
    return UploadMetadata(evidence_id, sha256, kind, content_type, values.get("filename", ""))


@dataclass(frozen=True)
class Checksum:
    """A parsed Upload-Checksum: the algorithm and the expected digest of the request body."""

    algorithm: str
    digest: bytes

    def hasher(self) -> hashlib._Hash:
        """A fresh hash object of this algorithm."""
        return CHECKSUM_ALGORITHMS[self.algorithm]()


def parse_checksum(header: str | None) -> Checksum | None:
    """Upload-Checksum ``<algorithm> <base64 digest>``, or None when absent."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    algorithm = algorithm.lower()
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise ChecksumHeaderInvalid(
            f"checksum algorithm {algorithm[:20]!r} is not supported (use sha1 or sha256)",
            supported=sorted(CHECKSUM_ALGORITHMS),
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except ValueError:  # binascii.Error, or non-ASCII header text
        raise ChecksumHeaderInvalid("the Upload-Checksum digest is not base64") from None
    if len(digest) != CHECKSUM_ALGORITHMS[algorithm]().digest_size:
        raise ChecksumHeaderInvalid(f"a {algorithm} digest has {CHECKSUM_ALGORITHMS[algorithm]().digest_size} bytes")
    return Checksum(algorithm, digest)


def http_date(moment: datetime) -> str:
    """RFC 9110 date, as Upload-Expires wants it."""
    return format_datetime(moment, usegmt=True)


def options_headers(max_size: int) -> dict[str, str]:
    """What OPTIONS advertises: versions, extensions, the largest upload, checksum algorithms."""
    return {
        "Tus-Resumable": TUS_VERSION,
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": ",".join(EXTENSIONS),
        "Tus-Max-Size": str(max_size),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
    }
