"""Sync use cases for the application: pull (what a collector's devices see), push, device health.
Never commits; the HTTP doors open the transactions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from api.cases import repository as cases_repo
from api.db import json_value, savepoint
from api.people import repository as people_repo
from api.people.roles import Principal, Role
from api.settings import get_settings
from api.sync import door, door_json, schemas
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


# What decides whether a collector still has a visit: its status, its case's status, its owners.
VisitState = tuple[str, str, frozenset[UUID] | set[UUID]]


def _removal_reason(user_id: UUID, change: changes.Change, state: VisitState | None) -> str | None:
    """None when the collector still has the visit the change names; else why they lost it.

    The feed says which visits changed; whether the collector still has one is read from the current
    state, not from the entry's kind. Entries of one visit written by concurrent transactions can sort
    out of causal order (a transaction's id is taken before it waits for the visit's lock), so trusting
    the kind could leave a phone with a visit it lost; the current state cannot be out of order.
    """
    if state is not None and user_id in state[2] and state[0] != "cancelled":
        return None
    if change.kind == changes.REMOVE:
        return change.reason
    return _why_gone(state)


def _why_gone(state: VisitState | None) -> str:
    if state is None:
        return "deleted"
    if state[0] == "cancelled":
        return "closed" if state[1] in ("closed", "paid", "deceased") else "cancelled"
    return "reassigned"


def _split(user_id: UUID, page: changes.Page, states: Mapping[UUID, VisitState]) -> tuple[list[UUID], list[Removal]]:
    """The page's visits the collector has (ids, in feed order) and the ones they lost (with the reason)."""
    kept: list[UUID] = []
    removals: list[Removal] = []
    for change in page.changes:
        if change.entity != "visit":
            continue
        reason = _removal_reason(user_id, change, states.get(change.entity_id))
        if reason is None:
            kept.append(change.entity_id)
        else:
            removals.append(Removal(entity="visit", id=change.entity_id, reason=reason))
    return kept, removals


async def _resolved(page: changes.Page) -> list[schemas.ConflictView]:
    rows = await conflicts.get_many([c.entity_id for c in page.changes if c.entity == "conflict"])
    return [conflict_view(r) for r in rows]


async def _page(
    principal: Principal, cursor_text: str | None, limit: int, protocol: int
) -> tuple[changes.Page, door.AtDoor]:
    engine.check_protocol(protocol)
    assert principal.device_id is not None
    cursor = Cursor.decode(cursor_text)
    if changes.postgres():  # the page and its visits in one round trip
        return await door.page_at_door(principal.user_id, cursor, limit)
    page = await changes.read(principal.user_id, cursor, limit)
    return page, await door.visits_at_door([c.entity_id for c in page.changes if c.entity == "visit"])


async def pull(principal: Principal, cursor_text: str | None, limit: int, protocol: int) -> schemas.PullResponse:
    """The changes in the collector's scope after the cursor, with what is needed at the door."""
    page, at_door = await _page(principal, cursor_text, limit, protocol)
    states = {k: (v.status, v.case.status, owners) for k, (v, owners) in at_door.items()}
    kept, removals = _split(principal.user_id, page, states)
    return schemas.PullResponse(
        protocol=CURRENT,
        server_time=datetime.now(UTC),
        cursor=page.cursor.encode(),
        has_more=page.has_more,
        visits=[at_door[k][0] for k in kept],
        removals=removals,
        conflicts=await _resolved(page),
    )


async def pull_json(principal: Principal, cursor_text: str | None, limit: int, protocol: int) -> tuple[str, bytes]:
    """``pull`` encoded as JSON, and its cursor. On PostgreSQL the database writes the visits' JSON
    (``api.sync.door_json``); elsewhere it is ``pull`` through msgspec."""
    if not changes.postgres():
        plain = await pull(principal, cursor_text, limit, protocol)
        return plain.cursor, msgspec.json.encode(plain)
    engine.check_protocol(protocol)
    assert principal.device_id is not None
    page, at_door = await door_json.page_at_door_json(principal.user_id, Cursor.decode(cursor_text), limit)
    states = {k: (v.status, v.case_status, v.owners) for k, v in at_door.items()}
    kept, removals = _split(principal.user_id, page, states)
    cursor = page.cursor.encode()
    answer = door_json.PullAnswer(
        protocol=CURRENT,
        server_time=datetime.now(UTC),
        cursor=cursor,
        has_more=page.has_more,
        visits=[at_door[k].json for k in kept],
        removals=removals,
        conflicts=await _resolved(page),
    )
    return cursor, msgspec.json.encode(answer)


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
