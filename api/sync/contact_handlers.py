"""Mutation handler for contact details learned at the door: merged per field.

Phone numbers are a set: additions and removals always merge. The preferred phone is a single
value: if the server changed it after the version the device saw, the device's value is held as a
soft conflict (the rest of the update still applies). A new address is added unless already known.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec

from api.cases import repository as cases_repo
from api.cases import service as cases
from api.cases.rules import normalise_address
from api.cases.tables import Case, Visit
from api.db import json_value
from api.errors import NotYourData
from api.outcomes.catalogue import NewAddress
from api.settings import get_settings
from api.sync.visit_handlers import payload_of
from sync.errors import InvalidMutationPayload
from sync.protocol import MutationIn, Status
from sync.push import Actor, ConflictSpec, HandlerResult

Phone = Annotated[str, msgspec.Meta(min_length=3, max_length=40)]


class ContactUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """``case.update_contact``: target is the case, ``base_version`` the case version the device saw."""

    phones_add: Annotated[list[Phone], msgspec.Meta(max_length=10)] = msgspec.field(default_factory=list)
    phones_remove: Annotated[list[Phone], msgspec.Meta(max_length=10)] = msgspec.field(default_factory=list)
    preferred_phone: Phone | None = None
    new_address: NewAddress | None = None


async def _works_on_case(user_id: UUID, case_id: UUID) -> bool:
    return bool(
        await Visit.exists().where(
            (Visit.case == case_id) & ((Visit.assigned_to == user_id) | (Visit.partner == user_id))
        )
    )


async def _add_address(case: dict[str, Any], new: NewAddress) -> bool:
    normalised = normalise_address(new.text)
    if any(a["normalised"] == normalised for a in await cases_repo.list_addresses(case["id"])):
        return False
    timezone = new.timezone or get_settings().compliance.default_timezone
    await cases_repo.create_address(case["id"], "other", new.text, normalised, new.lat, new.lon, timezone, "field")
    return True


def _phone_conflict(case: dict[str, Any], device_value: str) -> ConflictSpec:
    return ConflictSpec(
        entity="case",
        entity_id=case["id"],
        kind="soft",
        reason="preferred_phone_changed",
        fields=["preferred_phone"],
        device_side={"preferred_phone": device_value},
        server_side={"preferred_phone": case["preferred_phone"]},
        team_id=case["team"],
    )


async def update_contact(actor: Actor, mutation: MutationIn) -> HandlerResult:
    """Merge contact details into the case, field by field."""
    update = payload_of(mutation, ContactUpdate)
    if mutation.target is None:
        raise InvalidMutationPayload("case.update_contact needs a target case id")
    case = await cases.get_case_or_raise(mutation.target, for_update=True)
    if not await _works_on_case(actor.user_id, case["id"]):
        raise NotYourData("you have no visit on this case")
    stale = mutation.base_version is not None and mutation.base_version < case["version"]
    versions = dict(json_value(case["contact_versions"], {}))
    phones = list(json_value(case["phones"], []))
    new_phones = [p for p in phones if p not in update.phones_remove] + [
        p for p in update.phones_add if p not in phones
    ]
    values: dict[Any, Any] = {}
    conflict = None
    if new_phones != phones:
        values[Case.phones] = new_phones
        versions["phones"] = case["version"] + 1
    device_phone = update.preferred_phone
    if device_phone is not None and device_phone != case["preferred_phone"]:
        changed_since = int(versions.get("preferred_phone", 0)) > (mutation.base_version or 0)
        if stale and changed_since:
            conflict = _phone_conflict(case, device_phone)
        else:
            values[Case.preferred_phone] = device_phone
            versions["preferred_phone"] = case["version"] + 1
    added = await _add_address(case, update.new_address) if update.new_address else False
    if values or added:
        values[Case.contact_versions] = versions
        await cases_repo.update_case(case["id"], values)
        await cases.publish_case_change(case["id"], "contact_updated")
    version = case["version"] + (1 if values or added else 0)
    data = {"phones": new_phones, "address_added": added}
    if conflict is not None:
        return HandlerResult(
            Status.CONFLICT,
            {str(case["id"]): version},
            data=data,
            conflict=conflict,
            detail="the preferred phone changed on the server too: held for review",
        )
    if not values and not added:
        return HandlerResult(Status.DUPLICATE, {str(case["id"]): version}, data=data)
    return HandlerResult(Status.MERGED if stale else Status.APPLIED, {str(case["id"]): version}, data=data)
