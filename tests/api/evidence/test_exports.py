"""Legal exports end to end: request, build in a job, download with Range, verify offline; one
changed byte anywhere makes `fieldvisit evidence verify` fail and name the file."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import zipfile
from pathlib import Path

import httpx
import pytest

from api.evidence.export_gather import distance_m
from evidence.bundle_verify import verify_bundle
from tests.api.evidence.test_agreements import signature_png, terms
from tests.evidence import hostile
from tests.evidence.helpers import Field, declare, make_field, upload_whole
from tests.server import cli

pytestmark = pytest.mark.embedded


async def _evidence_of_a_visit(client: httpx.AsyncClient, field: Field, drain_jobs) -> None:
    await upload_whole(client, field, hostile.jpeg_with_capture_exif())
    await upload_whole(client, field, os.urandom(2000), "recording", content_type="audio/wav", consent=True)
    signature_id = await upload_whole(client, field, signature_png(), "signature", content_type="image/png")
    await declare(client, field, os.urandom(10), "photo")  # declared, bytes never arrived
    body = {
        "id": str(uuid.uuid4()),
        "visit_id": str(field.visit_id),
        "terms": terms(),
        "signature_evidence_id": signature_id,
    }
    assert (await client.post("/v1/evidence/agreements", json=body, headers=field.collector.headers)).status_code == 201
    for _ in range(3):
        await drain_jobs()


async def _exported_bundle(client: httpx.AsyncClient, field: Field, drain_jobs, path: Path) -> dict:
    answer = await client.post("/v1/legal/exports", json={"case_id": str(field.case_id)}, headers=field.legal.headers)
    assert answer.status_code == 202, answer.text
    export = answer.json()
    await drain_jobs()
    export = (await client.get(f"/v1/legal/exports/{export['id']}", headers=field.legal.headers)).json()
    assert export["state"] == "ready"
    download = await client.get(export["download"], headers=field.legal.headers)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == export["sha256"]
    path.write_bytes(download.content)
    return dict(export)


async def test_exported_bundle_verifies_and_holds_what_a_court_needs(client, drain_jobs, tmp_path):
    field = await make_field()
    await _evidence_of_a_visit(client, field, drain_jobs)
    bundle = tmp_path / "bundle.zip"
    export = await _exported_bundle(client, field, drain_jobs, bundle)
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert report.items == 6  # photo, recording, signature, a photo whose bytes never came, terms, document
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        custody = [json.loads(line) for line in archive.read("custody.jsonl").splitlines()]
    assert {"manifest.json", "SHA256SUMS", "README.txt", "custody.jsonl", "timeline.jsonl"} <= names
    assert any(n.startswith("originals/") for n in names)
    assert any(n.startswith("derived/") for n in names)
    assert {n.rsplit("/", 1)[1] for n in names if n.startswith("agreements/")} == {
        "terms.json",
        "signature.png",
        "document.pdf",
    }
    assert manifest["case"]["id"] == str(field.case_id)
    assert manifest["visits"][0]["assignment"]["assigned_to"] == str(field.collector.user_id)
    assert manifest["agreements"][0]["document_item_id"]
    photo = next(i for i in manifest["items"] if i["kind"] == "photo" and i["state"] == "processed")
    assert photo["capture"]["exif"]["camera"]["make"] == "Xiaomi"
    assert {link["action"] for link in custody} >= {"declared", "received", "verified", "processed", "exported"}
    assert all(link["details"]["export_id"] == export["id"] for link in custody if link["action"] == "exported")
    assert cli("evidence", "verify", str(bundle), "--sha256", export["sha256"], env=dict(os.environ)).returncode == 0


async def test_download_supports_range_and_is_logged(client, drain_jobs, tmp_path):
    field = await make_field()
    await upload_whole(client, field, hostile.noisy_jpeg(50, 50))
    await drain_jobs()
    export = await _exported_bundle(client, field, drain_jobs, tmp_path / "b.zip")
    whole = (tmp_path / "b.zip").read_bytes()
    first = await client.get(export["download"], headers={**field.legal.headers, "Range": "bytes=0-99"})
    rest = await client.get(export["download"], headers={**field.legal.headers, "Range": "bytes=100-"})
    assert first.status_code == 206
    assert first.headers["content-range"] == f"bytes 0-99/{len(whole)}"
    assert first.content + rest.content == whole
    beyond = await client.get(export["download"], headers={**field.legal.headers, "Range": f"bytes={len(whole)}-"})
    assert beyond.status_code == 416
    from evidence.repository import list_export_downloads

    assert [d["byte_range"] for d in await list_export_downloads(uuid.UUID(export["id"]))] == [
        "all",
        "bytes=0-99",
        "bytes=100-",
    ]
    refused = await client.get(export["download"], headers=field.dispatcher.headers)
    assert refused.status_code == 403


def _with_one_byte_changed(source: Path, target: Path, member: str) -> None:
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w") as out:
        for info in archive.infolist():
            data = archive.read(info)
            if info.filename == member and not data:
                data = b"\n"  # an empty file (no timeline yet) gains a byte instead
            elif info.filename == member:
                position = len(data) // 2
                data = data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]
            out.writestr(info, data)


async def test_one_changed_byte_in_any_file_is_found_and_named(client, drain_jobs, tmp_path):
    field = await make_field()
    await _evidence_of_a_visit(client, field, drain_jobs)
    bundle = tmp_path / "bundle.zip"
    await _exported_bundle(client, field, drain_jobs, bundle)
    with zipfile.ZipFile(bundle) as archive:
        members = archive.namelist()
    assert len(members) >= 10
    for member in members:
        tampered = tmp_path / "tampered.zip"
        _with_one_byte_changed(bundle, tampered, member)
        report = verify_bundle(tampered)
        assert not report.ok, member
        assert member in {p.file for p in report.problems}, (member, report.problems)
    result = cli("evidence", "verify", str(tampered), env=dict(os.environ), check=False)
    assert result.returncode == 1
    assert f"FAIL {members[-1]}" in result.stdout


async def test_a_byte_flipped_inside_the_zip_names_the_damaged_file(client, drain_jobs, tmp_path):
    field = await make_field()
    data = hostile.noisy_jpeg(80, 80)
    await upload_whole(client, field, data)
    await drain_jobs()
    bundle = tmp_path / "bundle.zip"
    await _exported_bundle(client, field, drain_jobs, bundle)
    raw = bytearray(bundle.read_bytes())
    position = raw.find(data[100:140]) + 10  # inside the stored original
    raw[position] ^= 0xFF
    bundle.write_bytes(bytes(raw))
    report = verify_bundle(bundle)
    assert any(p.file.startswith("originals/") for p in report.problems), report.problems


def test_distance_to_the_address_is_a_great_circle():
    assert distance_m(31.2304, 121.4737, 31.2304, 121.4737) == 0
    assert distance_m(31.2304, 121.4737, 31.2394, 121.4737) == pytest.approx(1000.8, abs=1)


async def test_check_ins_carry_their_distance_to_the_address(client, drain_jobs, tmp_path):
    from api.cases import service as cases
    from api.db import write_transaction

    field = await make_field()
    await upload_whole(client, field, hostile.noisy_jpeg(20, 20))
    async with write_transaction():  # a check-in about 1 km north of the builder's address
        visit = {"id": field.visit_id, "case": field.case_id}
        data = {"lat": 31.2394, "lon": 121.4737, "device_time": "2026-11-20T14:00:00+08:00"}
        await cases.record_visit_event(visit, "checked_in", actor=field.collector.user_id, data=data)
    bundle = tmp_path / "b.zip"
    await _exported_bundle(client, field, drain_jobs, bundle)
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        timeline = [json.loads(line) for line in archive.read("timeline.jsonl").splitlines()]
    [check_in] = manifest["visits"][0]["check_ins"]
    assert check_in["distance_to_address_m"] == pytest.approx(1000.8, abs=2)
    assert [event["kind"] for event in timeline] == ["assigned", "checked_in"]
    assert manifest["notes"] == []
    assert verify_bundle(bundle).ok
