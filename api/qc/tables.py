"""QC reviews."""

from __future__ import annotations

from piccolo.columns import UUID, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from api.cases.tables import Visit
from api.people.tables import Team, User


class QcReview(Table, tablename="qc_review"):
    """A completed visit drawn for review. state: pending | approved | has_issues | rejected"""

    id = UUID(primary_key=True)
    visit = ForeignKey(references=Visit, on_delete=OnDelete.restrict, unique=True)
    collector = ForeignKey(references=User, on_delete=OnDelete.restrict, index=True)
    team = ForeignKey(references=Team, on_delete=OnDelete.restrict, null=True, index=True)
    month = Varchar(length=7, index=True)  # YYYY-MM of the visit's completion
    state = Varchar(length=12, default="pending", index=True)
    reviewer = ForeignKey(references=User, on_delete=OnDelete.restrict, null=True)
    comment = Text(default="")
    sampled_at = Timestamptz(default=TimestamptzNow())
    reviewed_at = Timestamptz(null=True, default=None)
