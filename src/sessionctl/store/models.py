"""The tables. Datetimes are UTC instants; a round's zone name is stored beside its instants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
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
