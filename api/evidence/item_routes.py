"""HTTP doors to evidence items: declaration, listing by visit, thumbnails, originals, custody."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post

from api.auth import allow, device_only
from api.errors import NotYourData, RecordNotFound
from api.evidence import access, schemas
from api.evidence.config import evidence_config
from api.evidence.ranges import file_response
from api.http import errors, transactional
from api.people.roles import Principal, Role
from evidence import items
from evidence.custody import ChainReport
from evidence.errors import (
    DerivedFileNotFound,
    EvidenceDeclarationInvalid,
    EvidenceIdReused,
    EvidenceItemNotFound,
    RangeNotSatisfiable,
)
from evidence.kinds import EvidenceKind
from evidence.models import DeclareItem, Item

READERS = (Role.COLLECTOR, Role.DISPATCHER, Role.SUPERVISOR, Role.LEGAL, Role.ADMIN)
NO_COMPRESSION = {"skip_compression": True}


def _address(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def verification(report: ChainReport) -> schemas.ChainVerification:
    """The wire form of a chain verdict."""
    broken = report.first_broken
    return schemas.ChainVerification(
        item_id=UUID(report.item_id),
        valid=report.valid,
        length=report.length,
        head=report.head,
        first_broken=schemas.BrokenLinkInfo(broken.seq, broken.reason) if broken else None,
    )


async def _readable_item(item_id: UUID, principal: Principal) -> Item:
    item = await items.get_item_or_raise(item_id)
    await access.require_reader(principal, item.visit_id)
    return item


class EvidenceItemController(Controller):
    """Evidence items: declared by phones, read by their team, legal and admins (reads are logged)."""

    path = "/v1"
    tags = ["evidence"]

    @post(
        "/evidence/items",
        guards=[device_only],
        responses=errors(EvidenceIdReused, EvidenceDeclarationInvalid, NotYourData, RecordNotFound),
    )
    @transactional
    async def declare(
        self, request: Request[Any, Any, Any], data: schemas.EvidenceDeclare, principal: Principal
    ) -> Response[Item]:
        """Declare an evidence item of a visit assigned to you (idempotent on its id).

        Answers 201 for a new item, 200 when the same declaration was made before (a duplicate,
        not an error); 409 when the id was used for other content. If the server already holds
        the bytes, the item comes back ``verified`` and no upload is needed."""
        scope = await access.require_field_member(principal, data.visit_id)
        capture: dict[str, Any] = {"consent": data.consent, "note": data.note or None}
        if data.captured_at is not None:
            capture["captured_at"] = data.captured_at.isoformat()
        if data.location is not None:
            capture["location"] = {
                "lat": data.location.lat,
                "lon": data.location.lon,
                "accuracy_m": data.location.accuracy_m,
            }
        declared = await items.declare_item(
            DeclareItem(
                id=data.id,
                visit_id=data.visit_id,
                case_id=scope.case_id,
                kind=EvidenceKind(data.kind),
                sha256=data.sha256,
                content_type=data.content_type,
                size=data.size,
                capture={k: v for k, v in capture.items() if v is not None},
                filename=data.filename,
            ),
            access.who(principal, _address(request)),
            evidence_config().defer,
        )
        return Response(declared.item, status_code=200 if declared.duplicate else 201)

    @get("/visits/{visit_id:uuid}/evidence", guards=[allow(*READERS)], responses=errors(NotYourData, RecordNotFound))
    @transactional
    async def list_for_visit(
        self, request: Request[Any, Any, Any], visit_id: UUID, principal: Principal
    ) -> schemas.VisitEvidence:
        """The media a visit expects (declared items) and which are present (bytes verified)."""
        await access.require_reader(principal, visit_id)
        found = await items.list_items(visit_ids=[visit_id])
        if access.must_log_reads(principal):
            await items.record_views(found, access.who(principal, _address(request)), "metadata")
        return schemas.VisitEvidence(
            visit_id=visit_id,
            expected=len(found),
            present=sum(1 for i in found if i.present),
            missing=[i.id for i in found if not i.present],
            items=found,
        )

    @get(
        "/evidence/items/{item_id:uuid}",
        guards=[allow(*READERS)],
        responses=errors(EvidenceItemNotFound, NotYourData),
    )
    @transactional
    async def get_item(self, request: Request[Any, Any, Any], item_id: UUID, principal: Principal) -> Item:
        """One item: hashes, state, capture context, flags, derived files."""
        item = await _readable_item(item_id, principal)
        if access.must_log_reads(principal):
            await items.record_views([item], access.who(principal, _address(request)), "metadata")
        return item

    @get(
        "/evidence/items/{item_id:uuid}/thumbnail",
        guards=[allow(*READERS)],
        opt=NO_COMPRESSION,
        responses=errors(EvidenceItemNotFound, NotYourData, DerivedFileNotFound),
        media_type="image/jpeg",
    )
    @transactional
    async def thumbnail(self, request: Request[Any, Any, Any], item_id: UUID, principal: Principal) -> Response[Any]:
        """The photo's orientation-corrected thumbnail (JPEG, at most 512 px). Every read is logged."""
        item = await _readable_item(item_id, principal)
        derived = next((d for d in item.derived if d.role == "thumbnail"), None)
        path = evidence_config().store.local_path(derived.sha256) if derived else None
        if derived is None or path is None:
            raise DerivedFileNotFound(f"item {item_id} has no thumbnail (state {item.state.value})")
        await items.record_views([item], access.who(principal, _address(request)), "thumbnail")
        return file_response(path, derived.content_type, None, f"{item.id}-thumbnail.jpg")

    @get(
        "/evidence/items/{item_id:uuid}/original",
        guards=[allow(Role.LEGAL, Role.ADMIN)],
        opt=NO_COMPRESSION,
        responses=errors(EvidenceItemNotFound, DerivedFileNotFound, RangeNotSatisfiable),
        media_type="application/octet-stream",
    )
    @transactional
    async def original(self, request: Request[Any, Any, Any], item_id: UUID, principal: Principal) -> Response[Any]:
        """The original bytes, exactly as uploaded (HTTP Range supported). Legal and admins; logged."""
        item = await items.get_item_or_raise(item_id)
        path = evidence_config().store.local_path(item.sha256)
        if not item.present or path is None:
            raise DerivedFileNotFound(f"the bytes of item {item_id} have not arrived (state {item.state.value})")
        range_header = request.headers.get("range")
        await items.record_views(
            [item], access.who(principal, _address(request)), f"original {range_header or ''}".strip()
        )
        return file_response(path, item.content_type or "application/octet-stream", range_header, item.sha256)

    @get(
        "/evidence/items/{item_id:uuid}/custody",
        guards=[allow(Role.LEGAL, Role.ADMIN)],
        responses=errors(EvidenceItemNotFound),
    )
    @transactional
    async def custody(
        self, request: Request[Any, Any, Any], item_id: UUID, principal: Principal
    ) -> schemas.ItemCustody:
        """The item's hash-chained custody log and its verification (first broken link named)."""
        report = await items.verify_item_chain(item_id)
        links = await items.list_custody([item_id])
        item = await items.get_item_or_raise(item_id)
        await items.record_views([item], access.who(principal, _address(request)), "custody")
        entries = [
            schemas.CustodyEntry(**{k: v for k, v in link.as_json().items() if k != "item_id"}) for link in links
        ]
        return schemas.ItemCustody(item_id=item_id, links=entries, verification=verification(report))

    @get(
        "/evidence/items/{item_id:uuid}/custody/verification",
        guards=[allow(Role.LEGAL, Role.ADMIN)],
        responses=errors(EvidenceItemNotFound),
    )
    @transactional
    async def verify_custody(
        self, request: Request[Any, Any, Any], item_id: UUID, principal: Principal
    ) -> schemas.ChainVerification:
        """Verify the item's custody chain: valid, its length and head hash, or the first broken link."""
        report = await items.verify_item_chain(item_id)
        item = await items.get_item_or_raise(item_id)
        await items.record_views([item], access.who(principal, _address(request)), "custody verification")
        return verification(report)
