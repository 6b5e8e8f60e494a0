"""Outcome records, tracked promises and repayment agreements."""

from __future__ import annotations

from piccolo.columns import JSON, UUID, Date, ForeignKey, Numeric, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from api.cases.tables import Case, Visit
from api.people.tables import User


class VisitOutcome(Table, tablename="visit_outcome"):
    """An outcome recorded on a visit. Kept forever; a later decision marks it, never deletes it.

    state: accepted | pending_confirmation (DIS/DEC) | confirmed | rejected | superseded
    """

    id = UUID(primary_key=True)
    visit = ForeignKey(references=Visit, on_delete=OnDelete.restrict, index=True)
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    code = Varchar(length=4, index=True)
    details = JSON(default="{}")
    state = Varchar(length=24, default="accepted")
    recorded_at = Timestamptz(default=TimestamptzNow())
    device_time = Timestamptz(null=True, default=None)
    recorded_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    device = UUID(null=True, default=None)
    decided_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    decided_at = Timestamptz(null=True, default=None)


class Promise(Table, tablename="promise"):
    """A promise to pay, tracked until its date: kept, or broken (which raises a new visit)."""

    id = UUID(primary_key=True)
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    visit = ForeignKey(references=Visit, on_delete=OnDelete.restrict)
    outcome = ForeignKey(references=VisitOutcome, on_delete=OnDelete.restrict)
    due_date = Date(index=True)
    amount = Numeric(digits=(18, 2))
    currency = Varchar(length=3)
    status = Varchar(length=12, index=True, default="open")  # open | kept | broken | superseded
    created_at = Timestamptz(default=TimestamptzNow())
    resolved_at = Timestamptz(null=True, default=None)


class Agreement(Table, tablename="agreement"):
    """A signed repayment plan; above the collector's authority it waits for approval.

    status: approved | pending_approval | rejected
    """

    id = UUID(primary_key=True)
    case = ForeignKey(references=Case, on_delete=OnDelete.restrict, index=True)
    visit = ForeignKey(references=Visit, on_delete=OnDelete.restrict)
    outcome = ForeignKey(references=VisitOutcome, on_delete=OnDelete.restrict)
    amount = Numeric(digits=(18, 2))
    currency = Varchar(length=3)
    instalments = JSON(default="[]")
    payment_method = Varchar(length=80)
    terms = JSON(default="{}")
    required_tier = Varchar(length=40)
    status = Varchar(length=20, index=True)
    signature_evidence = UUID(null=True, default=None)
    document_evidence = UUID(null=True, default=None)
    created_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_by = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    decided_at = Timestamptz(null=True, default=None)
    decision_comment = Varchar(length=2000, default="")
