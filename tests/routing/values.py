"""Plain engine values for routing tests: visits and collectors around a point."""

from __future__ import annotations

import math
from datetime import time

from routing.model import Collector, Visit

HOME = (31.23, 121.47)


def offset(dx_m: float, dy_m: float, origin: tuple[float, float] = HOME) -> tuple[float, float]:
    """The point ``dx_m`` east and ``dy_m`` north of ``origin``."""
    lat, lon = origin
    return lat + dy_m / 111_195.0, lon + dx_m / (111_195.0 * math.cos(math.radians(lat)))


def visit(vid: str, dx_m: float = 0.0, dy_m: float = 0.0, tz: str = "Asia/Shanghai", **kw: object) -> Visit:
    """A visit ``dx_m``/``dy_m`` metres from HOME (or from ``origin``)."""
    origin = kw.pop("origin", HOME)
    lat, lon = offset(dx_m, dy_m, origin)  # type: ignore[arg-type]
    return Visit(id=vid, lat=lat, lon=lon, timezone=tz, **kw)  # type: ignore[arg-type]


def collector(cid: str, dx_m: float = 0.0, dy_m: float = 0.0, tz: str = "Asia/Shanghai", **kw: object) -> Collector:
    """A collector living ``dx_m``/``dy_m`` metres from HOME (or from ``origin``)."""
    origin = kw.pop("origin", HOME)
    lat, lon = offset(dx_m, dy_m, origin)  # type: ignore[arg-type]
    kw.setdefault("shift_start", time(8))
    kw.setdefault("shift_end", time(18))
    return Collector(id=cid, start_lat=lat, start_lon=lon, timezone=tz, **kw)  # type: ignore[arg-type]
