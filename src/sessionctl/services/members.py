"""Members: add, import (all or nothing), list, remove (deactivate; history stays)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from sessionctl.domain import validation
from sessionctl.domain.csvtext import numbered_rows
from sessionctl.errors import InputError, NotFoundError
from sessionctl.services.programs import get_program
from sessionctl.store.engine import Database
from sessionctl.store.models import Member


@dataclass(frozen=True)
class MemberInfo:
    email: str
    name: str
    team: str | None
    active: bool

    def to_json(self) -> dict[str, Any]:
        return {"email": self.email, "name": self.name, "team": self.team, "active": self.active}


@dataclass(frozen=True)
class MemberRow:
    """One validated member to write: from ``member add`` or one CSV line."""

    email: str
    name: str
    team: str | None
    line: int = 0


@dataclass(frozen=True)
class ImportReport:
    added: int
    updated: int
    unchanged: int

    def to_json(self) -> dict[str, int]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged}


def add_member(db: Database, program: str, row: MemberRow, *, now: datetime) -> MemberInfo:
    row = _validated(row)
    with db.session(write=True) as s:
        prog = get_program(s, program, lock=True)
        existing = _find(s, prog.id, row.email)
        if existing is not None and existing.active:
            raise InputError(
                f"{existing.email} is already a member of {program}: "
                "use 'sessionctl member import' to change names or teams"
            )
        member = _upsert(s, prog.id, existing, row, now=now)
        return _info(member)


def import_members(db: Database, program: str, text: str, *, now: datetime) -> ImportReport:
    """Upsert every row of a CSV ``email,name[,team]``; one bad row imports nothing."""
    rows = parse_csv(text)
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    with db.session(write=True) as s:
        prog = get_program(s, program, lock=True)
        existing = {
            m.email_key: m for m in s.exec(select(Member).where(Member.program_id == prog.id))
        }
        for row in rows:
            member = existing.get(validation.email_key(row.email))
            outcome = _compare(member, row)
            if outcome != "unchanged":
                _upsert(s, prog.id, member, row, now=now)
            counts[outcome] += 1
    return ImportReport(**counts)


def list_members(db: Database, program: str, *, include_inactive: bool) -> list[MemberInfo]:
    with db.session() as s:
        prog = get_program(s, program)
        query = select(Member).where(Member.program_id == prog.id)
        if not include_inactive:
            query = query.where(col(Member.active))
        return [_info(m) for m in s.exec(query.order_by(col(Member.email_key)))]


def remove_member(db: Database, program: str, email: str, *, now: datetime) -> MemberInfo:
    with db.session(write=True) as s:
        prog = get_program(s, program, lock=True)
        member = _find(s, prog.id, email)
        if member is None or not member.active:
            raise NotFoundError(
                f"{email} is not an active member of {program}: "
                f"see 'sessionctl member list {program}'"
            )
        member.active = False
        member.removed_at = now
        s.add(member)
        return _info(member)


def parse_csv(text: str) -> list[MemberRow]:
    """Validate a whole member CSV; raise on the first bad line, naming it."""
    lines = numbered_rows(text)
    header = [h.strip().lower() for h in next(lines, (1, []))[1]]
    if header[:2] != ["email", "name"] or len(header) > 3 or header[2:] not in ([], ["team"]):
        raise InputError("line 1: the header must be 'email,name' or 'email,name,team'")
    seen: dict[str, int] = {}
    return [_csv_row(fields, line=line, width=len(header), seen=seen) for line, fields in lines]


def _csv_row(fields: list[str], *, line: int, width: int, seen: dict[str, int]) -> MemberRow:
    if len(fields) > width or len(fields) < 2:
        columns = "email,name,team" if width == 3 else "email,name"
        raise InputError(f"line {line}: expected {width} fields ({columns}), got {len(fields)}")
    try:
        row = _validated(
            MemberRow(
                fields[0], fields[1], fields[2] if width == 3 and len(fields) == 3 else None, line
            )
        )
    except InputError as err:
        raise InputError(f"line {line}: {err}") from None
    key = validation.email_key(row.email)
    if key in seen:
        raise InputError(f"line {line}: {row.email} already appears on line {seen[key]}")
    seen[key] = line
    return row


def _validated(row: MemberRow) -> MemberRow:
    """The one check of a member's fields, for every path that writes them."""
    email = validation.email(row.email)
    name = validation.single_line(row.name.strip(), what="name")
    team = validation.single_line((row.team or "").strip(), what="team") or None
    return MemberRow(email, name, team, row.line)


def _compare(member: Member | None, row: MemberRow) -> str:
    if member is None:
        return "added"
    same = (
        member.active
        and member.name == row.name
        and member.team == row.team
        and member.email == row.email
    )
    return "unchanged" if same else "updated"


def _upsert(
    s: Session, program_id: int | None, member: Member | None, row: MemberRow, *, now: datetime
) -> Member:
    assert program_id is not None
    if member is None:
        member = Member(
            program_id=program_id,
            email_key=validation.email_key(row.email),
            created_at=now,
            email=row.email,
        )
    member.email = row.email
    member.name = row.name
    member.team = row.team
    member.active = True
    member.removed_at = None
    s.add(member)
    s.flush()
    return member


def _find(s: Session, program_id: int | None, email: str) -> Member | None:
    key = validation.email_key(email)
    return s.exec(
        select(Member).where(Member.program_id == program_id, Member.email_key == key)
    ).first()


def _info(m: Member) -> MemberInfo:
    return MemberInfo(email=m.email, name=m.name, team=m.team, active=m.active)
