"""HTTP doors to signed repayment agreements (terms + signature + rendered document)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post

from api.auth import allow, device_only
from api.errors import NotYourData, RecordNotFound
from api.evidence import access, schemas
from api.evidence.config import evidence_config
from api.evidence.item_routes import NO_COMPRESSION, READERS
from api.evidence.ranges import file_response
from api.http import errors, transactional
from api.people.roles import Principal, Role
from evidence import agreements, items
from evidence.agreement_terms import Instalment, Terms, money
from evidence.errors import (
    AgreementIdReused,
    AgreementNotFound,
    AgreementTermsInvalid,
    DerivedFileNotFound,
    EvidenceItemNotFound,
    SignatureNotUsable,
)


class AgreementView(msgspec.Struct):
    """An agreement and its three evidence items (the document once rendered)."""

    id: UUID
    visit_id: UUID
    case_id: UUID
    amount: str
    currency: str
    terms_item_id: UUID
    signature_item_id: UUID
    document_item_id: UUID | None


def _terms(data: schemas.AgreementTermsIn) -> Terms:
    return Terms(
        amount=money(data.amount),
        currency=data.currency,
        instalments=tuple(Instalment(i.due_date, money(i.amount)) for i in data.instalments),
        payment_method=data.payment_method,
        creditor=data.parties.creditor,
        debtor_name=data.parties.debtor_name,
        debtor_id_last4=data.parties.debtor_id_last4,
        collector_name=data.parties.collector_name,
        place=data.place,
        signed_at=data.signed_at,
    )


def _view(agreement: agreements.Agreement) -> AgreementView:
    return AgreementView(**agreement.__dict__)


class AgreementController(Controller):
    """Signed repayment agreements."""

    path = "/v1/evidence/agreements"
    tags = ["evidence"]

    @post(
        "/",
        guards=[device_only],
        responses=errors(
            AgreementTermsInvalid,
            AgreementIdReused,
            SignatureNotUsable,
            EvidenceItemNotFound,
            NotYourData,
            RecordNotFound,
        ),
    )
    @transactional
    async def sign(
        self, request: Request[Any, Any, Any], data: schemas.AgreementCreate, principal: Principal
    ) -> Response[AgreementView]:
        """Record the terms a debtor signed, with the declared signature item (a PNG) of the same visit.

        The terms become an evidence item at once; the PDF document is rendered (CJK font) as soon as
        the signature's bytes are processed, and becomes the third item. Idempotent on ``id``:
        201 new, 200 the same agreement again, 409 the id with other terms."""
        scope = await access.require_field_member(principal, data.visit_id)
        agreement, new = await agreements.sign_agreement(
            evidence_config(),
            data.id,
            data.visit_id,
            scope.case_id,
            _terms(data.terms),
            data.signature_evidence_id,
            access.who(principal, request.client.host if request.client else None),
        )
        return Response(_view(agreement), status_code=201 if new else 200)

    @get("/{agreement_id:uuid}", guards=[allow(*READERS)], responses=errors(AgreementNotFound, NotYourData))
    async def get_agreement(self, agreement_id: UUID, principal: Principal) -> AgreementView:
        """An agreement and its items."""
        agreement = await agreements.get_agreement_or_raise(agreement_id)
        await access.require_reader(principal, agreement.visit_id)
        return _view(agreement)

    @get(
        "/{agreement_id:uuid}/document",
        guards=[allow(Role.LEGAL, Role.ADMIN, Role.SUPERVISOR)],
        opt=NO_COMPRESSION,
        media_type="application/pdf",
        responses=errors(AgreementNotFound, DerivedFileNotFound, NotYourData),
    )
    @transactional
    async def document(
        self, request: Request[Any, Any, Any], agreement_id: UUID, principal: Principal
    ) -> Response[Any]:
        """The rendered agreement PDF (its sha256 is the document item's). Every read is logged."""
        agreement = await agreements.get_agreement_or_raise(agreement_id)
        await access.require_reader(principal, agreement.visit_id)
        if agreement.document_item_id is None:
            raise DerivedFileNotFound("the document is rendered once the signature's bytes have arrived")
        item = await items.get_item_or_raise(agreement.document_item_id)
        path = evidence_config().store.local_path(item.sha256)
        if path is None:
            raise DerivedFileNotFound("the document's bytes are missing")
        await items.record_views(
            [item], access.who(principal, request.client.host if request.client else None), "document"
        )
        return file_response(path, "application/pdf", request.headers.get("range"), f"agreement-{agreement_id}.pdf")
