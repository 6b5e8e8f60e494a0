"""HTTP doors to teams, users, tokens, enrolment and devices."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from litestar import Controller, get, patch, post

from api.auth import STAFF_MANAGERS, allow
from api.errors import NotYourData, RoleNotAllowed
from api.http import errors, transactional
from api.people import schemas, service
from api.people.errors import (
    DeviceNotFound,
    EnrolmentCodeExpired,
    EnrolmentCodeUnknown,
    EnrolmentCodeUsed,
    NotACollector,
    TeamNameTaken,
    TeamNotFound,
    TeamRequired,
    TokenNotFound,
    UnknownApprovalTier,
    UsernameTaken,
    UserNotFound,
)
from api.people.roles import Principal, Role
from api.settings import get_settings


class TeamController(Controller):
    """Teams of collectors, dispatchers and supervisors."""

    path = "/v1/teams"
    tags = ["people"]

    @post("/", guards=[allow(Role.ADMIN)], responses=errors(TeamNameTaken))
    @transactional
    async def create_team(self, data: schemas.TeamCreate) -> schemas.Team:
        """Create a team (admin)."""
        return await service.create_team(data.name)

    @get("/", guards=[allow(*STAFF_MANAGERS, Role.LEGAL)])
    async def list_teams(self) -> list[schemas.Team]:
        """List teams."""
        return await service.list_teams()


class UserController(Controller):
    """Users and their personal tokens."""

    path = "/v1/users"
    tags = ["people"]

    @post(
        "/",
        guards=[allow(Role.ADMIN)],
        responses=errors(UsernameTaken, TeamNotFound, TeamRequired, UnknownApprovalTier),
    )
    @transactional
    async def create_user(self, data: schemas.UserCreate) -> schemas.User:
        """Create a user (admin). Staff then get a token; collectors get devices through enrolment."""
        return await service.create_user(data)

    @get("/", guards=[allow(*STAFF_MANAGERS)])
    async def list_users(self, principal: Principal, role: Role | None = None) -> list[schemas.User]:
        """List users: all for admins, the own team for dispatchers and supervisors."""
        return await service.list_users(principal, role)

    @get("/me")
    async def me(self, principal: Principal) -> schemas.User:
        """The caller's own user record (any role, any token)."""
        return await service.get_user_or_raise(principal.user_id)

    @get("/{user_id:uuid}", guards=[allow(*STAFF_MANAGERS)], responses=errors(UserNotFound, NotYourData))
    async def get_user(self, user_id: UUID, principal: Principal) -> schemas.User:
        """A user of the caller's team (any user for admins)."""
        user = await service.get_user_or_raise(user_id)
        if not principal.manages_team(user.team_id):
            raise NotYourData("this user belongs to another team")
        return user

    @patch("/{user_id:uuid}", guards=[allow(Role.ADMIN)], responses=errors(UserNotFound, UnknownApprovalTier))
    @transactional
    async def update_user(self, user_id: UUID, data: schemas.UserUpdate) -> schemas.User:
        """Change a user's display name, agreement approval tier, or deactivate them (admin)."""
        return await service.update_user(user_id, data)

    @post(
        "/{user_id:uuid}/tokens",
        guards=[allow(Role.ADMIN)],
        responses=errors(UserNotFound, RoleNotAllowed),
    )
    @transactional
    async def issue_token(self, user_id: UUID, data: schemas.TokenCreate) -> schemas.TokenIssued:
        """Issue a personal bearer token to a staff user (admin). The token is shown only in this answer."""
        return await service.issue_staff_token(user_id, data.label)

    @get("/{user_id:uuid}/tokens", guards=[allow(Role.ADMIN)], responses=errors(UserNotFound))
    async def list_tokens(self, user_id: UUID) -> list[schemas.StaffTokenInfo]:
        """A user's tokens, without their secrets (admin)."""
        await service.get_user_or_raise(user_id)
        return await service.list_staff_tokens(user_id)


class TokenController(Controller):
    """Revocation of staff tokens."""

    path = "/v1/tokens"
    tags = ["people"]

    @post(
        "/{token_id:uuid}/revoke",
        guards=[allow(Role.ADMIN)],
        status_code=204,
        responses=errors(TokenNotFound),
    )
    @transactional
    async def revoke_token(self, token_id: UUID) -> None:
        """Revoke a staff token (admin). It answers 401 from the next request on."""
        await service.revoke_staff_token(token_id)


class DeviceController(Controller):
    """Enrolment of collectors' phones and their lifecycle."""

    path = "/v1/devices"
    tags = ["devices"]

    @post(
        "/enrolment-codes",
        guards=[allow(*STAFF_MANAGERS)],
        responses=errors(UserNotFound, NotACollector, NotYourData),
    )
    @transactional
    async def issue_enrolment_code(
        self, data: schemas.EnrolmentCodeCreate, principal: Principal
    ) -> schemas.EnrolmentCodeIssued:
        """Issue a one-time enrolment code for a collector of your team (expires after 24 h by default)."""
        ttl = timedelta(hours=get_settings().auth.enrolment_ttl_hours)
        return await service.issue_enrolment_code(data.collector_id, principal, ttl)

    @post(
        "/enrol",
        opt={"exclude_from_auth": True},
        security=[{}],
        responses=errors(EnrolmentCodeUnknown, EnrolmentCodeExpired, EnrolmentCodeUsed),
    )
    @transactional
    async def enrol(self, data: schemas.DeviceEnrol) -> schemas.DeviceEnrolled:
        """Redeem an enrolment code (no token needed): the phone gets its own token, shown only here."""
        return await service.redeem_enrolment_code(data)

    @get("/", guards=[allow(*STAFF_MANAGERS)])
    async def list_devices(self, principal: Principal, user_id: UUID | None = None) -> list[schemas.Device]:
        """Devices of your team's collectors (all for admins)."""
        return await service.list_devices(principal, user_id)

    @get("/{device_id:uuid}", guards=[allow(*STAFF_MANAGERS)], responses=errors(DeviceNotFound, NotYourData))
    async def get_device(self, device_id: UUID, principal: Principal) -> schemas.Device:
        """One device of your team."""
        return await service.get_device_or_raise(device_id, principal)

    @post(
        "/{device_id:uuid}/revoke",
        guards=[allow(*STAFF_MANAGERS)],
        responses=errors(DeviceNotFound, NotYourData),
    )
    @transactional
    async def revoke_device(self, device_id: UUID, principal: Principal) -> schemas.Device:
        """Revoke a device: its token answers 401 from now on; what it synced is kept."""
        return await service.revoke_device(device_id, principal)
