"""The core records: cases, addresses, visits, the visit timeline, flags and the case-status feed."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    BigSerial,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    Numeric,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from api.people.tables import Team, User


class Case(Table, tablename="collection_case"):
    """One debt under collection, as the upstream system describes it plus what the field learned."""

    id = UUID(primary_key=True)
    source = Varchar(length=40)
    external_ref = Varchar(length=80)
    source_ref = Varchar(length=130, unique=True)  # "<source>:<external_ref>", the upsert key
    debtor_name = Varchar(length=200)
    national_id_last4 = Varchar(length=4, default="")  # the full id is never stored
    phones = JSON(default="[]")
    amount_owed = Numeric(digits=(18, 2))
    currency = Varchar(length=3)
    days_past_due = Integer(default=0)
    stage = Varchar(length=10, index=True)
    status = Varchar(length=24, index=True, default="open")
    contact_state = Varchar(length=12, default="reachable")
    team = ForeignKey(references=Team, on_delete=OnDelete.restrict, null=True, index=True)
    last_contact_at = Timestamptz(null=True, default=None)
    last_payment_at = Timestamptz(null=True, default=None)
    refusals = Integer(default=0)
    failed_attempts = Integer(default=0)
    pending_confirmation = Varchar(length=3, default="")  # DIS | DEC waiting for a supervisor
    legal_flag = Boolean(default=False)
    preferred_phone = Varchar(length=40, default="")
    contact_versions = JSON(default="{}")  # contact field -> case version that last changed it (merge per field)
    import_digest = Varchar(length=64, default="")  # of the last imported row: re-imports change nothing
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Address(Table, tablename="address"):
    """A place tied to a case. An address found invalid is never dispatched again."""

    id = UUID(primary_key=True)
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=12)  # home | work | registered | other
    text = Varchar(length=500)
    normalised = Varchar(length=500, index=True)
    lat = DoublePrecision(null=True, default=None)
    lon = DoublePrecision(null=True, default=None)
    timezone = Varchar(length=64, default="")
    valid = Boolean(default=True)
    invalid_reason = Varchar(length=500, default="")
    invalidated_at = Timestamptz(null=True, default=None)
    origin = Varchar(length=20, default="import")  # import | field | dispatcher
    created_at = Timestamptz(default=TimestamptzNow())


class Visit(Table, tablename="visit"):
    """One trip to one address for one case."""

    id = UUID(primary_key=True)
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    address = ForeignKey(references=Address, on_delete=OnDelete.restrict, index=True)
    team = ForeignKey(references=Team, on_delete=OnDelete.restrict, null=True, index=True)
    type = Varchar(length=10)  # pressure | tracing
    status = Varchar(length=12, index=True, default="requested")
    origin = Varchar(length=40, default="dispatcher")  # who or which rule asked for it
    requested_at = Timestamptz(default=TimestamptzNow())
    due_date = Date(index=True)
    assigned_to = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True, index=True)
    partner = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    priority = Integer(default=0)
    attempt = Integer(default=1)
    outcome = Varchar(length=4, null=True, default=None)
    outcome_at = Timestamptz(null=True, default=None)
    checked_in_at = Timestamptz(null=True, default=None)
    completed_at = Timestamptz(null=True, default=None)
    cancel_reason = Varchar(length=500, default="")
    appointment_start = Timestamptz(null=True, default=None)
    appointment_end = Timestamptz(null=True, default=None)
    plan_id = UUID(null=True, default=None)
    stop_order = Integer(null=True, default=None)
    eta = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class VisitEvent(Table, tablename="visit_event"):
    """The append-only visit timeline: every change, who made it, from which device, when."""

    id = BigSerial(primary_key=True)
    visit = ForeignKey(references=Visit, on_delete=OnDelete.restrict, index=True)
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    at = Timestamptz(default=TimestamptzNow())
    kind = Varchar(length=40)
    actor = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    device = UUID(null=True, default=None)
    data = JSON(default="{}")


class VisitFlag(Table, tablename="visit_flag"):
    """A compliance or follow-up flag raised on a visit (outside hours, geofence, legal escalation...)."""

    id = UUID(primary_key=True)
    visit = ForeignKey(references=Visit, on_delete=OnDelete.restrict, index=True)
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=40, index=True)
    detail = Text(default="")
    raised_at = Timestamptz(default=TimestamptzNow())
    resolved_at = Timestamptz(null=True, default=None)


class CaseEvent(Table, tablename="case_event"):
    """A case status change, in the feed the upstream system reads (and webhooks deliver).

    ``txid`` is stamped by a PostgreSQL trigger: see ``sync.feed`` for why the feed needs it.
    """

    id = BigSerial(primary_key=True)
    txid = BigInt(default=0)
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    source_ref = Varchar(length=130)
    at = Timestamptz(default=TimestamptzNow())
    from_status = Varchar(length=24)
    to_status = Varchar(length=24)
    reason = Varchar(length=80)
    visit = UUID(null=True, default=None)
    data = JSON(default="{}")
