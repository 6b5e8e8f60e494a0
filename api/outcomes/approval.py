"""Agreement approval tiers (pure): who may approve a repayment plan of a given amount.

Tiers come from settings (default collector <= 100,000; supervisor <= 500,000; director <= 1,000,000);
above the last limit the general manager approves. A collector's own authority is the first tier.
"""

from __future__ import annotations

from decimal import Decimal

GENERAL_MANAGER = "general_manager"

Tiers = tuple[tuple[str, Decimal], ...]


def required_tier(amount: Decimal, tiers: Tiers) -> str:
    """The lowest tier whose limit covers ``amount``."""
    for name, limit in tiers:
        if amount <= limit:
            return name
    return GENERAL_MANAGER


def tier_names(tiers: Tiers) -> list[str]:
    """All tiers, lowest first, ending with the general manager."""
    return [name for name, _ in tiers] + [GENERAL_MANAGER]


def tier_rank(tier: str, tiers: Tiers) -> int:
    """Position of a tier (unknown tiers rank lowest)."""
    names = tier_names(tiers)
    return names.index(tier) if tier in names else -1


def needs_approval(amount: Decimal, tiers: Tiers) -> bool:
    """True when the amount is above the collector's own authority."""
    return tier_rank(required_tier(amount, tiers), tiers) > 0


def may_approve(approver_tier: str, amount: Decimal, tiers: Tiers) -> bool:
    """Whether a holder of ``approver_tier`` may approve a plan of ``amount``."""
    return tier_rank(approver_tier, tiers) >= tier_rank(required_tier(amount, tiers), tiers) > 0
