"""Hostile files made on the spot: bombs, truncated data, absurd headers, garbage EXIF."""

from __future__ import annotations

import io
import os
import struct
import zlib

from PIL import Image


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int, idat: bytes = b"") -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (grayscale, 8 bit) with the given pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def decompression_bomb(side: int = 12_000) -> bytes:
    """A real bomb: a ~100 KB PNG that decodes to ``side`` x ``side`` bytes of pixels (144 MB by default)."""
    packer = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    compressed = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    return png_claiming(side, side, compressed)


def noisy_jpeg(width: int = 800, height: int = 600) -> bytes:
    """A JPEG of noise (so truncating it really cuts image data)."""
    im = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    return out.getvalue()


def truncated_jpeg() -> bytes:
    """The first half of a JPEG."""
    data = noisy_jpeg()
    return data[: len(data) // 2]


def jpeg_with_garbage_exif() -> bytes:
    """A valid JPEG whose APP1 Exif segment is random bytes."""
    data = noisy_jpeg(64, 48)
    garbage = b"Exif\x00\x00" + b"MM\x00\x2a" + os.urandom(200)
    segment = b"\xff\xe1" + struct.pack(">H", len(garbage) + 2) + garbage
    return data[:2] + segment + data[2:]


def jpeg_with_nonsense_exif_values() -> bytes:
    """A JPEG whose EXIF is well-formed but holds nonsense: orientation 99, latitude 91, a date that is no date."""
    exif = Image.Exif()
    exif[274] = 99
    exif[306] = "not a date at all"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (91.0, 0.0, 0.0)  # off the globe
    gps[4] = (1.0, 2.0, 3.0)
    im = Image.new("RGB", (32, 32), (10, 200, 10))
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif)
    return out.getvalue()


def jpeg_with_capture_exif(orientation: int = 6) -> bytes:
    """A 64 x 48 JPEG with a full capture context: original time, GPS, camera, orientation."""
    exif = Image.Exif()
    exif[271] = "Xiaomi"
    exif[272] = "Redmi Note 12"
    exif[274] = orientation
    exif.get_ifd(0x8769)[36867] = "2026:11:20 14:31:07"
    exif.get_ifd(0x8769)[36881] = "+08:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (31.0, 13.0, 49.44)
    gps[3], gps[4] = "E", (121.0, 28.0, 25.32)
    im = Image.new("RGB", (64, 48), (200, 30, 30))
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif)
    return out.getvalue()
