"""Wire schemas of quality control."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

# Years 1900-2999: a month the calendar arithmetic can always step past (year 0 and 9999-12 cannot).
Month = Annotated[str, msgspec.Meta(pattern=r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$")]


class SampleRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Draw the QC sample of a month (YYYY-MM). Drawing again tops up, never duplicates."""

    month: Month


class SampleResult(msgspec.Struct):
    """How many visits were drawn now, and how many the month's sample holds."""

    month: str
    drawn: int
    total_sampled: int
    completed_visits: int


class Review(msgspec.Struct):
    """A QC review of one visit."""

    id: UUID
    visit_id: UUID
    collector_id: UUID
    team_id: UUID | None
    month: str
    state: str
    reviewer_id: UUID | None
    comment: str
    sampled_at: datetime
    reviewed_at: datetime | None


class ReviewUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """A supervisor's verdict."""

    state: Literal["approved", "has_issues", "rejected"]
    comment: Annotated[str, msgspec.Meta(max_length=4000)] = ""
