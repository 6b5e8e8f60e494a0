"""Tables of the evidence engine. Engine tables hold ids of application records as plain UUIDs
(no foreign keys into ``api``), so the engine never depends on the application.

Evidence rows are written by the engine only: items move through their states and gain what
processing found, custody links are only ever inserted. No API path updates or deletes them.
JSON columns hold canonical JSON text (``evidence.custody.canonical_json``).
"""

from __future__ import annotations

from piccolo.columns import JSON, UUID, BigInt, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Blob(Table, tablename="evidence_blob"):
    """Bytes held by the blob store, once per sha256."""

    sha256 = Varchar(length=64, primary_key=True)
    size = BigInt()
    created_at = Timestamptz(default=TimestamptzNow())


class EvidenceItem(Table, tablename="evidence_item"):
    """One photo, recording, signature or document of a visit; the id is made by the phone."""

    id = UUID(primary_key=True)
    visit_id = UUID(index=True)
    case_id = UUID(index=True)
    kind = Varchar(length=24)
    sha256 = Varchar(length=64, index=True)
    size = BigInt(null=True, default=None)
    content_type = Varchar(length=100, default="")
    state = Varchar(length=16, default="declared", index=True)
    capture = JSON(default="{}")  # what the phone said: captured_at, location, consent, note
    media = JSON(default="{}")  # what processing found: format, dimensions, EXIF capture data, duration
    flags = JSON(default="[]")  # [{"code", "detail"}]: hostile or doubtful content, missing consent...
    filename = Varchar(length=255, default="")  # sanitised base name, for people only (never a path)
    declared_by = UUID(null=True, default=None)
    device_id = UUID(null=True, default=None)
    declared_at = Timestamptz(default=TimestamptzNow())
    received_at = Timestamptz(null=True, default=None)
    verified_at = Timestamptz(null=True, default=None)
    processed_at = Timestamptz(null=True, default=None)


class Derivative(Table, tablename="evidence_derivative"):
    """A file made from evidence (thumbnail, normalised signature, agreement PDF) and how."""

    id = Serial(primary_key=True)
    key = Varchar(length=80, unique=True)  # "<item id>:<role>": one derivative per role and item
    item_id = UUID(index=True)
    role = Varchar(length=24)
    sha256 = Varchar(length=64)
    size = BigInt()
    content_type = Varchar(length=100)
    parents = JSON(default="[]")  # sha256 of every input
    recipe = JSON(default="{}")  # tool, version and steps
    created_at = Timestamptz(default=TimestamptzNow())


class CustodyEvent(Table, tablename="evidence_custody"):
    """One link of an item's hash-chained custody log (insert-only)."""

    id = Serial(primary_key=True)
    link_key = Varchar(length=60, unique=True)  # "<item id>:<seq>": two writers can never fork a chain
    item_id = UUID(index=True)
    seq = Integer()
    action = Varchar(length=16)
    at = Timestamptz()
    actor_id = UUID(null=True, default=None)
    device_id = UUID(null=True, default=None)
    address = Varchar(length=64, default="")
    details = JSON(default="{}")
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class Upload(Table, tablename="evidence_upload"):
    """A tus upload: whose bytes for which item, how long, and how it ended."""

    id = UUID(primary_key=True)
    item_id = UUID(index=True)
    sha256 = Varchar(length=64)
    kind = Varchar(length=24)
    length = BigInt()
    metadata = Text(default="")  # the Upload-Metadata header as received, echoed by HEAD
    state = Varchar(length=16, default="open", index=True)  # open | complete | rejected | terminated | expired
    reason = Text(default="")
    created_by = UUID()
    device_id = UUID(null=True, default=None)
    address = Varchar(length=64, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)


class SignedAgreement(Table, tablename="evidence_agreement"):
    """Repayment terms, the debtor's signature and the rendered document, tied together."""

    id = UUID(primary_key=True)
    visit_id = UUID(index=True)
    case_id = UUID(index=True)
    terms_item_id = UUID()
    signature_item_id = UUID(index=True)
    document_item_id = UUID(null=True, default=None)
    amount = Varchar(length=40)
    currency = Varchar(length=3)
    created_by = UUID()
    created_at = Timestamptz(default=TimestamptzNow())


class Export(Table, tablename="evidence_export"):
    """A legal export bundle: what it covers, who asked, and the hash of the finished ZIP."""

    id = UUID(primary_key=True)
    case_id = UUID(index=True)
    visit_ids = JSON(default="[]")
    state = Varchar(length=16, default="pending")  # pending | ready | failed
    requested_by = UUID()
    address = Varchar(length=64, default="")
    sha256 = Varchar(length=64, default="")
    size = BigInt(default=0)
    item_count = Integer(default=0)
    notes = JSON(default="[]")
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)


class ExportDownload(Table, tablename="evidence_export_download"):
    """Every download (or ranged part) of an export, logged."""

    id = Serial(primary_key=True)
    export_id = UUID(index=True)
    user_id = UUID()
    address = Varchar(length=64, default="")
    byte_range = Varchar(length=80, default="")
    at = Timestamptz(default=TimestamptzNow())


TABLES = [Blob, EvidenceItem, Derivative, CustodyEvent, Upload, SignedAgreement, Export, ExportDownload]
