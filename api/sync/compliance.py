"""Compliance checks on a check-in (pure): distance from the address (geofence), the legal visiting
window in the debtor's local time, a mocked location. A failing check is accepted and flagged."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api.settings import ComplianceSettings
from routing import geofence
from sync.protocol import MutationIn

Flag = tuple[str, str]


def _zone(name: str, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def check_in_flags(
    address: dict[str, Any], mutation: MutationIn, rules: ComplianceSettings
) -> tuple[list[Flag], dict[str, Any]]:
    """Flags raised by a check-in at ``address`` and the facts measured (distance, local time)."""
    flags: list[Flag] = []
    facts: dict[str, Any] = {}
    local = mutation.device_time.astimezone(_zone(address["timezone"], rules.default_timezone))
    facts["local_time"] = local.isoformat()
    if not rules.visit_window_start_hour <= local.hour < rules.visit_window_end_hour:
        flags.append(
            (
                "outside_legal_hours",
                f"checked in at {local:%H:%M} local time, outside "
                f"{rules.visit_window_start_hour:02d}:00-{rules.visit_window_end_hour:02d}:00",
            )
        )
    location = mutation.location
    if location is None:
        flags.append(("no_location", "check-in without a location fix"))
        return flags, facts
    if location.mock:
        flags.append(("mock_location", "the device reported a mock-location provider"))
    if address["lat"] is not None and address["lon"] is not None:
        fence = geofence.check(address["lat"], address["lon"], location.lat, location.lon, rules.geofence_radius_m)
        facts["distance_m"] = round(fence.distance_m, 1)
        if not fence.within:
            flags.append(
                ("outside_geofence", f"{fence.distance_m:.0f} m from the address (allowed {fence.radius_m:.0f} m)")
            )
    return flags, facts
