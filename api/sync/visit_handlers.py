"""Mutation handlers for visits: check in, check out, notes, outcomes and signed agreements.

The merge rules (see ``docs/sync-protocol.md``):
- notes, check-outs and evidence are append-only: never a conflict; if the visit left the collector's
  scope meanwhile, they are kept and marked ``superseded``;
- a check-in moves an assigned visit to ``checked_in`` (first one wins; a second is a duplicate); on a
  visit reassigned or cancelled meanwhile, it is kept in the timeline as superseded;
- an outcome goes through ``outcomes.service.record_outcome``; when the visit was reassigned or
  cancelled meanwhile, or another outcome was recorded, or the case closed, it is held as a hard
  conflict with both sides, never dropped and never merged over the other outcome;
- a stale ``base_version`` whose changed fields do not overlap the mutation's is merged (``merged``).
"""

from __future__ import annotations

import functools
from typing import Annotated, Any

import msgspec

from api.cases import repository as cases_repo
from api.cases import service as cases
from api.cases.errors import CaseNotCollectable
from api.cases.tables import Visit
from api.db import json_value
from api.dispatch.visit_states import VisitStatus
from api.errors import NotYourData
from api.outcomes import repository as outcome_repo
from api.outcomes import service as outcomes
from api.outcomes.catalogue import Outcome, code_of, details_of
from api.outcomes.errors import OutcomeAlreadyRecorded, VisitAlreadyClosed, VisitNotAssignedToYou
from api.people.roles import Principal
from api.settings import get_settings
from api.sync.compliance import check_in_flags
from sync.errors import InvalidMutationPayload
from sync.protocol import MutationIn, Status
from sync.push import Actor, ConflictSpec, HandlerResult

Row = dict[str, Any]


def payload_of(mutation: MutationIn, shape: Any, data: Row | None = None) -> Any:
    """The mutation's payload (or ``data`` derived from it) as a Struct; an invalid one is rejected with
    the field named."""
    value = mutation.payload if data is None else data
    try:
        if isinstance(shape, type) and issubclass(shape, msgspec.Struct):
            return msgspec.convert(value, shape, strict=False)
        return msgspec.convert({"v": value}, _boxed(shape), strict=False).v
    except msgspec.ValidationError as exc:
        raise InvalidMutationPayload(f"{mutation.type}: {_unboxed(str(exc))}") from None


@functools.cache
def _boxed(shape: Any) -> Any:
    """A struct with one field of ``shape`` (a union, such as ``Outcome``): msgspec keeps a struct's
    validator, but builds a bare union's again on every call (13 µs for an outcome, 0.8 µs boxed)."""
    return msgspec.defstruct("Boxed", [("v", shape)])


def _unboxed(message: str) -> str:
    """A validation message about the box's field, as it reads for the payload itself."""
    message = message.removesuffix(" - at `$.v`")
    return message.replace("`$.v.", "`$.", 1).replace("`$.v[", "`$[", 1)


async def target_visit(actor: Actor, mutation: MutationIn) -> Row:
    """The visit a mutation targets, locked for the change; refused if it was never this collector's."""
    if mutation.target is None:
        raise InvalidMutationPayload(f"{mutation.type} needs a target visit id")
    visit = await cases.get_visit_or_raise(mutation.target, for_update=True)
    await ensure_ever_assigned(actor, visit)
    return visit


def is_member(actor: Actor, visit: Row) -> bool:
    """The collector is (still) the visit's assignee or partner."""
    return actor.user_id in (visit["assigned_to"], visit["partner"])


async def ensure_ever_assigned(actor: Actor, visit: Row) -> None:
    """Work on a visit taken away meanwhile is kept; on a visit never assigned to the collector it is refused."""
    if is_member(actor, visit):
        return
    user = str(actor.user_id)
    for event in await cases_repo.list_visit_events(visit_id=visit["id"]):
        data = json_value(event["data"], {})
        if user in (data.get("from"), data.get("to"), data.get("for_collector")):
            return
    raise NotYourData("this visit was never assigned to you")


