"""Teams, users, staff tokens, devices and enrolment codes. Tokens are stored only as hashes."""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Team(Table, tablename="team"):
    """A group of collectors with their dispatchers and supervisors."""

    id = UUID(primary_key=True)
    name = Varchar(length=120, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class User(Table, tablename="app_user"):
    """A person who uses fieldvisit, with one role."""

    id = UUID(primary_key=True)
    username = Varchar(length=80, unique=True)
    display_name = Varchar(length=200, default="")
    role = Varchar(length=20, index=True)  # collector | dispatcher | supervisor | legal | admin
    team = ForeignKey(references=Team, on_delete=OnDelete.restrict, null=True, index=True)
    approval_tier = Varchar(length=40, default="")  # agreements this user may approve (settings tiers)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class StaffToken(Table, tablename="staff_token"):
    """A personal bearer token of a staff member (sha256 of the token; the token itself is never kept)."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, index=True)
    token_hash = Varchar(length=64, unique=True)
    label = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class Device(Table, tablename="device"):
    """An enrolled phone of a collector; its token identifies user + device."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, index=True)
    token_hash = Varchar(length=64, unique=True)
    label = Varchar(length=200, default="")
    platform = Varchar(length=40, default="")
    app_version = Varchar(length=40, default="")
    enrolled_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class EnrolmentCode(Table, tablename="enrolment_code"):
    """A one-time code a dispatcher issues so a collector's phone can get its device token."""

    id = UUID(primary_key=True)
    code_hash = Varchar(length=64, unique=True)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, index=True)
    issued_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    redeemed_at = Timestamptz(null=True, default=None)
    device = ForeignKey(references=Device, on_delete=OnDelete.restrict, null=True)
