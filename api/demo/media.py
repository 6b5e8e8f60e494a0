"""Generated evidence for the demo day: photos with EXIF, recordings, a signature (seeded, pure)."""

from __future__ import annotations

import io
import math
import random
import struct
import wave
from datetime import datetime

from PIL import Image, ImageDraw


def photo(rng: random.Random, taken: datetime, lat: float, lon: float, size: tuple[int, int] = (1600, 1200)) -> bytes:
    """A JPEG of a 'front door' with capture time, GPS and camera in its EXIF."""
    image = Image.new("RGB", size, (rng.randint(90, 200), rng.randint(90, 200), rng.randint(90, 200)))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle([w // 3, h // 4, 2 * w // 3, h - 10], fill=(110, 70, 40))
    draw.ellipse([2 * w // 3 - 60, h // 2, 2 * w // 3 - 30, h // 2 + 30], fill=(220, 200, 60))
    for _ in range(40):
        x, y = rng.randrange(w), rng.randrange(h)
        draw.line([x, y, x + rng.randint(-80, 80), y + rng.randint(-80, 80)], fill=(0, 0, 0), width=2)
    exif = Image.Exif()
    exif[0x010F] = "FieldVisit Demo"  # Make
    exif[0x0110] = "Reference Phone"  # Model
    exif[0x0112] = 1  # orientation
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = ("N" if lat >= 0 else "S"), _dms(abs(lat))
    gps[3], gps[4] = ("E" if lon >= 0 else "W"), _dms(abs(lon))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, exif=exif)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def recording(rng: random.Random, seconds: float = 3.0, rate: int = 8000) -> bytes:
    """A WAV with a voice-like warble."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        base = rng.uniform(120, 220)
        frames = bytearray()
        for n in range(int(seconds * rate)):
            t = n / rate
            sample = 0.4 * math.sin(2 * math.pi * base * t * (1 + 0.05 * math.sin(2 * math.pi * 3 * t)))
            frames += struct.pack("<h", int(sample * 32767))
        wav.writeframes(bytes(frames))
    return out.getvalue()


def signature(rng: random.Random) -> bytes:
    """A PNG of a handwritten-looking signature."""
    image = Image.new("RGBA", (600, 200), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    points = [(40 + i * 25, 100 + int(40 * math.sin(i / 2 + rng.random()))) for i in range(21)]
    draw.line(points, fill=(10, 10, 60, 255), width=5, joint="curve")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
