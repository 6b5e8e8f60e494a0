"""HTTP doors of outcomes, agreements and confirmations. Recording an outcome here is a thin door to
``outcomes.service.record_outcome``, the same function a device's sync push reaches."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import Parameter

from api.auth import STAFF_MANAGERS, allow
from api.cases.errors import CaseNotCollectable, CaseNotFound, NoValidAddress, VisitNotFound
from api.errors import NotYourData, RoleNotAllowed
from api.http import Offset, errors, transactional
from api.outcomes import decisions, schemas, service
from api.outcomes.errors import (
    AgreementNotFound,
    AgreementNotPending,
    ApprovalAboveYourTier,
    CaseTransitionRefused,
    CurrencyMismatch,
    NothingToConfirm,
    OutcomeAlreadyRecorded,
    VisitAlreadyClosed,
    VisitNotAssignedToYou,
)
from api.people.roles import Principal, Role

Limit = Annotated[int, Parameter(ge=1, le=500, description="page size")]


class OutcomeController(Controller):
    """Outcomes of visits."""

    path = "/v1/visits/{visit_id:uuid}/outcome"
    tags = ["outcomes"]

    @post(
        "/",
        guards=[allow(Role.COLLECTOR, *STAFF_MANAGERS)],
        status_code=200,
        responses=errors(
            VisitNotFound,
            VisitNotAssignedToYou,
            NotYourData,
            VisitAlreadyClosed,
            OutcomeAlreadyRecorded,
            CaseNotCollectable,
            CaseTransitionRefused,
            CurrencyMismatch,
            NoValidAddress,
        ),
    )
    @transactional
    async def record(self, visit_id: UUID, data: schemas.OutcomeRecord, principal: Principal) -> schemas.OutcomeResult:
        """Record the visit's outcome (action code) and carry out what it means for the case: a revisit after
        NOH/NFD (escalation after the configured attempts), a promise tracked after PTP, an agreement (waiting for
        approval above the collector's authority) after AGR, legal escalation after a second REF, the address
        marked invalid after INV/MOV, a supervisor's confirmation awaited after DIS/DEC. Sending the same outcome
        again answers ``duplicate``; a different one is refused."""
        return await service.record_outcome(visit_id, data.outcome, principal, device_time=data.device_time)


class AgreementController(Controller):
    """Repayment agreements and their approval by amount tier."""

    path = "/v1/agreements"
    tags = ["agreements"]

    @get("/", guards=[allow(*STAFF_MANAGERS, Role.LEGAL)])
    async def list_agreements(
        self,
        principal: Principal,
        status: str | None = None,
        case_id: UUID | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[schemas.Agreement]:
        """Agreements (``status=pending_approval`` for the approval queue)."""
        return await decisions.list_agreements(principal, status, case_id, limit, offset)

    @get(
        "/{agreement_id:uuid}",
        guards=[allow(*STAFF_MANAGERS, Role.LEGAL)],
        responses=errors(AgreementNotFound, NotYourData),
    )
    async def get_agreement(self, agreement_id: UUID, principal: Principal) -> schemas.Agreement:
        """One agreement."""
        return decisions.to_agreement(await decisions.get_agreement_or_raise(agreement_id, principal))

    @post(
        "/{agreement_id:uuid}/approve",
        guards=[allow(Role.SUPERVISOR, Role.ADMIN)],
        status_code=200,
        responses=errors(AgreementNotFound, AgreementNotPending, ApprovalAboveYourTier, NotYourData),
    )
    @transactional
    async def approve(self, agreement_id: UUID, data: schemas.Decision, principal: Principal) -> schemas.Agreement:
        """Approve an agreement within your approval tier (default tiers: supervisor up to 500,000, director up
        to 1,000,000, general manager above)."""
        return await decisions.decide_agreement(agreement_id, True, principal, data.comment)

    @post(
        "/{agreement_id:uuid}/reject",
        guards=[allow(Role.SUPERVISOR, Role.ADMIN)],
        status_code=200,
        responses=errors(AgreementNotFound, AgreementNotPending, ApprovalAboveYourTier, NotYourData),
    )
    @transactional
    async def reject(self, agreement_id: UUID, data: schemas.Decision, principal: Principal) -> schemas.Agreement:
        """Reject an agreement within your approval tier; the case returns to open collection."""
        return await decisions.decide_agreement(agreement_id, False, principal, data.comment)


class ConfirmationController(Controller):
    """A supervisor's confirmation of a dispute or a death report."""

    path = "/v1/cases/{case_id:uuid}/confirmations"
    tags = ["cases"]

    @post(
        "/",
        guards=[allow(Role.SUPERVISOR, Role.ADMIN)],
        status_code=200,
        responses=errors(CaseNotFound, NothingToConfirm, RoleNotAllowed, CaseTransitionRefused),
    )
    @transactional
    async def confirm(self, case_id: UUID, data: schemas.Confirmation, principal: Principal) -> dict[str, str]:
        """Confirm or reject the case's pending DIS or DEC; only a confirmation changes the case."""
        status = await decisions.confirm(case_id, data.decision == "confirm", principal, data.comment)
        return {"case_status": status}


ROUTES: list[Any] = [OutcomeController, AgreementController, ConfirmationController]
