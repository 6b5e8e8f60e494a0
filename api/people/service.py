"""Use cases of people, teams, tokens and devices. Never commits: callers open the transaction."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from api.errors import AuthenticationRequired, NotYourData, RoleNotAllowed, TokenRevoked
from api.outcomes.approval import tier_names
from api.people import repository as repo
from api.people import schemas
from api.people.errors import (
    DeviceNotFound,
    DeviceRevoked,
    EnrolmentCodeExpired,
    EnrolmentCodeUnknown,
    EnrolmentCodeUsed,
    NotACollector,
    TeamNameTaken,
    TeamNotFound,
    TeamRequired,
    TokenNotFound,
    UnknownApprovalTier,
    UserInactive,
    UsernameTaken,
    UserNotFound,
)
from api.people.roles import Principal, Role
from api.people.tables import User
from api.settings import get_settings

STAFF_TOKEN_PREFIX = "fvs_"  # noqa: S105 - a prefix, not a secret
DEVICE_TOKEN_PREFIX = "fvd_"  # noqa: S105 - a prefix, not a secret
# Enrolment codes are typed by hand: no 0/O/1/I, grouped for reading aloud.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _now() -> datetime:
    return datetime.now(UTC)


def hash_secret(secret: str) -> str:
    """sha256 of a token or code. Tokens carry 256 random bits, so no salt or slow hash is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(prefix: str) -> str:
    """A fresh random bearer token."""
    return prefix + secrets.token_urlsafe(32)


def new_enrolment_code() -> str:
    """A fresh one-time code, e.g. ``K7QM-3XPA-9TRE`` (60 bits)."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def normalise_code(code: str) -> str:
    """Accept codes typed in lower case, with spaces or without dashes."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _user(row: dict[str, Any]) -> schemas.User:
    return schemas.User(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=Role(row["role"]),
        team_id=row["team"],
        approval_tier=row["approval_tier"],
        active=bool(row["active"]),
        created_at=row["created_at"],
    )


def _device(row: dict[str, Any]) -> schemas.Device:
    return schemas.Device(
        id=row["id"],
        user_id=row["user"],
        label=row["label"],
        platform=row["platform"],
        app_version=row["app_version"],
        enrolled_at=row["enrolled_at"],
        last_seen_at=row["last_seen_at"],
        revoked_at=row["revoked_at"],
    )


# --- teams and users -------------------------------------------------------------------------


async def create_team(name: str) -> schemas.Team:
    """Create a team with a unique name."""
    if await repo.get_team_by_name(name) is not None:
        raise TeamNameTaken(f"a team named {name!r} already exists")
    row = await repo.create_team(name)
    return schemas.Team(id=row["id"], name=row["name"], created_at=row["created_at"])


async def list_teams() -> list[schemas.Team]:
    """Every team."""
    return [schemas.Team(id=r["id"], name=r["name"], created_at=r["created_at"]) for r in await repo.list_teams()]


async def resolve_team(team: str) -> UUID:
    """A team id from an id or a name (for the CLI)."""
    try:
        team_id = UUID(team)
    except ValueError:
        row = await repo.get_team_by_name(team)
    else:
        row = await repo.get_team(team_id)
    if row is None:
        raise TeamNotFound(f"no team {team!r}")
    return UUID(str(row["id"]))


async def create_user(data: schemas.UserCreate) -> schemas.User:
    """Create a user; every role but legal and admin needs a team."""
    if data.role not in (Role.LEGAL, Role.ADMIN) and data.team_id is None:
        raise TeamRequired(f"a {data.role.value} must belong to a team (team_id)")
    if data.team_id is not None and await repo.get_team(data.team_id) is None:
        raise TeamNotFound(f"no team with id {data.team_id}")
    if await repo.get_user_by_username(data.username) is not None:
        raise UsernameTaken(f"username {data.username!r} is taken")
    _check_tier(data.approval_tier)
    row = await repo.create_user(data.username, data.role.value, data.display_name, data.team_id, data.approval_tier)
    return _user(row)


