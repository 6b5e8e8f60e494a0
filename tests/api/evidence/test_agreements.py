"""Signed agreements: terms, signature and the rendered PDF become three tied evidence items."""

from __future__ import annotations

import hashlib
import io
import uuid

import httpx
import pytest
from PIL import Image, ImageDraw

from tests.evidence.helpers import make_field, upload_whole

pytestmark = pytest.mark.embedded


def signature_png() -> bytes:
    im = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    ImageDraw.Draw(im).line((40, 150, 300, 40, 560, 160), fill=(0, 0, 0, 255), width=6)
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def terms(amount: str = "3000.00") -> dict[str, object]:
    return {
        "amount": amount,
        "currency": "CNY",
        "instalments": [
            {"due_date": "2027-01-15", "amount": "1000.00"},
            {"due_date": "2027-02-15", "amount": "2000.00"},
        ],
        "payment_method": "银行转账 bank transfer",
        "parties": {"creditor": "某银行", "debtor_name": "张三", "collector_name": "李四", "debtor_id_last4": "1234"},
        "place": "上海市黄浦区南京东路 1 号",
        "signed_at": "2026-11-20T14:31:07+08:00",
    }


async def test_signed_agreement_renders_a_pdf_tied_to_terms_and_signature(client: httpx.AsyncClient, drain_jobs):
    field = await make_field()
    signature_id = await upload_whole(client, field, signature_png(), "signature", content_type="image/png")
    body = {
        "id": str(uuid.uuid4()),
        "visit_id": str(field.visit_id),
        "terms": terms(),
        "signature_evidence_id": signature_id,
    }
    created = await client.post("/v1/evidence/agreements", json=body, headers=field.collector.headers)
    assert created.status_code == 201, created.text
    again = await client.post("/v1/evidence/agreements", json=body, headers=field.collector.headers)
    assert again.status_code == 200
    await drain_jobs()
    await drain_jobs()  # signature processing, then rendering, then the document's own processing
    agreement = (await client.get(f"/v1/evidence/agreements/{body['id']}", headers=field.legal.headers)).json()
    assert agreement["document_item_id"] is not None
    document = (await client.get(f"/v1/evidence/agreements/{body['id']}/document", headers=field.legal.headers)).content
    assert document.startswith(b"%PDF")
    doc_item = (
        await client.get(f"/v1/evidence/items/{agreement['document_item_id']}", headers=field.legal.headers)
    ).json()
    assert doc_item["sha256"] == hashlib.sha256(document).hexdigest()
    terms_item = (
        await client.get(f"/v1/evidence/items/{agreement['terms_item_id']}", headers=field.legal.headers)
    ).json()
    signature = (await client.get(f"/v1/evidence/items/{signature_id}", headers=field.legal.headers)).json()
    assert terms_item["sha256"] in doc_item["capture"]["parents"]
    assert signature["sha256"] in doc_item["capture"]["parents"]
    assert doc_item["capture"]["recipe"]["font"] == "NotoSansSC-Regular.otf"
    listing = (await client.get(f"/v1/visits/{field.visit_id}/evidence", headers=field.legal.headers)).json()
    assert {i["kind"] for i in listing["items"]} == {"signature", "agreement_terms", "agreement_document"}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amount": "3500.00"}, "422.71"),
        (
            {
                "instalments": [
                    {"due_date": "2027-02-15", "amount": "2000.00"},
                    {"due_date": "2027-01-15", "amount": "1000.00"},
                ]
            },
            "422.71",
        ),
        ({"instalments": [{"due_date": "2020-01-01", "amount": "3000.00"}]}, "422.71"),
    ],
)
async def test_terms_that_do_not_add_up_are_refused(client: httpx.AsyncClient, change, code):
    field = await make_field()
    signature_id = await upload_whole(client, field, signature_png(), "signature", content_type="image/png")
    body = {
        "id": str(uuid.uuid4()),
        "visit_id": str(field.visit_id),
        "terms": {**terms(), **change},
        "signature_evidence_id": signature_id,
    }
    answer = await client.post("/v1/evidence/agreements", json=body, headers=field.collector.headers)
    assert answer.json()["code"] == code, answer.text


async def test_signature_must_be_a_signature_of_the_same_visit(client: httpx.AsyncClient):
    field = await make_field()
    photo_id = await upload_whole(client, field, signature_png(), "photo", content_type="image/png")
    body = {
        "id": str(uuid.uuid4()),
        "visit_id": str(field.visit_id),
        "terms": terms(),
        "signature_evidence_id": photo_id,
    }
    answer = await client.post("/v1/evidence/agreements", json=body, headers=field.collector.headers)
    assert answer.json()["code"] == "422.72"


async def test_the_domain_agreement_points_at_the_rendered_document(client: httpx.AsyncClient, drain_jobs):
    """The AGR outcome's agreement and the signed evidence share an id; once the PDF is rendered the
    domain agreement names the document item."""
    field = await make_field()
    signature_id = await upload_whole(client, field, signature_png(), "signature", content_type="image/png")
    agreement_id = str(uuid.uuid4())
    outcome = {
        "code": "AGR",
        "amount": "3000.00",
        "currency": "CNY",
        "payment_method": "bank transfer",
        "instalments": [{"due_date": "2027-01-15", "amount": "3000.00"}],
        "agreement_id": agreement_id,
        "signature_evidence_id": signature_id,
    }
    recorded = await client.post(
        f"/v1/visits/{field.visit_id}/outcome", json={"outcome": outcome}, headers=field.collector.headers
    )
    assert recorded.status_code == 200, recorded.text
    domain = (await client.get(f"/v1/agreements/{agreement_id}", headers=field.dispatcher.headers)).json()
    assert domain["document_evidence_id"] is None
    body = {
        "id": agreement_id,
        "visit_id": str(field.visit_id),
        "terms": terms(),
        "signature_evidence_id": signature_id,
    }
    created = await client.post("/v1/evidence/agreements", json=body, headers=field.collector.headers)
    assert created.status_code == 201, created.text
    await drain_jobs()
    await drain_jobs()
    evidence = (await client.get(f"/v1/evidence/agreements/{agreement_id}", headers=field.legal.headers)).json()
    domain = (await client.get(f"/v1/agreements/{agreement_id}", headers=field.dispatcher.headers)).json()
    assert evidence["document_item_id"] is not None
    assert domain["document_evidence_id"] == evidence["document_item_id"]