def why_not_yours(visit: Row) -> str:
    """Why a visit left the collector's hands."""
    return "cancelled" if visit["status"] == VisitStatus.CANCELLED.value else "reassigned"


def location_data(mutation: MutationIn) -> Row:
    """The mutation's location as timeline data."""
    loc = mutation.location
    if loc is None:
        return {}
    return {"lat": loc.lat, "lon": loc.lon, "accuracy_m": loc.accuracy_m, "mock_location": loc.mock}


async def is_stale(actor: Actor, visit: Row, mutation: MutationIn) -> bool:
    """Someone else changed the visit after the version the device based its change on (the device's
    own earlier mutations do not count: it knew about them)."""
    base = mutation.base_version
    if base is None or base >= visit["version"]:
        return False
    locked = cases_repo.visit_as_first_locked(visit["id"])
    if locked is not None and locked["version"] <= base:  # every change since base is this push's own
        return False
    for event in await cases_repo.list_visit_events(visit_id=visit["id"]):
        data = json_value(event["data"], {})
        if int(data.get("version", 0)) > base and event["device"] != actor.device_id:
            return True
    return False


async def _append_event(actor: Actor, mutation: MutationIn, visit: Row, kind: str, data: Row) -> HandlerResult:
    """An append-only fact on a visit: kept even when the visit is no longer the collector's."""
    superseded = not is_member(actor, visit) or visit["status"] == VisitStatus.CANCELLED.value
    event = {
        "mutation_id": str(mutation.id),
        "device_time": mutation.device_time.isoformat(),
        **location_data(mutation),
        **data,
    }
    if superseded:
        event["superseded"] = why_not_yours(visit)
    await cases.record_visit_event(visit, kind, actor=actor.user_id, device=actor.device_id, data=event)
    if superseded:
        return HandlerResult(
            Status.MERGED,
            {str(visit["id"]): visit["version"]},
            detail=f"kept as superseded: the visit was {why_not_yours(visit)}",
        )
    return HandlerResult(Status.APPLIED, {str(visit["id"]): visit["version"]})


class NotePayload(msgspec.Struct, forbid_unknown_fields=True):
    """``visit.add_note``"""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class EmptyPayload(msgspec.Struct, forbid_unknown_fields=True):
    """``visit.check_out`` and ``visit.check_in`` take an optional note."""

    note: Annotated[str, msgspec.Meta(max_length=4000)] = ""


async def add_note(actor: Actor, mutation: MutationIn) -> HandlerResult:
    """Append a note to a visit's timeline."""
    payload = payload_of(mutation, NotePayload)
    visit = await target_visit(actor, mutation)
    return await _append_event(actor, mutation, visit, "note", {"text": payload.text})


async def check_out(actor: Actor, mutation: MutationIn) -> HandlerResult:
    """Record that the collector left the door."""
    payload = payload_of(mutation, EmptyPayload)
    visit = await target_visit(actor, mutation)
    return await _append_event(actor, mutation, visit, "checked_out", {"note": payload.note})


