"""The custody chain as plain values: canonical records, link hashes, verification. No I/O.

Each link's hash is ``sha256(prev_hash + "\\n" + canonical_json(record))`` where the record holds the
item id, the link's sequence number, the action, the time (UTC, microseconds), who (user, device,
network address) and the action's details (hashes, upload id, export id...). Changing, removing,
inserting or reordering any link breaks the chain at that link, and :func:`verify_chain` names it.
The same functions check the chain in the database and in an exported bundle's ``custody.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """One byte-exact JSON text per value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def utc_text(moment: datetime) -> str:
    """A timestamp as hashed: UTC, ISO 8601, always with microseconds."""
    if moment.tzinfo is None:
        raise ValueError("custody times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Link:
    """One custody event as stored and as exported."""

    item_id: str
    seq: int
    action: str
    at: str  # utc_text
    actor_id: str | None
    device_id: str | None
    address: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str

    def record(self) -> dict[str, Any]:
        """The hashed part of the link."""
        return {
            "item_id": self.item_id,
            "seq": self.seq,
            "action": self.action,
            "at": self.at,
            "actor_id": self.actor_id,
            "device_id": self.device_id,
            "address": self.address,
            "details": dict(self.details),
        }

    def as_json(self) -> dict[str, Any]:
        """The link as one line of ``custody.jsonl``."""
        return {**self.record(), "prev_hash": self.prev_hash, "hash": self.hash}


def link_hash(prev_hash: str, record: Mapping[str, Any]) -> str:
    """The hash of a link, chaining it to the previous one."""
    return hashlib.sha256(f"{prev_hash}\n{canonical_json(record)}".encode()).hexdigest()


def make_link(
    previous: Link | None,
    *,
    item_id: str,
    action: str,
    at: datetime,
    actor_id: str | None,
    device_id: str | None,
    address: str,
    details: Mapping[str, Any],
) -> Link:
    """The next link after ``previous`` (None for the first)."""
    prev_hash = previous.hash if previous is not None else GENESIS
    seq = previous.seq + 1 if previous is not None else 1
    draft = Link(item_id, seq, action, utc_text(at), actor_id, device_id, address, dict(details), prev_hash, "")
    return Link(**{**draft.__dict__, "hash": link_hash(prev_hash, draft.record())})


@dataclass(frozen=True)
class BrokenLink:
    """The first link that does not hold, and why."""

    seq: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    """The verdict on one item's chain."""

    item_id: str
    valid: bool
    length: int
    head: str | None
    first_broken: BrokenLink | None = None


def verify_chain(item_id: str, links: Sequence[Link]) -> ChainReport:
    """Check that ``links`` (in stored order) form an unbroken chain for ``item_id``; name the first break."""
    expected_prev = GENESIS
    for position, link in enumerate(links, start=1):
        broken = _check_link(item_id, position, expected_prev, link)
        if broken is not None:
            return ChainReport(item_id, False, len(links), None, broken)
        expected_prev = link.hash
    return ChainReport(item_id, True, len(links), links[-1].hash if links else None)


def _check_link(item_id: str, position: int, expected_prev: str, link: Link) -> BrokenLink | None:
    if link.item_id != item_id:
        return BrokenLink(position, f"link {position} belongs to item {link.item_id}")
    if link.seq != position:
        return BrokenLink(position, f"link {position} carries sequence number {link.seq} (missing or reordered link)")
    if link.prev_hash != expected_prev:
        return BrokenLink(position, f"link {position} does not point to the hash of link {position - 1}")
    if link_hash(link.prev_hash, link.record()) != link.hash:
        return BrokenLink(position, f"link {position} was altered: its content does not match its hash")
    return None


def link_from_json(data: Mapping[str, Any]) -> Link:
    """A link read back from ``custody.jsonl`` (raises KeyError/TypeError on a malformed line)."""
    return Link(
        item_id=str(data["item_id"]),
        seq=int(data["seq"]),
        action=str(data["action"]),
        at=str(data["at"]),
        actor_id=data["actor_id"],
        device_id=data["device_id"],
        address=str(data["address"]),
        details=dict(data["details"]),
        prev_hash=str(data["prev_hash"]),
        hash=str(data["hash"]),
    )
