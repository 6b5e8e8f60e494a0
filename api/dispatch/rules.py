"""The visits the system raises by itself (run by the periodic job ``dispatch.raise_rule_visits``):

- a reachable case whose last contact produced no payment within 24 hours gets a pressure visit;
- a lost-contact case with nothing open gets a tracing visit.

(A promise whose date passes unpaid raises its visit in ``outcomes.decisions``.) Each case is
handled in its own transaction, so one bad case never blocks the rest.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from uuid import UUID

from api.cases import repository as cases_repo
from api.db import write_transaction
from api.dispatch import schemas
from api.dispatch.service import request_visit
from api.dispatch.visit_states import VisitType
from api.errors import error_bases
from api.settings import get_settings

log = logging.getLogger(__name__)
BATCH = 500


async def _raise(case_ids: list[UUID], type: VisitType, origin: str) -> int:
    raised = 0
    for case_id in case_ids:
        try:
            async with write_transaction():
                await request_visit(schemas.VisitCreate(case_id=case_id, type=type), None, origin=origin)
            raised += 1
        except error_bases() as exc:  # e.g. no valid address left: nothing to dispatch
            log.info("rule %s: case %s gets no visit: %s", origin, case_id, exc)
    return raised


async def raise_rule_visits(now: datetime | None = None) -> dict[str, int]:
    """Apply both rules once; returns how many visits each raised."""
    now = now or datetime.now(UTC)
    compliance = get_settings().compliance
    pressure = await cases_repo.cases_needing_pressure_visit(
        now - timedelta(hours=compliance.pressure_after_hours), BATCH
    )
    tracing = await cases_repo.cases_needing_tracing_visit(now - timedelta(days=compliance.visit_due_days), BATCH)
    return {
        "pressure": await _raise(pressure, VisitType.PRESSURE, "rule:pressure_24h"),
        "tracing": await _raise(tracing, VisitType.TRACING, "rule:lost_contact"),
    }
