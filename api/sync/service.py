"""Sync use cases for the application: pull (what a collector's devices see), push, device health.
Never commits; the HTTP doors open the transactions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from api.cases import repository as cases_repo
from api.db import json_value, savepoint
from api.people import repository as people_repo
from api.people.roles import Principal, Role
from api.settings import get_settings
from api.sync import door, schemas
from api.sync.handlers import HANDLERS
from sync import changes, conflicts, devices
from sync import push as engine
from sync.feed import Cursor
from sync.protocol import CURRENT, MAX_BATCH, PushRequest, PushResponse, Removal

Row = dict[str, Any]


def conflict_view(row: Row) -> schemas.ConflictView:
    """Wire form of a conflict row."""
    return schemas.ConflictView(
        id=row["id"],
        mutation_id=row["mutation_id"],
        device_id=row["device_id"],
        user_id=row["user_id"],
        entity=row["entity"],
        entity_id=row["entity_id"],
        kind=row["kind"],
        reason=row["reason"],
        fields=list(json_value(row["fields"], [])),
        device_side=dict(json_value(row["device_side"], {})),
        server_side=dict(json_value(row["server_side"], {})),
        status=row["status"],
        resolution=row["resolution"],
        resolved_value=dict(json_value(row["resolved_value"], {})),
        resolved_by=row["resolved_by"],
        resolved_at=row["resolved_at"],
        note=row["note"],
        created_at=row["created_at"],
    )


async def _assemble(
    user_id: UUID, page: changes.Page, at_door: door.AtDoor
) -> tuple[list[schemas.VisitAtDoor], list[Removal], list[Row]]:
    """Turn a page of feed entries into what the phone stores: each changed visit as it is *now*.

    The feed says which visits changed; whether the collector still has one is read from the current
    state, not from the entry's kind. Entries of one visit written by concurrent transactions can sort
    out of causal order (a transaction's id is taken before it waits for the visit's lock), so trusting
    the kind could leave a phone with a visit it lost; the current state cannot be out of order.
    """
    visits: list[schemas.VisitAtDoor] = []
    removals: list[Removal] = []
    for change in page.changes:
        if change.entity != "visit":
            continue
        found = at_door.get(change.entity_id)
        if found is not None and user_id in found[1] and found[0].status != "cancelled":
            visits.append(found[0])
            continue
        reason = change.reason if change.kind == changes.REMOVE else _why_gone(found[0] if found else None)
        removals.append(Removal(entity="visit", id=change.entity_id, reason=reason))
    resolved = await conflicts.get_many([c.entity_id for c in page.changes if c.entity == "conflict"])
    return visits, removals, resolved


def _why_gone(visit: schemas.VisitAtDoor | None) -> str:
    if visit is None:
        return "deleted"
    if visit.status == "cancelled":
        return "closed" if visit.case.status in ("closed", "paid", "deceased") else "cancelled"
    return "reassigned"


async def pull(principal: Principal, cursor_text: str | None, limit: int, protocol: int) -> schemas.PullResponse:
    """The changes in the collector's scope after the cursor, with what is needed at the door."""
    engine.check_protocol(protocol)
    assert principal.device_id is not None
    cursor = Cursor.decode(cursor_text)
    if changes.postgres():  # the page and its visits in one round trip
        page, at_door = await door.page_at_door(principal.user_id, cursor, limit)
    else:
        page = await changes.read(principal.user_id, cursor, limit)
        at_door = await door.visits_at_door([c.entity_id for c in page.changes if c.entity == "visit"])
    visits, removals, resolved = await _assemble(principal.user_id, page, at_door)
    return schemas.PullResponse(
        protocol=CURRENT,
        server_time=datetime.now(UTC),
        cursor=page.cursor.encode(),
        has_more=page.has_more,
        visits=visits,
        removals=removals,
        conflicts=[conflict_view(r) for r in resolved],
    )


def pull_due(principal: Principal, cursor: str, protocol: int) -> bool:
    """True when this pull is worth writing to device health (see ``record_pull``)."""
    assert principal.device_id is not None
    resolution = get_settings().auth.device_pull_resolution_s
    return devices.pull_due(principal.device_id, cursor, protocol, resolution)


async def record_pull(principal: Principal, cursor: str, protocol: int) -> None:
    """Remember the device's last pull (in its own small write). Device health is telemetry: while the
    cursor stays the same, the last pull time is written at most every ``FIELDVISIT_DEVICE_PULL_RESOLUTION``
    seconds (per API process)."""
    assert principal.device_id is not None
    resolution = get_settings().auth.device_pull_resolution_s
    await devices.record_pull(principal.device_id, principal.user_id, datetime.now(UTC), cursor, protocol, resolution)


async def push(principal: Principal, request: PushRequest, app_version: str | None) -> PushResponse:
    """Apply a device's batch of mutations (see ``sync.push``)."""
    assert principal.device_id is not None
    targets = [m.target for m in request.mutations[:MAX_BATCH] if m.target and m.type.startswith("visit.")]
    await cases_repo.lock_visits(targets)  # one query instead of one per mutation (ids checked later)
    actor = engine.Actor(
        user_id=principal.user_id, device_id=principal.device_id, principal=principal, app_version=app_version or ""
    )
    return await engine.push(actor, request, HANDLERS, savepoint)


async def device_health(viewer: Principal, user_id: UUID | None) -> list[schemas.DeviceHealth]:
    """Per device of the viewer's team: last pull and push, cursor, pending conflicts, app, last fix."""
    team_id = None if viewer.role is Role.ADMIN else viewer.team_id
    rows = await people_repo.list_devices(team_id=team_id, user_id=user_id)
    ids = [UUID(str(r["id"])) for r in rows]
    states = await devices.states(ids)
    pending = await conflicts.count_open(ids)
    health = []
    for row in rows:
        state = states.get(row["id"], {})
        health.append(
            schemas.DeviceHealth(
                device_id=row["id"],
                user_id=row["user"],
                label=row["label"],
                app_version=state.get("app_version") or row["app_version"],
                revoked=row["revoked_at"] is not None,
                last_seen_at=row["last_seen_at"],
                last_pull_at=state.get("last_pull_at"),
                last_push_at=state.get("last_push_at"),
                cursor=state.get("cursor", ""),
                last_seq=int(state.get("last_seq", 0)),
                last_fix_at=state.get("last_fix_at"),
                pending_conflicts=pending.get(row["id"], 0),
            )
        )
    return health
