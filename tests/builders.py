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


async def make_case(
    team_id: UUID | None,
    *,
    lat: float = 31.2304,
    lon: float = 121.4737,
    timezone: str = "Asia/Shanghai",
    contact_state: str = "reachable",
    amount_owed: str = "12000.00",
    days_past_due: int = 45,
    status: str = "open",
) -> tuple[UUID, UUID]:
    """A case with one valid home address; returns (case_id, address_id)."""
    from decimal import Decimal

    from api.cases.rules import stage_for
    from api.cases.tables import Address, Case

    ref = _unique("ext-")
    async with write_transaction():
        case = Case(
            source="test",
            external_ref=ref,
            source_ref=f"test:{ref}",
            debtor_name=f"Debtor {ref}",
            national_id_last4="1234",
            phones=["+86 138 0000 0000"],
            amount_owed=Decimal(amount_owed),
            currency="CNY",
            days_past_due=days_past_due,
            stage=stage_for(days_past_due).value,
            status=status,
            contact_state=contact_state,
            team=team_id,
        )
        await case.save()
        address = Address(
            case=case.id,
            kind="home",
            text=f"{ref} Home Road 1",
            normalised=f"{ref} home road 1",
            lat=lat,
            lon=lon,
            timezone=timezone,
        )
        await address.save()
    return case.id, address.id


async def make_visit(
    case_id: UUID,
    address_id: UUID,
    team_id: UUID | None,
    *,
    assigned_to: UUID | None = None,
    type: str = "pressure",
    due_in_days: int = 7,
) -> UUID:
    """A visit, assigned (through the dispatch service, so the collector's sync feed has it) when
    ``assigned_to`` is given."""
    from datetime import date, timedelta

    from api.cases import service as cases
    from api.cases.tables import Visit
    from api.dispatch import service as dispatch

    async with write_transaction():
        visit = Visit(
            case=case_id,
            address=address_id,
            team=team_id,
            type=type,
            status="requested",
            due_date=date.today() + timedelta(days=due_in_days),
        )
        await visit.save()
        if assigned_to is not None:
            await dispatch.assign(await cases.get_visit_or_raise(visit.id), assigned_to, None, None)
    return visit.id


async def make_collector_profile(
    user_id: UUID,
    *,
    lat: float = 31.2304,
    lon: float = 121.4737,
    timezone: str = "Asia/Shanghai",
    shift: tuple[int, int] = (8 * 60, 18 * 60),
    capacity: int = 30,
) -> None:
    """A collector's routing profile: home base, shift (minutes after local midnight), capacity."""
    from routing.tables import CollectorProfile

    async with write_transaction():
        await CollectorProfile.insert(
            CollectorProfile(
                user_id=user_id,
                home_lat=lat,
                home_lon=lon,
                timezone=timezone,
                shift_start_min=shift[0],
                shift_end_min=shift[1],
                capacity=capacity,
            )
        )
