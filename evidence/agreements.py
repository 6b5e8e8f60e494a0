"""Signed repayment agreements: the terms, the debtor's signature and the rendered document become
evidence items tied together. The terms item is made at once; the document is rendered by a job as
soon as the signature's bytes are processed (they may arrive days later from an offline phone)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from evidence import items
from evidence import repository as repo
from evidence.agreement_pdf import render_agreement_pdf
from evidence.agreement_terms import Terms, as_record, canonical_bytes, validate
from evidence.errors import AgreementIdReused, AgreementNotFound, SignatureNotUsable
from evidence.kinds import EvidenceKind, ItemState
from evidence.models import DeclareItem
from evidence.ports import RENDER_AGREEMENT, SERVER, EvidenceConfig, Who


@dataclass(frozen=True)
class Agreement:
    """An agreement and the ids of its three items (the document once rendered)."""

    id: UUID
    visit_id: UUID
    case_id: UUID
    amount: str
    currency: str
    terms_item_id: UUID
    signature_item_id: UUID
    document_item_id: UUID | None


def _agreement(row: dict[str, Any]) -> Agreement:
    return Agreement(
        id=row["id"],
        visit_id=row["visit_id"],
        case_id=row["case_id"],
        amount=row["amount"],
        currency=row["currency"],
        terms_item_id=row["terms_item_id"],
        signature_item_id=row["signature_item_id"],
        document_item_id=row["document_item_id"],
    )


async def get_agreement_or_raise(agreement_id: UUID) -> Agreement:
    """An agreement by id."""
    row = await repo.get_agreement(agreement_id)
    if row is None:
        raise AgreementNotFound(f"no agreement {agreement_id}")
    return _agreement(row)


async def sign_agreement(
    config: EvidenceConfig,
    agreement_id: UUID,
    visit_id: UUID,
    case_id: UUID,
    terms: Terms,
    signature_id: UUID,
    who: Who,
) -> tuple[Agreement, bool]:
    """Record signed terms (idempotent on the agreement id); returns the agreement and whether it is new."""
    validate(terms)
    data = canonical_bytes(terms)
    digest = hashlib.sha256(data).hexdigest()
    existing = await repo.get_agreement(agreement_id, lock=True)
    if existing is not None:
        terms_item = await items.get_item_or_raise(existing["terms_item_id"])
        if terms_item.sha256 != digest or existing["signature_item_id"] != signature_id:
            raise AgreementIdReused(f"agreement {agreement_id} was signed with other terms or another signature")
        return _agreement(existing), False
    signature = await items.get_item_or_raise(signature_id)
    if signature.kind is not EvidenceKind.SIGNATURE or signature.visit_id != visit_id:
        raise SignatureNotUsable(f"item {signature_id} is not a signature of visit {visit_id}")
    terms_id = await _declare_terms(config, agreement_id, visit_id, case_id, terms, data, who)
    row = {
        "id": agreement_id,
        "visit_id": visit_id,
        "case_id": case_id,
        "terms_item_id": terms_id,
        "signature_item_id": signature_id,
        "amount": str(terms.amount),
        "currency": terms.currency,
        "created_by": who.user_id,
    }
    await repo.insert_agreement(row)
    await config.defer(RENDER_AGREEMENT, str(agreement_id))
    return _agreement({**row, "document_item_id": None}), True


async def _declare_terms(
    config: EvidenceConfig, agreement_id: UUID, visit_id: UUID, case_id: UUID, terms: Terms, data: bytes, who: Who
) -> UUID:
    """Store the canonical terms and declare them as an item (verified at once: the server made the bytes)."""
    digest = hashlib.sha256(data).hexdigest()
    await asyncio.to_thread(config.store.put_bytes, data)
    await repo.record_blob(digest, len(data))
    terms_id = uuid5(agreement_id, "terms")
    declaration = DeclareItem(
        id=terms_id,
        visit_id=visit_id,
        case_id=case_id,
        kind=EvidenceKind.AGREEMENT_TERMS,
        sha256=digest,
        content_type="application/json",
        size=len(data),
        capture={"agreement_id": str(agreement_id), "terms": as_record(terms)},
    )
    await items.declare_item(declaration, who, config.defer)
    return terms_id


async def render_agreement(config: EvidenceConfig, agreement_id: UUID) -> bool:
    """Render the agreement document once the signature is processed; False when not (yet) possible."""
    async with config.transaction():
        agreement = await get_agreement_or_raise(agreement_id)
        signature = await items.get_item_or_raise(agreement.signature_item_id)
        terms_item = await items.get_item_or_raise(agreement.terms_item_id)
    normalised = next((d for d in signature.derived if d.role == "normalised"), None)
    if agreement.document_item_id is not None or signature.state is not ItemState.PROCESSED or normalised is None:
        return False  # done already, or the signature's processing will defer this job again
    terms = _terms_from_record(terms_item.capture["terms"])
    hashes = {"terms": terms_item.sha256, "signature": signature.sha256, "signature_normalised": normalised.sha256}
    signature_png = await asyncio.to_thread(_read_blob, config, normalised.sha256)
    pdf, recipe = await asyncio.to_thread(render_agreement_pdf, terms, signature_png, str(agreement_id), hashes)
    digest = await asyncio.to_thread(config.store.put_bytes, pdf)
    async with config.transaction():
        current = await repo.get_agreement(agreement_id, lock=True)
        if current is None or current["document_item_id"] is not None:
            return False
        await repo.record_blob(digest, len(pdf))
        document_id = uuid5(agreement_id, "document")
        capture = {"agreement_id": str(agreement_id), "parents": sorted(hashes.values()), "recipe": recipe}
        declaration = DeclareItem(
            id=document_id,
            visit_id=agreement.visit_id,
            case_id=agreement.case_id,
            kind=EvidenceKind.AGREEMENT_DOCUMENT,
            sha256=digest,
            content_type="application/pdf",
            size=len(pdf),
            capture=capture,
        )
        await items.declare_item(declaration, SERVER, config.defer)
        await repo.set_agreement_document(agreement_id, document_id)
    return True


def _read_blob(config: EvidenceConfig, sha256: str) -> bytes:
    with config.store.open(sha256) as reader:
        return reader.read()


def _terms_from_record(record: dict[str, Any]) -> Terms:
    from datetime import date, datetime
    from decimal import Decimal

    from evidence.agreement_terms import Instalment

    parties = record["parties"]
    return Terms(
        amount=Decimal(record["amount"]),
        currency=record["currency"],
        instalments=tuple(
            Instalment(date.fromisoformat(i["due_date"]), Decimal(i["amount"])) for i in record["instalments"]
        ),
        payment_method=record["payment_method"],
        creditor=parties["creditor"],
        debtor_name=parties["debtor_name"],
        debtor_id_last4=parties["debtor_id_last4"],
        collector_name=parties["collector_name"],
        place=record["place"],
        signed_at=datetime.fromisoformat(record["signed_at"]),
    )


async def list_agreements(visit_ids: list[UUID]) -> list[Agreement]:
    """Agreements of some visits."""
    return [_agreement(r) for r in await repo.list_agreements(visit_ids=visit_ids)]
