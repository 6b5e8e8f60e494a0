"""The mutation types a device may push, each with its handler (registered with the sync engine)."""

from __future__ import annotations

from api.sync.contact_handlers import update_contact
from api.sync.evidence_handlers import declare_evidence
from api.sync.visit_handlers import add_note, check_in, check_out, record_outcome, sign_agreement
from sync.push import Handlers

HANDLERS = Handlers()
HANDLERS.register("visit.check_in", check_in)
HANDLERS.register("visit.check_out", check_out)
HANDLERS.register("visit.add_note", add_note)
HANDLERS.register("visit.record_outcome", record_outcome)
HANDLERS.register("visit.sign_agreement", sign_agreement)
HANDLERS.register("case.update_contact", update_contact)
HANDLERS.register("evidence.declare", declare_evidence)
