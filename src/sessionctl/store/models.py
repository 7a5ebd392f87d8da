"""The tables. Datetimes are UTC instants; a round's zone name is stored beside its instants."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from sessionctl.store.types import UTCDateTime


def _utc_column(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Program(SQLModel, table=True):
    __tablename__ = "program"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=63)
    title: str
    timezone: str
    opt_in: bool = True
    group_size: int = 2
    sender: str | None = None
    link_base: str | None = None
    created_at: datetime = Field(sa_column=_utc_column())
    grace_hours: int = 24
    lookback: int | None = None  # how many past rounds matching counts; None: all
    # JSON {kind: [subject, body]} replacing the default templates
    templates: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reply_to: str | None = None  # where members reply; read back by the inbox
    bounce_limit: int = 3  # consecutive hard bounces that deactivate a member
    language: str = "en"  # of the default templates and of dates in emails
    # The program's conversation starters, one per line; None: the default list
    icebreakers: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Archived: no new rounds and run-due leaves its rounds alone; its data is kept.
    archived: bool = False
    reminder_hours: int = 24  # a reminder this long before the match to who has not answered
    reminder_below: int | None = None  # only when fewer joined (percent); None: the median


class Member(SQLModel, table=True):
    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("program_id", "email_key"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    email: str
    email_key: str  # the email lowercased: members are unique per program case-insensitively
    name: str = ""
    team: str | None = None
    active: bool = True
    created_at: datetime = Field(sa_column=_utc_column())
    removed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    left_reason: str | None = None  # why they left by themselves: unsubscribed, bounced
    paused_until: date | None = None  # the first day a paused member is invited again
    # When a run said so; None while a member who left by themselves is still to be reported.
    left_reported_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class Series(SQLModel, table=True):
    """A recurring schedule. Its rule is kept in local wall time: ``base_*`` are the local
    date-times of round 0 (after an ``update --following``, of an equivalent round 0), so round
    k is ``base + k * interval`` in local dates whatever DST does to the instants."""

    __tablename__ = "series"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    repeat: str
    timezone: str
    base_match: str  # naive local ISO date-time
    base_opt_in: str | None = None
    count: int | None = None
    until: date | None = None
    created_at: datetime = Field(sa_column=_utc_column())
    ended_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class Round(SQLModel, table=True):
    """A round. ``id`` is global (commands, Message-IDs, tokens); ``number`` counts the rounds of
    its program from 1, in creation order, and is what members read. Numbers are given under
    the program's row lock and never reused; the unique index only guards that rule."""

    __tablename__ = "round"
    __table_args__ = (
        UniqueConstraint("series_id", "series_index"),
        # An index rather than a constraint: SQLite adds one without rebuilding the table.
        Index("ux_round_program_id_number", "program_id", "number", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    number: int
    series_id: int | None = Field(default=None, foreign_key="series.id", index=True)
    series_index: int = 0
    status: str = Field(default="planned", index=True)
    timezone: str
    opt_in_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    match_at: datetime = Field(sa_column=_utc_column(index=True))
    opened_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    matched_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    color: str
    seed: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(sa_column=_utc_column())


class Response(SQLModel, table=True):
    """A member's latest yes/no to a round's opt-in."""

    __tablename__ = "response"
    __table_args__ = (UniqueConstraint("round_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    answer: bool
    answered_at: datetime = Field(sa_column=_utc_column())


class GroupMember(SQLModel, table=True):
    """One participant's place in a round's groups; ``extra`` marks who enlarged a group."""

    __tablename__ = "group_member"
    __table_args__ = (UniqueConstraint("round_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    group_no: int
    member_id: int = Field(foreign_key="member.id")
    extra: bool = False
    icebreaker: str | None = None  # the conversation starter the group's match email gave


class Message(SQLModel, table=True):
    """One email per round, member, kind and serial; its row is also the member's invitation.

    ``serial`` is 0 but for the second and later change notices of one round.
    """

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint(
            "round_id", "member_id", "kind", "serial", name="uq_message_round_member_kind_serial"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    kind: str
    status: str = Field(default="pending", index=True)  # pending, sending, sent, failed
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_utc_column())
    last_error: str | None = None
    message_id: str
    claimed_by: str | None = None
    claimed_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    created_at: datetime = Field(sa_column=_utc_column())
    bounced_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    serial: int = 0


class Avoid(SQLModel, table=True):
    """Two members not put in the same group when matching finds a grouping that allows it."""

    __tablename__ = "avoid"
    __table_args__ = (UniqueConstraint("program_id", "member_a", "member_b", name="uq_avoid_pair"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    member_a: int = Field(foreign_key="member.id")  # the smaller member id of the two
    member_b: int = Field(foreign_key="member.id")
    created_at: datetime = Field(sa_column=_utc_column())


class Inbound(SQLModel, table=True):
    """One email read from the inbox, by its own Message-ID: written in the same transaction
    as what it changed, so that it counts once whoever reads it and however often."""

    __tablename__ = "inbound"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(unique=True)
    outcome: str = Field(index=True)  # see services.inbox.Outcome
    program_id: int | None = Field(default=None, foreign_key="program.id")
    round_id: int | None = Field(default=None, foreign_key="round.id")
    member_id: int | None = Field(default=None, foreign_key="member.id")
    sender: str
    subject: str
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    received_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    processed_at: datetime = Field(sa_column=_utc_column())
