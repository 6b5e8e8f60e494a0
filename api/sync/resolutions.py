"""What a dispatcher's decision on a conflict does to the domain (called inside ``sync.conflicts.resolve``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec

from api.cases import repository as cases_repo
from api.cases import service as cases
from api.cases.tables import Case
from api.db import json_value
from api.errors import NotYourData
from api.outcomes import service as outcomes
from api.outcomes.catalogue import Outcome
from api.people.roles import Principal, Role
from api.sync.errors import ResolutionNotPossible
from sync import conflicts

Row = dict[str, Any]
OUTCOME_REASONS = frozenset({"different_outcome", "visit_closed", "visit_reassigned", "case_closed"})


def _outcome(value: Any) -> Outcome:
    try:
        outcome: Outcome = msgspec.convert(value, Outcome)
        return outcome
    except msgspec.ValidationError as exc:
        raise ResolutionNotPossible(f"the merged outcome is invalid: {exc}") from None


async def _outcome_conflict(conflict: Row, resolution: str, value: dict[str, Any], by: Principal) -> dict[str, Any]:
    visit = await cases.get_visit_or_raise(conflict["entity_id"])
    if resolution == "keep_server":
        await cases.record_visit_event(
            visit,
            "conflict_resolved",
            actor=by.user_id,
            data={"conflict_id": str(conflict["id"]), "resolution": resolution},
        )
        return {}
    if conflict["reason"] == "case_closed":
        raise ResolutionNotPossible("the case is closed: only keep_server applies")
    device_side = json_value(conflict["device_side"], {})
    outcome = _outcome(value.get("outcome") if resolution == "merged" else device_side.get("outcome"))
    collector = Principal(
        user_id=conflict["user_id"],
        username="",
        role=Role.COLLECTOR,
        team_id=visit["team"],
        device_id=conflict["device_id"],
    )
    result = await outcomes.force_outcome(visit["id"], outcome, collector, by.user_id)
    await cases.record_visit_event(
        visit,
        "conflict_resolved",
        actor=by.user_id,
        data={"conflict_id": str(conflict["id"]), "resolution": resolution, "outcome_id": str(result.outcome_id)},
    )
    return {"outcome": msgspec.to_builtins(outcome), "outcome_id": str(result.outcome_id)}


async def _phone_conflict(conflict: Row, resolution: str, value: dict[str, Any], by: Principal) -> dict[str, Any]:
    if resolution == "keep_server":
        return {}
    chosen = json_value(conflict["device_side"], {}).get("preferred_phone")
    if resolution == "merged":
        chosen = value.get("preferred_phone")
    if not isinstance(chosen, str) or not 3 <= len(chosen) <= 40:
        raise ResolutionNotPossible("merged needs value.preferred_phone (3 to 40 characters)")
    case = await cases.get_case_or_raise(conflict["entity_id"], for_update=True)
    versions = {**json_value(case["contact_versions"], {}), "preferred_phone": case["version"] + 1}
    await cases_repo.update_case(case["id"], {Case.preferred_phone: chosen, Case.contact_versions: versions})
    await cases.publish_case_change(case["id"], "conflict_resolved")
    return {"preferred_phone": chosen}


async def resolve(conflict_id: UUID, resolution: str, value: dict[str, Any], note: str, by: Principal) -> Row:
    """Apply a dispatcher's decision on a conflict of their team, atomically with its record."""

    async def apply(conflict: Row, chosen: str, given: dict[str, Any]) -> dict[str, Any]:
        if not by.manages_team(conflict["team_id"]):
            raise NotYourData("this conflict belongs to another team")
        if conflict["entity"] == "visit" and conflict["reason"] in OUTCOME_REASONS:
            return await _outcome_conflict(conflict, chosen, given, by)
        if conflict["entity"] == "case" and conflict["reason"] == "preferred_phone_changed":
            return await _phone_conflict(conflict, chosen, given, by)
        raise ResolutionNotPossible(f"no resolver for {conflict['entity']}/{conflict['reason']}")

    return await conflicts.resolve(conflict_id, resolution, value, by.user_id, note, apply)


async def list_for(
    viewer: Principal, status: str | None, user_id: UUID | None, entity_id: UUID | None, limit: int, offset: int
) -> list[Row]:
    """Conflicts of the viewer's team (all for admins)."""
    team_id = None if viewer.role is Role.ADMIN else viewer.team_id
    return await conflicts.list_conflicts(
        team_id=team_id, status=status, user_id=user_id, entity_id=entity_id, limit=limit, offset=offset
    )


async def get_for(viewer: Principal, conflict_id: UUID) -> Row:
    """One conflict of the viewer's team."""
    row = await conflicts.get_or_raise(conflict_id)
    if not viewer.manages_team(row["team_id"]):
        raise NotYourData("this conflict belongs to another team")
    return row
