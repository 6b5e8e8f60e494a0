"""A plan as an SVG picture a dispatcher can open directly (no I/O).

Areas (regions dashed, collector areas tinted), route lines and numbered stops, one colour per
collector, red crosses for unplaced visits, a legend. The projection is equirectangular around the
plan's mean latitude: at city scale that keeps shapes and distances true to the eye.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from xml.sax.saxutils import escape

from routing.colours import collector_colours
from routing.model import Plan, Route
from routing.windows import zone

WIDTH = 1000.0
MARGIN = 30.0
LEGEND_W = 260.0


class _Frame:
    """Maps (lon, lat) to pixels so every point fits the drawing area."""

    def __init__(self, points: list[tuple[float, float]]) -> None:
        lons = [p[0] for p in points] or [0.0]
        lats = [p[1] for p in points] or [0.0]
        self.kx = math.cos(math.radians((min(lats) + max(lats)) / 2))
        self.x0, self.y1 = min(lons), max(lats)
        span_x = max((max(lons) - self.x0) * self.kx, 1e-6)
        span_y = max(self.y1 - min(lats), 1e-6)
        self.scale = (WIDTH - 2 * MARGIN) / max(span_x, span_y)
        self.height = span_y * self.scale + 2 * MARGIN

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return MARGIN + (lon - self.x0) * self.kx * self.scale, MARGIN + (self.y1 - lat) * self.scale

    def path(self, coords: Iterable[Iterable[float]]) -> str:
        return " ".join("{:.1f},{:.1f}".format(*self.xy(*(list(c)[:2]))) for c in coords)


def _points(plan: Plan) -> list[tuple[float, float]]:
    points = [(c[0], c[1]) for region in plan.regions for ring in region.hull for c in ring]
    for route in plan.routes:
        points += [(s.lon, s.lat) for s in route.stops] + [(route.start[1], route.start[0])]
        points.append((route.end[1], route.end[0]))
    points += [(u.lon, u.lat) for u in plan.unplaced if u.lon is not None and u.lat is not None]
    return points


def _route(route: Route, colour: str, frame: _Frame) -> list[str]:
    out = [
        f'<polygon points="{frame.path(route.hull[0])}" fill="{colour}" fill-opacity="0.10" stroke="none"/>'
        if route.hull
        else "",
    ]
    line = [route.start[::-1], *((s.lon, s.lat) for s in route.stops), route.end[::-1]]
    out.append(f'<polyline points="{frame.path(line)}" fill="none" stroke="{colour}" stroke-width="1.6"/>')
    sx, sy = frame.xy(route.start[1], route.start[0])
    out.append(f'<rect x="{sx - 5:.1f}" y="{sy - 5:.1f}" width="10" height="10" fill="{colour}" stroke="#000"/>')
    for stop in route.stops:
        x, y = frame.xy(stop.lon, stop.lat)
        out.append(
            f"<g><title>{escape(route.collector_id)} #{stop.order} {stop.eta.astimezone(zone(stop.timezone)):%H:%M} "
            f"({len(stop.visits)} visit{'s' if len(stop.visits) > 1 else ''})</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{colour}" stroke="#fff" stroke-width="0.8"/>'
            f'<text x="{x:.1f}" y="{y + 3:.1f}" font-size="8" text-anchor="middle" fill="#fff">{stop.order}</text></g>'
        )
    return out


def _legend(plan: Plan, colours: dict[str, str], x: float) -> list[str]:
    placed = sum(len(s.visits) for r in plan.routes for s in r.stops)
    out = [
        f'<text x="{x:.0f}" y="30" font-size="14" font-weight="bold">Plan {plan.day.isoformat()}</text>',
        f'<text x="{x:.0f}" y="48" font-size="11">{placed} visits placed, {len(plan.unplaced)} unplaced, '
        f"travel {plan.total_travel_s / 3600:.1f} h</text>",
    ]
    for n, route in enumerate(plan.routes[:40]):
        y = 70 + 16 * n
        label = f"{route.collector_id}: {len(route.stops)} stops, {route.travel_s / 60:.0f} min travel"
        out.append(f'<rect x="{x:.0f}" y="{y - 9}" width="10" height="10" fill="{colours[route.collector_id]}"/>')
        out.append(f'<text x="{x + 16:.0f}" y="{y}" font-size="11">{escape(label)}</text>')
    if len(plan.routes) > 40:
        out.append(f'<text x="{x:.0f}" y="{70 + 16 * 40}" font-size="11">… and {len(plan.routes) - 40} more</text>')
    return out


def plan_svg(plan: Plan) -> str:
    """The plan as a standalone SVG document."""
    frame = _Frame(_points(plan))
    colours = collector_colours([r.collector_id for r in plan.routes])
    height = max(frame.height, 70 + 16 * min(41, len(plan.routes)) + MARGIN)
    body: list[str] = [f'<rect width="{WIDTH + LEGEND_W:.0f}" height="{height:.0f}" fill="#fff"/>']
    for region in plan.regions:
        if region.hull:
            body.append(
                f'<polygon points="{frame.path(region.hull[0])}" fill="#f2f2f2" stroke="#888" '
                f'stroke-dasharray="6 4"><title>{escape(region.id)}</title></polygon>'
            )
    for route in plan.routes:
        body.extend(_route(route, colours[route.collector_id], frame))
    for u in plan.unplaced:
        if u.lon is not None and u.lat is not None:
            x, y = frame.xy(u.lon, u.lat)
            body.append(
                f'<g stroke="#d00" stroke-width="2"><title>{escape(u.visit_id)}: {escape(str(u.reason))}</title>'
                f'<line x1="{x - 5:.1f}" y1="{y - 5:.1f}" x2="{x + 5:.1f}" y2="{y + 5:.1f}"/>'
                f'<line x1="{x - 5:.1f}" y1="{y + 5:.1f}" x2="{x + 5:.1f}" y2="{y - 5:.1f}"/></g>'
            )
    body.extend(_legend(plan, colours, WIDTH + 10))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH + LEGEND_W:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH + LEGEND_W:.0f} {height:.0f}" font-family="sans-serif">' + "".join(body) + "</svg>"
    )
