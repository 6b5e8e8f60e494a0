"""The outcome catalogue: the action code recorded at the end of a visit, with the details each needs.

On the wire an outcome is one object whose ``code`` field selects its shape (a tagged union), e.g.
``{"code": "PTP", "promised_date": "2026-12-01", "amount": "1500.00", "currency": "CNY"}``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from uuid import UUID

import msgspec

Money = Decimal  # checked by ``check_money`` (msgspec has no numeric constraints for Decimal)
MAX_MONEY = Decimal(10) ** 13


def check_money(name: str, value: Decimal) -> None:
    """A money amount must be positive, finite, with at most 2 decimals, and not absurd."""
    if not value.is_finite() or value <= 0 or value > MAX_MONEY:
        raise ValueError(f"`{name}` must be a positive amount up to {MAX_MONEY}")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"`{name}` has more than 2 decimals")


Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
Note = Annotated[str, msgspec.Meta(max_length=4000)]


class OutcomeCode(StrEnum):
    """The action codes of the collection guides."""

    PTP = "PTP"  # promise to pay
    AGR = "AGR"  # repayment agreement signed
    PAID = "PAID"  # paid on site
    REF = "REF"  # refused
    NOH = "NOH"  # nobody home
    NFD = "NFD"  # debtor not found (third party met, nothing disclosed)
    MOV = "MOV"  # moved away
    INV = "INV"  # address invalid
    DIS = "DIS"  # disputes the debt
    DEC = "DEC"  # deceased


class _Outcome(msgspec.Struct, tag_field="code", forbid_unknown_fields=True, kw_only=True):
    note: Note = ""


class PromiseToPay(_Outcome, tag="PTP"):
    """The debtor promises to pay ``amount`` by ``promised_date``."""

    promised_date: date
    amount: Money
    currency: Currency

    def __post_init__(self) -> None:
        check_money("amount", self.amount)


class Instalment(msgspec.Struct, forbid_unknown_fields=True):
    """One payment of a repayment plan."""

    due_date: date
    amount: Money

    def __post_init__(self) -> None:
        check_money("amount", self.amount)


class AgreementSigned(_Outcome, tag="AGR"):
    """A repayment plan written down at the door and signed by the debtor."""

    amount: Money
    currency: Currency
    instalments: Annotated[list[Instalment], msgspec.Meta(min_length=1, max_length=120)]
    payment_method: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    agreement_id: UUID | None = None  # client-generated, so a retried sync cannot create two
    signature_evidence_id: UUID | None = None
    place: Annotated[str, msgspec.Meta(max_length=300)] = ""

    def __post_init__(self) -> None:
        check_money("amount", self.amount)
        if sum(i.amount for i in self.instalments) != self.amount:
            raise ValueError("the instalments must add up to `amount`")


class PaidOnSite(_Outcome, tag="PAID"):
    """The debtor paid at the door."""

    amount: Money
    currency: Currency
    receipt_number: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]

    def __post_init__(self) -> None:
        check_money("amount", self.amount)


class Refused(_Outcome, tag="REF"):
    """The debtor refused to pay or to talk."""


class NobodyHome(_Outcome, tag="NOH"):
    """Nobody opened the door."""


class NotFound(_Outcome, tag="NFD"):
    """The debtor was not found; a third party may have been met, and nothing was disclosed to them."""

    third_party_met: bool = False
    nothing_disclosed: bool = True


class NewAddress(msgspec.Struct, forbid_unknown_fields=True):
    """An address learned at the door."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    timezone: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class MovedAway(_Outcome, tag="MOV"):
    """The debtor moved away; the new address, if learned."""

    new_address: NewAddress | None = None


class AddressInvalid(_Outcome, tag="INV"):
    """The address does not exist or is not the debtor's."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] = "address invalid"


class Disputed(_Outcome, tag="DIS"):
    """The debtor disputes the debt (changes the case only once a supervisor confirms)."""

    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class Deceased(_Outcome, tag="DEC"):
    """The debtor is reported deceased (changes the case only once a supervisor confirms)."""

    source: Annotated[str, msgspec.Meta(max_length=500)] = ""


Outcome = (
    PromiseToPay
    | AgreementSigned
    | PaidOnSite
    | Refused
    | NobodyHome
    | NotFound
    | MovedAway
    | AddressInvalid
    | Disputed
    | Deceased
)


def code_of(outcome: Outcome) -> OutcomeCode:
    """The action code of an outcome value."""
    return OutcomeCode(str(type(outcome).__struct_config__.tag))


def details_of(outcome: Outcome) -> dict[str, object]:
    """The outcome as plain JSON-compatible values (stored with the outcome record)."""
    result: dict[str, object] = msgspec.to_builtins(outcome)
    return result


def outcome_from_details(details: dict[str, object]) -> Outcome:
    """Rebuild an outcome value from what ``details_of`` stored."""
    result: Outcome = msgspec.convert(details, Outcome)
    return result
