"""Pure rules about cases: collection stage by days past due, and the record vocabularies."""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Any

CENTS = Decimal("0.01")


class Stage(StrEnum):
    """Collection stage by days past due."""

    EARLY = "early"  # 1-30
    MIDDLE = "middle"  # 31-90
    LATE = "late"  # 90+


class ContactState(StrEnum):
    """Whether phone collection can reach the debtor."""

    REACHABLE = "reachable"
    LOST = "lost"


class AddressKind(StrEnum):
    """Which place of the debtor an address is."""

    HOME = "home"
    WORK = "work"
    REGISTERED = "registered"
    OTHER = "other"


def stage_for(days_past_due: int) -> Stage:
    """early 1-30, middle 31-90, late above 90 (0 or less counts as early)."""
    if days_past_due <= 30:
        return Stage.EARLY
    if days_past_due <= 90:
        return Stage.MIDDLE
    return Stage.LATE


_NOT_WORD = re.compile(r"[\W_]+")


def normalise_address(text: str) -> str:
    """A comparison key for address text: case-, space- and punctuation-insensitive."""
    return _NOT_WORD.sub(" ", text.lower()).strip()


def mask_national_id(national_id: str) -> str:
    """Keep only the last 4 characters of a national id (the full value is never stored)."""
    if national_id.isalnum():
        return national_id[-4:]
    return "".join(ch for ch in national_id if ch.isalnum())[-4:]


def money(value: Any) -> Decimal:
    """An amount as an exact 2-decimal Decimal (SQLite stores NUMERIC as a number and drops the scale)."""
    return Decimal(str(value)).quantize(CENTS)
