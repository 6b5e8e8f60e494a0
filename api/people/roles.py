"""Roles and the authenticated principal (pure values, no I/O)."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

import msgspec


class Role(StrEnum):
    """What a user may do."""

    COLLECTOR = "collector"
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    LEGAL = "legal"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.LEGAL, Role.ADMIN})
TEAM_MANAGERS = frozenset({Role.DISPATCHER, Role.SUPERVISOR})


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: a user, and the device when the token is a device token."""

    user_id: UUID
    username: str
    role: Role
    team_id: UUID | None
    device_id: UUID | None = None

    @property
    def is_device(self) -> bool:
        return self.device_id is not None

    def manages_team(self, team_id: UUID | None) -> bool:
        """Admins manage every team; dispatchers and supervisors manage their own."""
        if self.role is Role.ADMIN:
            return True
        return self.role in TEAM_MANAGERS and team_id is not None and team_id == self.team_id