async def check_in(actor: Actor, mutation: MutationIn) -> HandlerResult:
    """Arrive at the door: the visit becomes ``checked_in``; distance, hours and mock location are checked."""
    payload = payload_of(mutation, EmptyPayload)
    visit = await target_visit(actor, mutation)
    address = await cases.get_address_or_raise(visit["address"])
    flags, facts = check_in_flags(address, mutation, get_settings().compliance)
    for kind, detail in flags:
        await cases_repo.add_flag(visit["id"], visit["case"], kind, detail)
    data = {**facts, "flags": [kind for kind, _ in flags], "note": payload.note}
    status = VisitStatus(visit["status"])
    if not is_member(actor, visit) or status in (VisitStatus.CANCELLED, VisitStatus.COMPLETED):
        result = await _append_event(actor, mutation, visit, "checked_in", {**data, "late": True})
        result.data = {"flags": data["flags"]}
        if is_member(actor, visit):
            result.status, result.detail = Status.MERGED, f"kept: the visit was already {status.value}"
        return result
    if status is VisitStatus.CHECKED_IN:
        await _append_event(actor, mutation, visit, "checked_in", {**data, "again": True})
        return HandlerResult(Status.DUPLICATE, {str(visit["id"]): visit["version"]}, data={"flags": data["flags"]})
    version = await cases.change_visit(
        visit,
        {Visit.status: VisitStatus.CHECKED_IN.value, Visit.checked_in_at: mutation.device_time},
        "checked_in",
        actor=actor.user_id,
        device=actor.device_id,
        data={"mutation_id": str(mutation.id), **location_data(mutation), **data},
    )
    status_out = Status.MERGED if await is_stale(actor, visit, mutation) else Status.APPLIED
    return HandlerResult(status_out, {str(visit["id"]): version}, data={"flags": data["flags"]})


def _conflict(visit: Row, outcome: Outcome, reason: str, server_side: Row) -> ConflictSpec:
    return ConflictSpec(
        entity="visit",
        entity_id=visit["id"],
        kind="hard",
        reason=reason,
        fields=["outcome"],
        device_side={"outcome": details_of(outcome)},
        server_side=server_side,
        team_id=visit["team"],
    )


async def _server_side(visit: Row) -> Row:
    existing = await outcome_repo.latest_outcome(visit["id"])
    return {
        "status": visit["status"],
        "assigned_to": str(visit["assigned_to"]) if visit["assigned_to"] else None,
        "outcome": json_value(existing["details"], {}) if existing else None,
        "cancel_reason": visit["cancel_reason"],
    }


async def record(actor: Actor, mutation: MutationIn, outcome: Outcome) -> HandlerResult:
    """Record an outcome through the domain service; contradictions become conflicts, never losses."""
    visit = await target_visit(actor, mutation)
    principal: Principal = actor.principal
    reasons = {
        OutcomeAlreadyRecorded: "different_outcome",
        VisitAlreadyClosed: "visit_closed",
        VisitNotAssignedToYou: "visit_reassigned",
        CaseNotCollectable: "case_closed",
    }
    try:
        result = await outcomes.record_outcome(
            visit["id"], outcome, principal, device_time=mutation.device_time, outcome_id=mutation.id
        )
    except tuple(reasons) as exc:
        reason = reasons[type(exc)]
        await cases.record_visit_event(
            visit,
            "outcome_held_for_review",
            actor=actor.user_id,
            device=actor.device_id,
            data={
                "mutation_id": str(mutation.id),
                "code": code_of(outcome).value,
                "reason": reason,
                "details": details_of(outcome),
            },
        )
        spec = _conflict(visit, outcome, reason, await _server_side(visit))
        return HandlerResult(
            Status.CONFLICT, {str(visit["id"]): visit["version"]}, conflict=spec, detail=f"held for review: {exc}"
        )
    stale = await is_stale(actor, visit, mutation)
    status = Status.DUPLICATE if result.duplicate else Status.MERGED if stale else Status.APPLIED
    data = {"outcome_id": str(result.outcome_id), "case_status": result.case_status, "flags": result.flags}
    for key in ("follow_up_visit_id", "agreement_id", "promise_id"):
        if getattr(result, key) is not None:
            data[key] = str(getattr(result, key))
    return HandlerResult(status, {str(visit["id"]): result.visit_version}, data=data)


async def record_outcome(actor: Actor, mutation: MutationIn) -> HandlerResult:
    """``visit.record_outcome``: the payload is an outcome (``code`` selects its shape)."""
    return await record(actor, mutation, payload_of(mutation, Outcome))
