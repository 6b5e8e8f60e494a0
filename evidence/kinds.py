"""What evidence can be, and the states an item goes through (plain values, no I/O)."""

from __future__ import annotations

from enum import StrEnum

MiB = 1024 * 1024


class EvidenceKind(StrEnum):
    """The kinds of evidence items."""

    PHOTO = "photo"
    RECORDING = "recording"
    SIGNATURE = "signature"
    DOCUMENT = "document"
    AGREEMENT_TERMS = "agreement_terms"  # made by the server from the terms a collector sent
    AGREEMENT_DOCUMENT = "agreement_document"  # the rendered PDF, made by the server

    @property
    def uploadable(self) -> bool:
        """Phones upload photos, recordings, signatures and documents; agreement files are server-made."""
        return self not in (EvidenceKind.AGREEMENT_TERMS, EvidenceKind.AGREEMENT_DOCUMENT)


class ItemState(StrEnum):
    """declared -> received (bytes arrived) -> verified (sha256 checked) -> processed (media jobs done)."""

    DECLARED = "declared"
    RECEIVED = "received"
    VERIFIED = "verified"
    PROCESSED = "processed"


class CustodyAction(StrEnum):
    """What a custody link records."""

    DECLARED = "declared"
    RECEIVED = "received"
    VERIFIED = "verified"
    PROCESSED = "processed"
    VIEWED = "viewed"
    EXPORTED = "exported"


DEFAULT_SIZE_LIMITS: dict[EvidenceKind, int] = {
    EvidenceKind.PHOTO: 64 * MiB,
    EvidenceKind.RECORDING: 2048 * MiB,
    EvidenceKind.SIGNATURE: 8 * MiB,
    EvidenceKind.DOCUMENT: 64 * MiB,
}
