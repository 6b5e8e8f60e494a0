"""``fieldvisit teams|users|devices``: the first admin, tokens, enrolment codes, revocation."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import click
from rich.console import Console
from rich.table import Table

from api.cli.runtime import run
from api.db import write_transaction
from api.people import schemas, service
from api.people.roles import Role
from api.settings import get_settings

console = Console()


@click.group()
def teams() -> None:
    """Teams."""


@teams.command("create")
@click.argument("name")
def teams_create(name: str) -> None:
    """Create a team called NAME."""

    async def work() -> schemas.Team:
        async with write_transaction():
            return await service.create_team(name)

    team = run(work)
    console.print(f"team [bold]{team.name}[/bold] created: {team.id}")


@teams.command("list")
def teams_list() -> None:
    """List teams."""
    table = Table("id", "name")
    for team in run(service.list_teams):
        table.add_row(str(team.id), team.name)
    console.print(table)


@click.group()
def users() -> None:
    """Users and their personal tokens."""


@users.command("create")
@click.option("--username", required=True, help="Login name (letters, digits, . _ - @).")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True, help="What the user may do.")
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--team", default=None, help="Team name or id (required except for legal and admin).")
@click.option("--approval-tier", default="", help="Agreement approval tier (e.g. supervisor, director).")
@click.option("--no-token", is_flag=True, help="Do not issue a token now (staff only).")
def users_create(
    username: str, role: str, display_name: str, team: str | None, approval_tier: str, no_token: bool
) -> None:
    """Create a user; staff get a bearer token, printed once.

    The first admin is made this way: `fieldvisit users create --username alice --role admin`.
    """

    async def work() -> tuple[schemas.User, schemas.TokenIssued | None]:
        async with write_transaction():
            team_id = await service.resolve_team(team) if team else None
            user = await service.create_user(
                schemas.UserCreate(
                    username=username,
                    role=Role(role),
                    display_name=display_name,
                    team_id=team_id,
                    approval_tier=approval_tier,
                )
            )
            token = None
            if user.role is not Role.COLLECTOR and not no_token:
                token = await service.issue_staff_token(user.id, "created from the CLI")
            return user, token

    user, token = run(work)
    console.print(f"{user.role.value} [bold]{user.username}[/bold] created: {user.id}")
    if token is not None:
        console.print("token (shown only now, store it safely):")
        click.echo(token.token)


@users.command("list")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None, help="Only this role.")
def users_list(role: str | None) -> None:
    """List users."""
    found = run(lambda: service.list_users(None, Role(role) if role else None))
    table = Table("id", "username", "role", "team", "active")
    for user in found:
        table.add_row(str(user.id), user.username, user.role.value, str(user.team_id or ""), str(user.active))
    console.print(table)


@users.command("token")
@click.argument("username")
@click.option("--label", default="", help="What the token is for.")
def users_token(username: str, label: str) -> None:
    """Issue a new personal token to USERNAME (printed once)."""

    async def work() -> schemas.TokenIssued:
        async with write_transaction():
            user = await service.get_user_by_username_or_raise(username)
            return await service.issue_staff_token(user.id, label)

    token = run(work)
    console.print(f"token {token.id} for {username} (shown only now):")
    click.echo(token.token)


@users.command("revoke-token")
@click.argument("token_id", type=click.UUID)
def users_revoke_token(token_id: UUID) -> None:
    """Revoke the staff token TOKEN_ID."""

    async def work() -> None:
        async with write_transaction():
            await service.revoke_staff_token(token_id)

    run(work)
    console.print(f"token {token_id} revoked")


@click.group()
def devices() -> None:
    """Collectors' phones: enrolment codes, listing, revocation."""


@devices.command("enrolment-code")
@click.argument("collector")
def devices_enrolment_code(collector: str) -> None:
    """Issue a one-time enrolment code for the collector COLLECTOR (username)."""
    ttl = timedelta(hours=get_settings().auth.enrolment_ttl_hours)

    async def work() -> schemas.EnrolmentCodeIssued:
        async with write_transaction():
            user = await service.get_user_by_username_or_raise(collector)
            return await service.issue_enrolment_code(user.id, None, ttl)

    code = run(work)
    console.print(f"enrolment code for {collector}, valid until {code.expires_at:%Y-%m-%d %H:%M %Z}:")
    click.echo(code.code)


@devices.command("list")
@click.option("--collector", default=None, help="Only this collector's devices (username).")
def devices_list(collector: str | None) -> None:
    """List enrolled devices."""

    async def work() -> list[schemas.Device]:
        user_id = (await service.get_user_by_username_or_raise(collector)).id if collector else None
        return await service.list_devices(None, user_id)

    table = Table("id", "user", "label", "app", "last seen", "revoked")
    for device in run(work):
        table.add_row(
            str(device.id),
            str(device.user_id),
            device.label,
            device.app_version,
            str(device.last_seen_at or "never"),
            str(device.revoked_at or ""),
        )
    console.print(table)


@devices.command("revoke")
@click.argument("device_id", type=click.UUID)
def devices_revoke(device_id: UUID) -> None:
    """Revoke the device DEVICE_ID: its token stops working at once; its data stays."""

    async def work() -> schemas.Device:
        async with write_transaction():
            return await service.revoke_device(device_id, None)

    run(work)
    console.print(f"device {device_id} revoked")
