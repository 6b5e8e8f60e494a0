"""The job outbox."""

from __future__ import annotations

from piccolo.columns import JSON, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Job(Table, tablename="job"):
    """One deferred job: its name, its arguments (ids only) and how far it got."""

    id = Serial(primary_key=True)
    name = Varchar(length=100)
    args = JSON(default="[]")
    state = Varchar(length=16, default="pending", index=True)  # pending | running | done | failed
    attempts = Integer(default=0)
    last_error = Text(default="")
    run_after = Timestamptz(default=TimestamptzNow())
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
