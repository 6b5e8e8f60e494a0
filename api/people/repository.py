"""Every query of people, teams, tokens and devices."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from api.db import fetch_one
from api.people.tables import Device, EnrolmentCode, StaffToken, Team, User
from sync.txstate import memo_of

Row = dict[str, Any]


async def create_team(name: str) -> Row:
    """Insert a team."""
    team = Team(name=name)
    await team.save()
    return team.to_dict()


async def get_team(team_id: UUID) -> Row | None:
    """A team by id."""
    return await Team.select().where(Team.id == team_id).first()


async def get_team_by_name(name: str) -> Row | None:
    """A team by name."""
    return await Team.select().where(Team.name == name).first()


async def list_teams() -> list[Row]:
    """Every team, by name."""
    return await Team.select().order_by(Team.name)


async def create_user(
    username: str, role: str, display_name: str, team_id: UUID | None, approval_tier: str = ""
) -> Row:
    """Insert a user."""
    user = User(username=username, role=role, display_name=display_name, team=team_id, approval_tier=approval_tier)
    await user.save()
    return await get_user(user.id) or {}


_USER_COLUMNS = (
    User.id,
    User.username,
    User.display_name,
    User.role,
    User.team,
    User.approval_tier,
    User.active,
    User.created_at,
)


async def get_user(user_id: UUID, *, cached: bool = False) -> Row | None:
    """A user by id (``cached``: read once per transaction; a sync push's follow-up visits all go to
    the same collector)."""
    memo = memo_of(User) if cached else None
    if memo is not None and ("user", user_id) in memo:
        found: Row | None = memo[("user", user_id)]
        return None if found is None else dict(found)
    user = await User.select(*_USER_COLUMNS).where(User.id == user_id).first()
    if memo is not None:
        memo[("user", user_id)] = None if user is None else dict(user)
    return user


async def get_user_by_username(username: str) -> Row | None:
    """A user by username."""
    return await User.select(*_USER_COLUMNS).where(User.username == username).first()


async def list_users(team_id: UUID | None = None, role: str | None = None) -> list[Row]:
    """Users, optionally of one team and/or one role."""
    query = User.select(*_USER_COLUMNS).order_by(User.username)
    if team_id is not None:
        query = query.where(User.team == team_id)
    if role is not None:
        query = query.where(User.role == role)
    return await query


async def update_user(user_id: UUID, values: dict[Any, Any]) -> None:
    """Write user fields."""
    await User.update(values).where(User.id == user_id)


async def create_staff_token(user_id: UUID, token_hash: str, label: str) -> Row:
    """Insert a staff token (hash only)."""
    token = StaffToken(user=user_id, token_hash=token_hash, label=label)
    await token.save()
    return token.to_dict()


async def get_staff_token(token_id: UUID) -> Row | None:
    """A staff token by id (without its hash)."""
    return (
        await StaffToken.select(
            StaffToken.id,
            StaffToken.user,
            StaffToken.label,
            StaffToken.created_at,
            StaffToken.last_used_at,
            StaffToken.revoked_at,
        )
        .where(StaffToken.id == token_id)
        .first()
    )


async def list_staff_tokens(user_id: UUID) -> list[Row]:
    """A user's staff tokens (without hashes)."""
    return (
        await StaffToken.select(
            StaffToken.id,
            StaffToken.user,
            StaffToken.label,
            StaffToken.created_at,
            StaffToken.last_used_at,
            StaffToken.revoked_at,
        )
        .where(StaffToken.user == user_id)
        .order_by(StaffToken.created_at)
    )


async def revoke_staff_token(token_id: UUID, at: datetime) -> None:
    """Mark a staff token revoked (kept for the record)."""
    await StaffToken.update({StaffToken.revoked_at: at}).where(
        (StaffToken.id == token_id) & StaffToken.revoked_at.is_null()
    )


