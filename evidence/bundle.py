"""The legal export bundle: a ZIP built from plain inputs, verifiable without the server.

Layout: ``manifest.json`` (case, visits, agreements, items with capture context and hashes, and a
``files`` map of every other file's sha256), ``originals/<sha256>.<ext>``, ``derived/<sha256>.<ext>``,
``agreements/<id>/{terms.json,signature.png,document.pdf}``, ``custody.jsonl``, ``timeline.jsonl``,
``README.txt`` and ``SHA256SUMS`` (every file but itself). Two independent listings (SHA256SUMS
and the manifest's ``files``) let :mod:`evidence.bundle_verify` name exactly which file changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from evidence.custody import Link, canonical_json, utc_text
from evidence.models import Item

FORMAT = "fieldvisit-evidence-bundle/1"
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/heic": "heic",
    "audio/mp4": "m4a",
    "audio/m4a": "m4a",
    "audio/x-m4a": "m4a",
    "audio/amr": "amr",
    "audio/ogg": "ogg",
    "audio/opus": "opus",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/mpeg": "mp3",
    "application/pdf": "pdf",
    "application/json": "json",
}
README = """fieldvisit evidence bundle ({format})
Export {export_id}, made {created_at}.

How to verify this bundle (no fieldvisit software needed):
1. Every file except SHA256SUMS is listed in SHA256SUMS with its SHA-256. On Linux or macOS run
   `sha256sum -c SHA256SUMS` (macOS: `shasum -a 256 -c SHA256SUMS`) inside the unzipped folder:
   every line must say OK.
2. Originals and derived files are named by their own SHA-256 (originals/<sha256>.<ext>): the hash
   of each file must equal its name. manifest.json lists, for each evidence item, the SHA-256 the
   phone computed at capture; it must equal the original's name.
3. manifest.json also lists every other file's SHA-256 under "files" (a second, independent list).
4. custody.jsonl holds each item's custody chain, one link per line in order. For each link:
   hash = SHA-256 of (prev_hash, a newline, and the JSON of the fields item_id, seq, action, at,
   actor_id, device_id, address, details with sorted keys and no spaces, UTF-8). The first link's
   prev_hash is 64 zeros, each next link's prev_hash is the previous link's hash, seq counts 1, 2, 3...
   The last hash of each chain is the item's "custody_head" in manifest.json.
5. `fieldvisit evidence verify <bundle.zip>` performs all of the above and names any file that fails.
The SHA-256 of the whole ZIP was recorded by the server when the export was made.
"""


def extension(content_type: str) -> str:
    """A file extension for a media type (``bin`` when unknown)."""
    return _EXTENSIONS.get(content_type.split(";")[0].strip().lower(), "bin")


@dataclass
class BundleInput:
    """Everything a bundle holds, as plain values; ``open_blob`` reads a stored blob."""

    export_id: str
    created_at: datetime
    scope: dict[str, Any]
    case: dict[str, Any]
    visits: list[dict[str, Any]]
    agreements: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    items: list[Item]
    custody: list[Link]
    open_blob: Callable[[str], BinaryIO]
    notes: list[str] = field(default_factory=list)


class _Writer:
    """Adds files to the ZIP while hashing them."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.hashes: dict[str, str] = {}

    def add_bytes(self, name: str, data: bytes) -> str:
        self.archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
        self.hashes[name] = hashlib.sha256(data).hexdigest()
        return self.hashes[name]

    def add_blob(self, name: str, reader: BinaryIO) -> None:
        if name in self.hashes:
            return
        size = os.fstat(reader.fileno()).st_size
        info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED  # media are compressed already; stored bytes stay seekable
        info.file_size = size
        digest = hashlib.sha256()
        with self.archive.open(info, "w", force_zip64=size >= 2**31 - 1) as out:
            while block := reader.read(1024 * 1024):
                digest.update(block)
                out.write(block)
        self.hashes[name] = digest.hexdigest()


def _jsonl(records: Iterable[dict[str, Any]]) -> bytes:
    return "".join(canonical_json(r) + "\n" for r in records).encode()


def _item_entry(item: Item, heads: dict[str, str]) -> dict[str, Any]:
    entry = msgspec.to_builtins(item)
    entry["custody_head"] = heads.get(str(item.id))
    if item.kind.uploadable:
        entry["file"] = f"originals/{item.sha256}.{extension(item.content_type)}"
    for derived in entry["derived"]:
        derived["file"] = f"derived/{derived['sha256']}.{extension(derived['content_type'])}"
    return dict(entry)


def _add_media(writer: _Writer, data: BundleInput, entries: list[dict[str, Any]]) -> None:
    for item, entry in zip(data.items, entries, strict=True):
        if item.present and "file" in entry:
            with data.open_blob(item.sha256) as reader:
                writer.add_blob(entry["file"], reader)
        for derived in entry["derived"]:
            with data.open_blob(derived["sha256"]) as reader:
                writer.add_blob(derived["file"], reader)


def _add_agreements(writer: _Writer, data: BundleInput) -> None:
    by_id = {str(item.id): item for item in data.items}
    files = {"terms_item_id": "terms.json", "signature_item_id": "signature.png", "document_item_id": "document.pdf"}
    for agreement in data.agreements:
        for key, name in files.items():
            item = by_id.get(str(agreement.get(key)))
            if item is not None and item.present:
                with data.open_blob(item.sha256) as reader:
                    writer.add_blob(f"agreements/{agreement['id']}/{name}", reader)


def build_bundle(data: BundleInput, target: Path) -> tuple[str, int]:
    """Write the bundle to ``target`` atomically; return its sha256 and size."""
    heads = {link.item_id: link.hash for link in data.custody}
    entries = [_item_entry(item, heads) for item in data.items]
    staged = target.with_suffix(".partial")
    with zipfile.ZipFile(staged, "w", allowZip64=True) as archive:
        writer = _Writer(archive)
        _add_media(writer, data, entries)
        _add_agreements(writer, data)
        writer.add_bytes("custody.jsonl", _jsonl(link.as_json() for link in data.custody))
        writer.add_bytes("timeline.jsonl", _jsonl(data.timeline))
        readme = README.format(format=FORMAT, export_id=data.export_id, created_at=utc_text(data.created_at))
        writer.add_bytes("README.txt", readme.encode())
        manifest = {
            "format": FORMAT,
            "export_id": data.export_id,
            "created_at": utc_text(data.created_at),
            "scope": data.scope,
            "case": data.case,
            "visits": data.visits,
            "agreements": data.agreements,
            "items": entries,
            "notes": data.notes,
            "files": dict(sorted(writer.hashes.items())),
        }
        writer.add_bytes("manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True).encode())
        sums = "".join(f"{digest}  {name}\n" for name, digest in sorted(writer.hashes.items()))
        archive.writestr("SHA256SUMS", sums, compress_type=zipfile.ZIP_DEFLATED)
    with staged.open("rb") as reader:
        os.fsync(reader.fileno())
        digest = hashlib.file_digest(reader, "sha256").hexdigest()
    shutil.move(staged, target)
    return digest, target.stat().st_size
