"""Repayment agreement terms as plain values: validation and the canonical bytes that get hashed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from evidence.custody import canonical_json, utc_text
from evidence.errors import AgreementTermsInvalid


@dataclass(frozen=True)
class Instalment:
    """One payment: when and how much."""

    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class Terms:
    """What the debtor signs."""

    amount: Decimal
    currency: str
    instalments: tuple[Instalment, ...]
    payment_method: str
    creditor: str
    debtor_name: str
    debtor_id_last4: str
    collector_name: str
    place: str
    signed_at: datetime


def money(text: str) -> Decimal:
    """A positive amount with at most two decimals."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise AgreementTermsInvalid(f"{text!r} is not an amount") from None
    if value <= 0 or value != value.quantize(Decimal("0.01")):
        raise AgreementTermsInvalid(f"{text!r} must be positive with at most two decimals")
    return value


def validate(terms: Terms) -> Terms:
    """Instalments add up to the amount, fall due in order, and none before the signing day."""
    if terms.signed_at.tzinfo is None:
        raise AgreementTermsInvalid("signed_at must carry a timezone")
    if not terms.instalments:
        raise AgreementTermsInvalid("a plan needs at least one instalment")
    total = sum((i.amount for i in terms.instalments), Decimal(0))
    if total != terms.amount:
        raise AgreementTermsInvalid(f"instalments add up to {total}, not {terms.amount}")
    dates = [i.due_date for i in terms.instalments]
    if dates != sorted(dates) or len(set(dates)) != len(dates):
        raise AgreementTermsInvalid("instalment due dates must be distinct and in order")
    if dates[0] < terms.signed_at.date():
        raise AgreementTermsInvalid("an instalment falls due before the agreement was signed")
    return terms


def as_record(terms: Terms) -> dict[str, Any]:
    """The terms as JSON-ready values (amounts as strings, times in UTC)."""
    return {
        "amount": str(terms.amount),
        "currency": terms.currency,
        "instalments": [{"due_date": i.due_date.isoformat(), "amount": str(i.amount)} for i in terms.instalments],
        "payment_method": terms.payment_method,
        "parties": {
            "creditor": terms.creditor,
            "debtor_name": terms.debtor_name,
            "debtor_id_last4": terms.debtor_id_last4,
            "collector_name": terms.collector_name,
        },
        "place": terms.place,
        "signed_at": utc_text(terms.signed_at),
    }


def canonical_bytes(terms: Terms) -> bytes:
    """The exact bytes stored and hashed for the terms item."""
    return canonical_json(as_record(terms)).encode()