# The token lookups run on every request: plain SQL through ``fetch_one`` (no query building, a
# prepared statement on PostgreSQL, the process's open connection on SQLite), still one read of the
# database per request, so a revocation or a deactivation takes effect on the next request.
_STAFF_BY_HASH_SQL = (
    'SELECT t."id" AS "id", t."revoked_at" AS "revoked_at", u."id" AS "user.id", '
    'u."username" AS "user.username", u."role" AS "user.role", u."team" AS "user.team", '
    'u."active" AS "user.active" '
    'FROM "staff_token" t JOIN "app_user" u ON u."id" = t."user" WHERE t."token_hash" = {}'
)
_DEVICE_BY_HASH_SQL = (
    'SELECT d."id" AS "id", d."revoked_at" AS "revoked_at", d."last_seen_at" AS "last_seen_at", '
    'd."app_version" AS "app_version", u."id" AS "user.id", u."username" AS "user.username", '
    'u."role" AS "user.role", u."team" AS "user.team", u."active" AS "user.active" '
    'FROM "device" d JOIN "app_user" u ON u."id" = d."user" WHERE d."token_hash" = {}'
)


async def find_staff_token(token_hash: str) -> Row | None:
    """A staff token and its user, by the token's hash."""
    return await fetch_one(_STAFF_BY_HASH_SQL, token_hash)


async def find_device_token(token_hash: str) -> Row | None:
    """A device and its user, by the device token's hash."""
    return await fetch_one(_DEVICE_BY_HASH_SQL, token_hash)


async def create_enrolment_code(code_hash: str, user_id: UUID, issued_by: UUID | None, expires_at: datetime) -> Row:
    """Insert an enrolment code (hash only)."""
    code = EnrolmentCode(code_hash=code_hash, user=user_id, issued_by=issued_by, expires_at=expires_at)
    await code.save()
    return code.to_dict()


async def find_enrolment_code(code_hash: str) -> Row | None:
    """An enrolment code by hash."""
    return await EnrolmentCode.select().where(EnrolmentCode.code_hash == code_hash).first()


async def claim_enrolment_code(code_id: UUID, at: datetime) -> bool:
    """Mark a code redeemed unless another request got there first (the database decides)."""
    rows = (
        await EnrolmentCode.update({EnrolmentCode.redeemed_at: at})
        .where((EnrolmentCode.id == code_id) & EnrolmentCode.redeemed_at.is_null())
        .returning(EnrolmentCode.id)
    )
    return bool(rows)


async def link_enrolment_device(code_id: UUID, device_id: UUID) -> None:
    """Record which device redeemed a code."""
    await EnrolmentCode.update({EnrolmentCode.device: device_id}).where(EnrolmentCode.id == code_id)


async def create_device(user_id: UUID, token_hash: str, label: str, platform: str, app_version: str) -> Row:
    """Insert a device (token hash only)."""
    device = Device(user=user_id, token_hash=token_hash, label=label, platform=platform, app_version=app_version)
    await device.save()
    return device.to_dict()


_DEVICE_COLUMNS = (
    Device.id,
    Device.user,
    Device.label,
    Device.platform,
    Device.app_version,
    Device.enrolled_at,
    Device.last_seen_at,
    Device.revoked_at,
)


async def get_device(device_id: UUID) -> Row | None:
    """A device by id, with its owner's team."""
    return (
        await Device.select(*_DEVICE_COLUMNS, Device.user.team.as_alias("team_id"))
        .where(Device.id == device_id)
        .first()
    )


async def list_devices(team_id: UUID | None = None, user_id: UUID | None = None) -> list[Row]:
    """Devices, optionally of one team or one user."""
    query = Device.select(*_DEVICE_COLUMNS).order_by(Device.enrolled_at)
    if team_id is not None:
        query = query.where(Device.user.team == team_id)
    if user_id is not None:
        query = query.where(Device.user == user_id)
    return await query


async def revoke_device(device_id: UUID, at: datetime) -> None:
    """Mark a device revoked (kept for the record)."""
    await Device.update({Device.revoked_at: at}).where((Device.id == device_id) & Device.revoked_at.is_null())


async def touch_device(device_id: UUID, at: datetime, app_version: str | None) -> None:
    """Record that a device was seen (and which app version it runs)."""
    values: dict[Any, Any] = {Device.last_seen_at: at}
    if app_version:
        values[Device.app_version] = app_version[:40]
    await Device.update(values).where(Device.id == device_id)


async def touch_staff_token(token_id: UUID, at: datetime) -> None:
    """Record that a staff token was used."""
    await StaffToken.update({StaffToken.last_used_at: at}).where(StaffToken.id == token_id)
