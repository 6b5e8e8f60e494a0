"""Mutation handler for a repayment agreement signed at the door: an AGR outcome (through the outcomes
service, with its approval tier) and the signed terms as evidence tied to the debtor's signature."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from api.cases import service as cases
from api.evidence.access import who
from api.evidence.config import evidence_config
from api.outcomes.catalogue import AgreementSigned, Instalment
from api.people import repository as people_repo
from api.sync.visit_handlers import payload_of, record
from evidence import agreements as evidence_agreements
from evidence.agreement_terms import Instalment as EvidenceInstalment
from evidence.agreement_terms import Terms as EvidenceTerms
from sync.protocol import MutationIn, Status
from sync.push import Actor, HandlerResult


class AgreementPayload(msgspec.Struct, forbid_unknown_fields=True):
    """``visit.sign_agreement``: the terms and the evidence id of the debtor's signature."""

    amount: Decimal
    currency: str
    instalments: list[Instalment]
    payment_method: str
    signature_evidence_id: UUID
    place: str = ""
    signed_at: datetime | None = None
    note: str = ""


async def sign_agreement(actor: Actor, mutation: MutationIn) -> HandlerResult:
    """A repayment plan signed at the door: an AGR outcome tied to its signature evidence."""
    terms = payload_of(mutation, AgreementPayload)
    data = {**msgspec.to_builtins(terms), "code": "AGR", "agreement_id": str(mutation.id)}
    data.pop("signed_at", None)
    outcome = payload_of(mutation, AgreementSigned, data)
    result = await record(actor, mutation, outcome)
    if result.status in (Status.APPLIED, Status.MERGED):
        await sign_evidence(actor, mutation, terms)
    return result


async def sign_evidence(actor: Actor, mutation: MutationIn, terms: AgreementPayload) -> None:
    """The signed terms become evidence tied to the signature (same id as the domain agreement); the
    PDF is rendered by a job once the signature's bytes are in."""
    assert mutation.target is not None  # record() already refused a mutation without a target
    visit = await cases.get_visit_or_raise(mutation.target)
    case = await cases.get_case_or_raise(visit["case"])
    collector = await people_repo.get_user(actor.user_id)
    signed = EvidenceTerms(
        amount=terms.amount,
        currency=terms.currency,
        instalments=tuple(EvidenceInstalment(i.due_date, i.amount) for i in terms.instalments),
        payment_method=terms.payment_method,
        creditor=case["source"],
        debtor_name=case["debtor_name"],
        debtor_id_last4=case["national_id_last4"],
        collector_name=collector["display_name"] or collector["username"] if collector else "",
        place=terms.place or "at the debtor's address",
        signed_at=terms.signed_at or mutation.device_time,
    )
    await evidence_agreements.sign_agreement(
        evidence_config(),
        mutation.id,
        visit["id"],
        case["id"],
        signed,
        terms.signature_evidence_id,
        who(actor.principal, "sync"),
    )
