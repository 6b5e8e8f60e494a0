"""Small builders for test data: teams, users with tokens, enrolled devices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from api.db import write_transaction
from api.people import schemas, service
from api.people.roles import Role


@dataclass(frozen=True)
class Actor:
    """A user and the bearer token to act as them (a staff token or a device token)."""

    user_id: UUID
    username: str
    role: Role
    team_id: UUID | None
    token: str
    device_id: UUID | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


_counter = 0


def _unique(prefix: str) -> str:
    global _counter
    _counter += 1
    return f"{prefix}{_counter}"


async def make_team(name: str | None = None) -> UUID:
    """A team."""
    async with write_transaction():
        return (await service.create_team(name or _unique("team-"))).id


async def make_staff(role: Role, team_id: UUID | None = None, username: str | None = None) -> Actor:
    """A staff user with a personal token."""
    async with write_transaction():
        user = await service.create_user(
            schemas.UserCreate(username=username or _unique(f"{role.value}-"), role=role, team_id=team_id)
        )
        token = await service.issue_staff_token(user.id, "test")
    return Actor(user.id, user.username, role, team_id, token.token)


async def make_collector(team_id: UUID, username: str | None = None) -> Actor:
    """A collector with one enrolled device; the actor speaks with the device token."""
    async with write_transaction():
        user = await service.create_user(
            schemas.UserCreate(username=username or _unique("collector-"), role=Role.COLLECTOR, team_id=team_id)
        )
        code = await service.issue_enrolment_code(user.id, None, timedelta(hours=24))
        enrolled = await service.redeem_enrolment_code(schemas.DeviceEnrol(code=code.code, label="test phone"))
    return Actor(user.id, user.username, Role.COLLECTOR, team_id, enrolled.token, enrolled.device_id)
