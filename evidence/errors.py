"""Errors of the evidence engine, named as facts, each with a stable code and HTTP status.

The application maps every subclass of ``EvidenceError`` to ``{"error", "code", "detail"}``;
the engine itself knows nothing about HTTP beyond the status number.
"""

from __future__ import annotations

from typing import Any, ClassVar


class EvidenceError(Exception):
    """Base of the evidence engine's errors."""

    code: ClassVar[str]
    status_code: ClassVar[int]

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or (self.__doc__ or type(self).__name__).strip().splitlines()[0]
        self.extra = extra
        super().__init__(self.detail)


# --- tus protocol and uploads ------------------------------------------------------------------


class TusVersionUnsupported(EvidenceError):
    """The request speaks a tus version this server does not (send Tus-Resumable: 1.0.0)."""

    code = "412.70"
    status_code = 412
    headers: ClassVar[dict[str, str]] = {"Tus-Version": "1.0.0"}


class UploadMetadataInvalid(EvidenceError):
    """Upload-Metadata is missing a field or holds a value the server cannot use."""

    code = "400.71"
    status_code = 400


class UploadLengthInvalid(EvidenceError):
    """Upload-Length is missing or not a non-negative integer (deferred lengths are not supported)."""

    code = "400.72"
    status_code = 400


class UploadEmpty(EvidenceError):
    """A zero-byte file is not evidence."""

    code = "400.73"
    status_code = 400


class ChecksumHeaderInvalid(EvidenceError):
    """Upload-Checksum is malformed or names an algorithm other than sha1 or sha256."""

    code = "400.74"
    status_code = 400


class UploadOffsetInvalid(EvidenceError):
    """Upload-Offset is missing or not a non-negative integer."""

    code = "400.75"
    status_code = 400


class UploadNotFound(EvidenceError):
    """No upload has this id (or it belongs to someone else)."""

    code = "404.70"
    status_code = 404


class UploadOffsetMismatch(EvidenceError):
    """Upload-Offset does not match the bytes the server holds; ask with HEAD and resume from there."""

    code = "409.70"
    status_code = 409


class EvidenceNotDeclared(EvidenceError):
    """No evidence item has this id: declare it (sync mutation or POST /v1/evidence/items) before uploading."""

    code = "409.71"
    status_code = 409


class UploadDoesNotMatchDeclaration(EvidenceError):
    """The upload's sha256, kind or size differs from what the evidence item declared."""

    code = "409.72"
    status_code = 409


class UploadAlreadyComplete(EvidenceError):
    """The upload is complete: its bytes are evidence now and cannot be terminated."""

    code = "409.74"
    status_code = 409


class UploadGone(EvidenceError):
    """The upload was terminated, expired or rejected; create a new one."""

    code = "410.70"
    status_code = 410


class UploadTooLarge(EvidenceError):
    """Upload-Length is above the limit for this kind of evidence."""

    code = "413.70"
    status_code = 413


class UploadExceedsLength(EvidenceError):
    """The request carries more bytes than Upload-Length announced; the chunk was discarded."""

    code = "413.71"
    status_code = 413


class UploadContentTypeInvalid(EvidenceError):
    """PATCH bodies must be sent as Content-Type: application/offset+octet-stream."""

    code = "415.70"
    status_code = 415


class UploadHashMismatch(EvidenceError):
    """The complete file's sha256 differs from the one computed on the phone; nothing became evidence."""

    code = "422.70"
    status_code = 422


class UploadBusy(EvidenceError):
    """Another request is writing to this upload right now; retry after it finished."""

    code = "423.70"
    status_code = 423


class UploadChecksumMismatch(EvidenceError):
    """The chunk's checksum does not match Upload-Checksum; the chunk was discarded, resend it."""

    code = "460.70"
    status_code = 460


# --- evidence items, agreements, exports ---------------------------------------------------------


class EvidenceItemNotFound(EvidenceError):
    """No evidence item has this id."""

    code = "404.71"
    status_code = 404


class ExportNotFound(EvidenceError):
    """No legal export has this id."""

    code = "404.72"
    status_code = 404


class DerivedFileNotFound(EvidenceError):
    """This derived file (e.g. the thumbnail) does not exist yet, or could not be made from the original."""

    code = "404.73"
    status_code = 404


class AgreementNotFound(EvidenceError):
    """No signed agreement has this id."""

    code = "404.74"
    status_code = 404


class EvidenceIdReused(EvidenceError):
    """This evidence id was already declared with other content (sha256, kind or visit)."""

    code = "409.73"
    status_code = 409


class ExportNotReady(EvidenceError):
    """The export is still being built (or failed); check its state."""

    code = "409.75"
    status_code = 409


class AgreementIdReused(EvidenceError):
    """This agreement id was already used for other terms or another signature."""

    code = "409.76"
    status_code = 409


class RangeNotSatisfiable(EvidenceError):
    """The Range header asks for bytes outside the file."""

    code = "416.70"
    status_code = 416


class AgreementTermsInvalid(EvidenceError):
    """The agreement terms do not add up (instalments, dates, amounts or currency)."""

    code = "422.71"
    status_code = 422


class SignatureNotUsable(EvidenceError):
    """The signature must be a declared signature item of the same visit."""

    code = "422.72"
    status_code = 422


class ExportScopeInvalid(EvidenceError):
    """Name either a case or a non-empty set of visits of one case."""

    code = "422.73"
    status_code = 422


class EvidenceDeclarationInvalid(EvidenceError):
    """The declaration is not usable (sha256 must be 64 lowercase hex characters, size positive)."""

    code = "422.74"
    status_code = 422
