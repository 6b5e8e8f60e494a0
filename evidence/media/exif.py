"""Capture data from EXIF tags, as plain values: original time, GPS position, camera, orientation.

Works on ``{tag id: value}`` mappings so it can be fed anything (garbage EXIF included) in tests.
Every value is checked; what cannot be trusted is dropped and named in ``problems``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

DATETIME, MAKE, MODEL, ORIENTATION = 306, 271, 272, 274
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 36867, 36881
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON, GPS_ALT_REF, GPS_ALT = 1, 2, 3, 4, 5, 6


def _text(value: Any, limit: int = 100) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    clean = "".join(ch for ch in value if ch.isprintable()).strip()
    return clean[:limit] or None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _degrees(value: Any) -> float | None:
    if not isinstance(value, tuple | list) or len(value) != 3:
        return None
    parts = [_number(v) for v in value]
    if any(p is None for p in parts):
        return None
    d, m, s = (p for p in parts if p is not None)
    return d + m / 60 + s / 3600


def _taken_at(main: Mapping[int, Any], exif: Mapping[int, Any]) -> str | None:
    raw = _text(exif.get(DATETIME_ORIGINAL)) or _text(main.get(DATETIME))
    if raw is None:
        return None
    moment = datetime.strptime(raw[:19], "%Y:%m:%d %H:%M:%S")
    offset = _text(exif.get(OFFSET_TIME_ORIGINAL))
    text = moment.isoformat()
    if offset and len(offset) == 6 and offset[0] in "+-" and offset[3] == ":":
        text += offset
    return text


def _position(gps: Mapping[int, Any]) -> dict[str, float] | None:
    if not gps:
        return None
    lat, lon = _degrees(gps.get(GPS_LAT)), _degrees(gps.get(GPS_LON))
    if lat is None or lon is None:
        raise ValueError("GPS latitude or longitude is not three numbers")
    if _text(gps.get(GPS_LAT_REF)) == "S":
        lat = -lat
    if _text(gps.get(GPS_LON_REF)) == "W":
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"GPS position {lat}, {lon} is off the globe")
    found = {"lat": round(lat, 7), "lon": round(lon, 7)}
    altitude = _number(gps.get(GPS_ALT))
    if altitude is not None:
        found["altitude_m"] = -altitude if gps.get(GPS_ALT_REF) in (1, b"\x01") else altitude
    return found


def capture_from_exif(
    main: Mapping[int, Any], exif: Mapping[int, Any], gps: Mapping[int, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The capture context EXIF tells (``taken_at``, ``gps``, ``camera``, ``orientation``) and the problems met."""
    found: dict[str, Any] = {}
    problems: list[str] = []
    try:
        taken = _taken_at(main, exif)
        if taken:
            found["taken_at"] = taken
    except ValueError:
        problems.append("EXIF original time is not a date")
    try:
        position = _position(gps)
        if position:
            found["gps"] = position
    except ValueError as exc:
        problems.append(str(exc))
    camera = {k: v for k, v in (("make", _text(main.get(MAKE))), ("model", _text(main.get(MODEL)))) if v}
    if camera:
        found["camera"] = camera
    orientation = main.get(ORIENTATION)
    if isinstance(orientation, int) and 1 <= orientation <= 8:
        found["orientation"] = orientation
    elif orientation is not None:
        problems.append(f"EXIF orientation {str(orientation)[:20]!r} is not 1-8")
    return found, problems
