"""Pure rules about cases: collection stage by days past due, and the record vocabularies."""

from __future__ import annotations

from enum import StrEnum


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


def normalise_address(text: str) -> str:
    """A comparison key for address text: case-, space- and punctuation-insensitive."""
    kept = [ch.lower() if ch.isalnum() else " " for ch in text]
    return " ".join("".join(kept).split())


def mask_national_id(national_id: str) -> str:
    """Keep only the last 4 characters of a national id (the full value is never stored)."""
    cleaned = "".join(ch for ch in national_id if ch.isalnum())
    return cleaned[-4:]
