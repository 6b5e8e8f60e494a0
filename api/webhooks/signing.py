"""Webhook signatures (pure): HMAC-SHA256 over ``<timestamp>.<body>``.

A receiver recomputes the signature with its secret, compares in constant time, and refuses
timestamps older than a few minutes (replay protection).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Fieldvisit-Signature"
TIMESTAMP_HEADER = "X-Fieldvisit-Timestamp"
EVENT_HEADER = "X-Fieldvisit-Event"
DELIVERY_HEADER = "X-Fieldvisit-Delivery"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for a body sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is the one ``sign`` makes (constant-time comparison)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
