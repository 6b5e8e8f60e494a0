"""Mutation handler declaring evidence: append-only, idempotent on the phone's evidence id, never a
conflict. Evidence of a visit that left the collector's hands meanwhile is still kept."""

from __future__ import annotations

from typing import Any

from api.cases import service as cases
from api.evidence.access import who
from api.evidence.config import evidence_config
from api.evidence.schemas import EvidenceDeclare
from api.sync.visit_handlers import ensure_ever_assigned, is_member, payload_of
from evidence import items
from evidence.kinds import EvidenceKind
from evidence.models import DeclareItem
from sync.errors import InvalidMutationPayload
from sync.protocol import MutationIn, Status
from sync.push import Actor, HandlerResult


def _capture(data: EvidenceDeclare) -> dict[str, Any]:
    capture: dict[str, Any] = {"consent": data.consent, "note": data.note or None}
    if data.captured_at is not None:
        capture["captured_at"] = data.captured_at.isoformat()
    if data.location is not None:
        capture["location"] = {
            "lat": data.location.lat,
            "lon": data.location.lon,
            "accuracy_m": data.location.accuracy_m,
        }
    return {k: v for k, v in capture.items() if v is not None}


async def declare_evidence(actor: Actor, mutation: MutationIn) -> HandlerResult:
    """``evidence.declare``: the payload is an evidence declaration (kind, sha256, size, capture context)."""
    data = payload_of(mutation, EvidenceDeclare)
    if mutation.target is not None and mutation.target != data.visit_id:
        raise InvalidMutationPayload("evidence.declare: target and payload visit_id differ")
    visit = await cases.get_visit_or_raise(data.visit_id)
    await ensure_ever_assigned(actor, visit)
    declared = await items.declare_item(
        DeclareItem(
            id=data.id,
            visit_id=data.visit_id,
            case_id=visit["case"],
            kind=EvidenceKind(data.kind),
            sha256=data.sha256,
            content_type=data.content_type,
            size=data.size,
            capture=_capture(data),
            filename=data.filename,
        ),
        who(actor.principal, "sync"),
        evidence_config().defer,
    )
    status = Status.DUPLICATE if declared.duplicate else Status.APPLIED
    detail = "" if is_member(actor, visit) else "kept: the visit is no longer yours"
    return HandlerResult(
        status,
        detail=detail,
        data={
            "evidence_id": str(data.id),
            "state": str(declared.item.state),
            "upload_needed": not declared.item.present,
        },
    )
