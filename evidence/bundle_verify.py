"""Verify an evidence bundle offline: every file's hash against two independent listings, every
original against its own name and the manifest, every custody chain. Names each file that fails."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidence.custody import Link, link_from_json, verify_chain

_SUM_LINE = re.compile(r"^([0-9a-f]{64})  (\S.*)$")
SUMS, MANIFEST, CUSTODY = "SHA256SUMS", "manifest.json", "custody.jsonl"


@dataclass(frozen=True)
class Problem:
    """A file (or the bundle) that fails, and why."""

    file: str
    reason: str


@dataclass
class Report:
    """The verdict on a bundle."""

    files: int = 0
    items: int = 0
    chains: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, file: str, reason: str) -> None:
        problem = Problem(file, reason)
        if problem not in self.problems:
            self.problems.append(problem)


def _hash_entries(archive: zipfile.ZipFile, report: Report) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for info in archive.infolist():
        digest = hashlib.sha256()
        try:
            with archive.open(info) as reader:
                while block := reader.read(1024 * 1024):
                    digest.update(block)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:  # a bad CRC names the damaged member
            report.fail(info.filename, f"damaged inside the ZIP: {exc}")
            continue
        hashes[info.filename] = digest.hexdigest()
    return hashes


def _read_sums(archive: zipfile.ZipFile, report: Report) -> dict[str, str]:
    sums: dict[str, str] = {}
    try:
        text = archive.read(SUMS).decode("utf-8")
    except (KeyError, UnicodeDecodeError, zipfile.BadZipFile, OSError) as exc:
        report.fail(SUMS, f"missing or unreadable: {exc}")
        return sums
    for number, line in enumerate(text.splitlines(), start=1):
        match = _SUM_LINE.match(line)
        if match is None:
            report.fail(SUMS, f"line {number} is not '<sha256>  <file>'")
            continue
        sums[match.group(2)] = match.group(1)
    return sums


def _read_manifest(archive: zipfile.ZipFile, report: Report) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError, zipfile.BadZipFile, OSError) as exc:
        report.fail(MANIFEST, f"missing or not JSON: {exc}")
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _check_listings(hashes: dict[str, str], sums: dict[str, str], listed: dict[str, str], report: Report) -> None:
    """Blame the file when both listings disagree with it, a listing when only that one does."""
    for name, digest in hashes.items():
        if name == SUMS:
            continue
        in_sums, in_manifest = sums.get(name) == digest, listed.get(name) == digest
        if name == MANIFEST:
            if not in_sums:
                report.fail(MANIFEST, "altered: its hash differs from SHA256SUMS")
        elif not in_sums and not in_manifest:
            known = name in sums or name in listed
            report.fail(
                name, "altered: its hash matches neither SHA256SUMS nor the manifest" if known else "not listed"
            )
        elif not in_sums:
            report.fail(SUMS, f"its line for {name} is wrong or missing (the manifest and the file agree)")
        elif not in_manifest:
            report.fail(MANIFEST, f"its entry for {name} is wrong or missing (SHA256SUMS and the file agree)")
    for name in set(sums) | set(listed):
        if name not in hashes:
            report.fail(name if name in listed else SUMS, f"listed but missing: {name}")


def _check_names(hashes: dict[str, str], manifest: dict[str, Any], report: Report) -> None:
    for name, digest in hashes.items():
        if name.startswith(("originals/", "derived/")) and Path(name).stem != digest:
            report.fail(name, "its content does not hash to its name")
    for item in manifest.get("items", []):
        report.items += 1
        path = item.get("file")
        if path and path in hashes and hashes[path] != item.get("sha256"):
            report.fail(path, f"does not match the sha256 item {item.get('id')} declared at capture")


def _check_custody(archive: zipfile.ZipFile, manifest: dict[str, Any], report: Report) -> None:
    chains: dict[str, list[Link]] = defaultdict(list)
    try:
        lines = archive.read(CUSTODY).decode("utf-8").splitlines()
    except (KeyError, UnicodeDecodeError, zipfile.BadZipFile, OSError) as exc:
        report.fail(CUSTODY, f"missing or unreadable: {exc}")
        return
    for number, line in enumerate(lines, start=1):
        try:
            link = link_from_json(json.loads(line))
        except (ValueError, KeyError, TypeError, AttributeError):
            report.fail(CUSTODY, f"line {number} is not a custody link")
            continue
        chains[link.item_id].append(link)
    heads = {str(i.get("id")): i.get("custody_head") for i in manifest.get("items", [])}
    for item_id, links in chains.items():
        report.chains += 1
        verdict = verify_chain(item_id, links)
        if not verdict.valid and verdict.first_broken is not None:
            report.fail(CUSTODY, f"item {item_id}: {verdict.first_broken.reason}")
        elif item_id in heads and heads[item_id] != verdict.head:
            report.fail(MANIFEST, f"custody_head of item {item_id} is not the chain's last hash")


def verify_bundle(path: Path) -> Report:
    """Check a bundle; the report names every file that fails."""
    report = Report()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        report.fail(str(path), f"not a readable ZIP: {exc}")
        return report
    with archive:
        hashes = _hash_entries(archive, report)
        report.files = len(hashes)
        sums = _read_sums(archive, report)
        manifest = _read_manifest(archive, report)
        listed = manifest.get("files", {}) if isinstance(manifest.get("files"), dict) else {}
        _check_listings(hashes, sums, listed, report)
        _check_names(hashes, manifest, report)
        _check_custody(archive, manifest, report)
    return report