def _check_tier(tier: str | None) -> None:
    if tier and tier not in tier_names(get_settings().compliance.approval_tiers):
        raise UnknownApprovalTier(f"{tier!r} is not one of {tier_names(get_settings().compliance.approval_tiers)}")


async def update_user(user_id: UUID, data: schemas.UserUpdate) -> schemas.User:
    """Change a user's display name, approval tier or active flag (admin)."""
    await get_user_or_raise(user_id)
    _check_tier(data.approval_tier)
    values: dict[Any, Any] = {}
    if data.display_name is not None:
        values[User.display_name] = data.display_name
    if data.approval_tier is not None:
        values[User.approval_tier] = data.approval_tier
    if data.active is not None:
        values[User.active] = data.active
    if values:
        await repo.update_user(user_id, values)
    return await get_user_or_raise(user_id)


async def get_user_or_raise(user_id: UUID) -> schemas.User:
    """A user by id."""
    row = await repo.get_user(user_id)
    if row is None:
        raise UserNotFound(f"no user with id {user_id}")
    return _user(row)


async def get_user_by_username_or_raise(username: str) -> schemas.User:
    """A user by username."""
    row = await repo.get_user_by_username(username)
    if row is None:
        raise UserNotFound(f"no user named {username!r}")
    return _user(row)


async def list_users(viewer: Principal | None, role: Role | None = None) -> list[schemas.User]:
    """Users the viewer may see: everyone for admins (and the CLI: no viewer), the own team otherwise."""
    team_id = None if viewer is None or viewer.role is Role.ADMIN else viewer.team_id
    rows = await repo.list_users(team_id=team_id, role=role.value if role else None)
    return [_user(r) for r in rows]


# --- staff tokens ----------------------------------------------------------------------------


async def issue_staff_token(user_id: UUID, label: str) -> schemas.TokenIssued:
    """Issue a personal bearer token to a staff member; the clear token is returned only here."""
    user = await get_user_or_raise(user_id)
    if user.role is Role.COLLECTOR:
        raise RoleNotAllowed("collectors sign in through an enrolled device, not a staff token")
    token = new_token(STAFF_TOKEN_PREFIX)
    row = await repo.create_staff_token(user.id, hash_secret(token), label)
    return schemas.TokenIssued(id=row["id"], user_id=user.id, token=token, label=label, created_at=row["created_at"])


async def list_staff_tokens(user_id: UUID) -> list[schemas.StaffTokenInfo]:
    """A user's tokens, without secrets."""
    return [
        schemas.StaffTokenInfo(
            id=r["id"],
            user_id=r["user"],
            label=r["label"],
            created_at=r["created_at"],
            last_used_at=r["last_used_at"],
            revoked_at=r["revoked_at"],
        )
        for r in await repo.list_staff_tokens(user_id)
    ]


async def revoke_staff_token(token_id: UUID) -> None:
    """Revoke a staff token; it answers 401 from the next request on."""
    if await repo.get_staff_token(token_id) is None:
        raise TokenNotFound(f"no staff token with id {token_id}")
    await repo.revoke_staff_token(token_id, _now())


# --- devices ---------------------------------------------------------------------------------


async def issue_enrolment_code(
    collector_id: UUID, issued_by: Principal | None, ttl: timedelta
) -> schemas.EnrolmentCodeIssued:
    """Issue a one-time enrolment code for a collector of the issuer's team."""
    collector = await get_user_or_raise(collector_id)
    if collector.role is not Role.COLLECTOR:
        raise NotACollector(f"user {collector.username!r} is a {collector.role.value}, not a collector")
    if issued_by is not None and not issued_by.manages_team(collector.team_id):
        raise NotYourData("you can enrol devices only for collectors of your team")
    code = new_enrolment_code()
    expires_at = _now() + ttl
    row = await repo.create_enrolment_code(
        hash_secret(code), collector.id, issued_by.user_id if issued_by else None, expires_at
    )
    return schemas.EnrolmentCodeIssued(id=row["id"], collector_id=collector.id, code=code, expires_at=expires_at)


