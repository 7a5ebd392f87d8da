"""The tables as plain SQLAlchemy Core sees them, for the read-only views (``list``,
``planning``, ``program list`` and ``program show``).

Importing the SQLModel classes of ``store.models`` builds a pydantic model and an ORM mapper
per table, which costs more than reading and showing a thousand rounds; loading ORM objects
costs as much again. The views select plain rows from these lightweight tables instead. Each
names only the columns the views read; a test keeps every one of them equal, in name and
type, to its column in ``store.models``.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.sql import column, table

from sessionctl.store.types import UTCDateTime

program = table(
    "program",
    column("id", Integer),
    column("name", String),
    column("title", String),
    column("timezone", String),
    column("opt_in", Boolean),
    column("group_size", Integer),
    column("sender", String),
    column("link_base", String),
    column("grace_hours", Integer),
    column("lookback", Integer),
    column("reply_to", String),
    column("bounce_limit", Integer),
    column("language", String),
    column("icebreakers", Text),
    column("archived", Boolean),
    column("reminder_hours", Integer),
    column("reminder_below", Integer),
)

series = table(
    "series",
    column("id", Integer),
    column("repeat", String),
)

# The columns of a round that views read (each query names its own, in its own order).
round_ = table(
    "round",
    column("id", Integer),
    column("number", Integer),
    column("program_id", Integer),
    column("series_id", Integer),
    column("series_index", Integer),
    column("status", String),
    column("timezone", String),
    column("opt_in_at", UTCDateTime()),
    column("match_at", UTCDateTime()),
    column("opened_at", UTCDateTime()),
    column("matched_at", UTCDateTime()),
    column("color", String),
)

member = table(
    "member",
    column("id", Integer),
    column("program_id", Integer),
    column("active", Boolean),
)

message = table(
    "message",
    column("round_id", Integer),
    column("member_id", Integer),
    column("kind", String),
    column("status", String),
)

response = table(
    "response",
    column("round_id", Integer),
    column("member_id", Integer),
    column("answer", Boolean),
)
