"""Limits that keep hostile media from exhausting a worker (plain values)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageLimits:
    """How far the server goes decoding an image before it flags it instead."""

    max_pixels: int = 64_000_000  # 64 MP: above every phone's default output (12-50 MP)
    max_side: int = 20_000
    thumbnail_side: int = 512
    signature_side: int = 1600
    thumbnail_quality: int = 85

    def too_large(self, width: int, height: int) -> bool:
        """True when decoding would be a risk (absurd or bomb-like dimensions)."""
        return (
            width <= 0
            or height <= 0
            or width > self.max_side
            or height > self.max_side
            or width * height > self.max_pixels
        )