async def redeem_enrolment_code(data: schemas.DeviceEnrol) -> schemas.DeviceEnrolled:
    """Turn a valid, unused, unexpired code into a device and its token (shown only here)."""
    row = await repo.find_enrolment_code(hash_secret(normalise_code(data.code)))
    if row is None:
        raise EnrolmentCodeUnknown()
    now = _now()
    if row["redeemed_at"] is not None:
        raise EnrolmentCodeUsed()
    if row["expires_at"] <= now:
        raise EnrolmentCodeExpired()
    if not await repo.claim_enrolment_code(row["id"], now):
        raise EnrolmentCodeUsed()
    token = new_token(DEVICE_TOKEN_PREFIX)
    device = await repo.create_device(row["user"], hash_secret(token), data.label, data.platform, data.app_version)
    await repo.link_enrolment_device(row["id"], device["id"])
    return schemas.DeviceEnrolled(device_id=device["id"], user_id=row["user"], token=token)


async def get_device_or_raise(device_id: UUID, viewer: Principal | None = None) -> schemas.Device:
    """A device by id, if the viewer manages its collector's team."""
    row = await repo.get_device(device_id)
    if row is None:
        raise DeviceNotFound(f"no device with id {device_id}")
    if viewer is not None and not viewer.manages_team(row["team_id"]):
        raise NotYourData("this device belongs to another team's collector")
    return _device(row)


async def list_devices(viewer: Principal | None, user_id: UUID | None = None) -> list[schemas.Device]:
    """Devices the viewer manages (all for admins and the CLI)."""
    team_id = None if viewer is None or viewer.role is Role.ADMIN else viewer.team_id
    return [_device(r) for r in await repo.list_devices(team_id=team_id, user_id=user_id)]


async def revoke_device(device_id: UUID, viewer: Principal | None) -> schemas.Device:
    """Revoke a device: its token gets 401 from the next request on; its synced data stays."""
    await get_device_or_raise(device_id, viewer)
    await repo.revoke_device(device_id, _now())
    return await get_device_or_raise(device_id)


# --- authentication --------------------------------------------------------------------------


@dataclass(frozen=True)
class Authenticated:
    """A verified caller and what the boundary may want to record about the visit."""

    principal: Principal
    credential_id: UUID
    last_seen_at: datetime | None
    app_version: str


async def authenticate(token: str) -> Authenticated:
    """Check a bearer token: issued by us, not revoked, owner active."""
    if token.startswith(DEVICE_TOKEN_PREFIX):
        row = await repo.find_device_token(hash_secret(token))
        if row is None:
            raise AuthenticationRequired("unknown device token")
        if row["revoked_at"] is not None:
            raise DeviceRevoked()
        device_id: UUID | None = row["id"]
        seen = row["last_seen_at"]
        version = row["app_version"]
    elif token.startswith(STAFF_TOKEN_PREFIX):
        row = await repo.find_staff_token(hash_secret(token))
        if row is None:
            raise AuthenticationRequired("unknown staff token")
        if row["revoked_at"] is not None:
            raise TokenRevoked()
        device_id, seen, version = None, None, ""
    else:
        raise AuthenticationRequired("not a fieldvisit token")
    if not row["user.active"]:
        raise UserInactive()
    principal = Principal(
        user_id=row["user.id"],
        username=row["user.username"],
        role=Role(row["user.role"]),
        team_id=row["user.team"],
        device_id=device_id,
    )
    return Authenticated(principal=principal, credential_id=row["id"], last_seen_at=seen, app_version=version)


async def record_device_seen(device_id: UUID, app_version: str | None) -> None:
    """Record a device's last-seen time and app version."""
    await repo.touch_device(device_id, _now(), app_version)
