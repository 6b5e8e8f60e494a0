"""Wire schemas of people, teams, tokens and devices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from api.people.roles import Role

Username = Annotated[str, msgspec.Meta(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")]
Label = Annotated[str, msgspec.Meta(max_length=200)]
# Agreement approval tier a user holds: one of FIELDVISIT_APPROVAL_TIERS' names or general_manager.
ApprovalTier = Annotated[str, msgspec.Meta(max_length=40, pattern=r"^[a-z_]*$")]


class TeamCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new team."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]


class Team(msgspec.Struct):
    """A team."""

    id: UUID
    name: str
    created_at: datetime


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new user. Staff get a token with ``POST /v1/users/{id}/tokens``; collectors enrol devices."""

    username: Username
    role: Role
    display_name: Label = ""
    team_id: UUID | None = None
    approval_tier: ApprovalTier = ""


class UserUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to a user (admin). Omitted fields stay as they are."""

    display_name: Label | None = None
    approval_tier: ApprovalTier | None = None
    active: bool | None = None


class User(msgspec.Struct):
    """A user."""

    id: UUID
    username: str
    display_name: str
    role: Role
    team_id: UUID | None
    approval_tier: str
    active: bool
    created_at: datetime


class TokenCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A label for a new personal token (e.g. the laptop it is for)."""

    label: Label = ""


class TokenIssued(msgspec.Struct):
    """A new bearer token. ``token`` is shown only this once; the server keeps only its hash."""

    id: UUID
    user_id: UUID
    token: str
    label: str
    created_at: datetime


class StaffTokenInfo(msgspec.Struct):
    """A staff token without its secret."""

    id: UUID
    user_id: UUID
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class EnrolmentCodeCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Which collector the phone will belong to."""

    collector_id: UUID


class EnrolmentCodeIssued(msgspec.Struct):
    """A one-time code to type into the app. Shown only this once."""

    id: UUID
    collector_id: UUID
    code: str
    expires_at: datetime


class DeviceEnrol(msgspec.Struct, forbid_unknown_fields=True):
    """What the app sends to redeem an enrolment code."""

    code: Annotated[str, msgspec.Meta(min_length=4, max_length=64)]
    label: Label = ""
    platform: Annotated[str, msgspec.Meta(max_length=40)] = ""
    app_version: Annotated[str, msgspec.Meta(max_length=40)] = ""


class DeviceEnrolled(msgspec.Struct):
    """The device's bearer token, shown only this once."""

    device_id: UUID
    user_id: UUID
    token: str


class Device(msgspec.Struct):
    """An enrolled device."""

    id: UUID
    user_id: UUID
    label: str
    platform: str
    app_version: str
    enrolled_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
