"""An admin pauses a member until a date, or resumes them; a pause ends on its date by itself.

The rule: a member paused until a date gets no opt-in from, and is not matched in, a round that
opens before that date (its local opt-in day, or its match day without an opt-in). Answers and
replies pause through ``membership.pause`` too; the admin's pause, like theirs, turns the
member's answer to the open rounds into a skip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists
from sqlmodel import Session, col, select

from sessionctl.domain.rounds import Status
from sessionctl.domain.when import parse_date
from sessionctl.errors import InputError, naming
from sessionctl.services import membership
from sessionctl.services.members import (
    MemberDetail,
    existing_member,
    local_today,
    member_detail,
    pause_runs,
)
from sessionctl.services.programs import get_program
from sessionctl.store.dml import upsert
from sessionctl.store.engine import Database
from sessionctl.store.models import Member, Message, Program, Response, Round


@dataclass(frozen=True)
class Paused:
    member: MemberDetail
    until: date  # the first day rounds invite them again
    was: date | None  # the end of the pause this one replaced
    skipped: list[int]  # open rounds whose answer of theirs is now a skip


@dataclass(frozen=True)
class Resumed:
    member: MemberDetail
    was: date | None  # the end of the pause that was cleared; None: they were not paused
    invited_late: list[int]  # open rounds that send them their opt-in at the next run-due


def pause_member(db: Database, program: str, email: str, *, until: str, now: datetime) -> Paused:
    """Pause an active member until the date ``until`` reads as (after today in the program's
    zone); a paused member's date moves. Their answer to the open rounds becomes a skip."""
    with db.session(write=True) as s:
        prog = get_program(s, program, lock=True)
        member = _active(s, prog, email, doing="pausing")
        today = local_today(prog, now)
        with naming("--until"):
            day = parse_date(until, today=today, upcoming=True)
        if day <= today:
            raise InputError(
                f"--until: {day.isoformat()} is not after today ({today.isoformat()} in "
                f"{prog.timezone}): give the first day {member.email} is invited again"
            )
        was = member.paused_until if pause_runs(member.paused_until, today=today) else None
        membership.pause(s, member, until=day)
        skipped = _skip_open_rounds(s, prog, member, now=now)
        return Paused(member_detail(s, prog, member, now=now), day, was, skipped)


def resume_member(db: Database, program: str, email: str, *, now: datetime) -> Resumed:
    """End an active member's pause now; a member who is not paused stays as they are."""
    with db.session(write=True) as s:
        prog = get_program(s, program, lock=True)
        member = _active(s, prog, email, doing="resuming")
        was = member.paused_until
        if not pause_runs(was, today=local_today(prog, now)):
            return Resumed(member_detail(s, prog, member, now=now), None, [])
        member.paused_until = None
        s.add(member)
        s.flush()
        late = _open_without_invitation(s, prog, member, now=now)
        return Resumed(member_detail(s, prog, member, now=now), was, late)


def _active(s: Session, prog: Program, email: str, *, doing: str) -> Member:
    member = existing_member(s, prog, email)
    if not member.active:
        raise InputError(
            f"{member.email} was removed from {prog.name}: bring them back with "
            f"'sessionctl member add {prog.name} {member.email}' before {doing}"
        )
    return member


def _skip_open_rounds(s: Session, prog: Program, member: Member, *, now: datetime) -> list[int]:
    """Record a skip for the member in each open round they were invited to that still takes
    answers. The rounds are locked first, as answers lock them, so that a run matching one
    waits for the skip or comes before it."""
    open_rounds = [
        i
        for i in s.exec(
            select(Round.id)
            .where(Round.program_id == prog.id, Round.status == Status.OPEN)
            .where(col(Round.match_at) > now)
            .order_by(col(Round.id))
            .with_for_update()
        )
        if i is not None
    ]
    if not open_rounds:
        return []
    invited = s.exec(
        select(Message.round_id)
        .where(Message.member_id == member.id, Message.kind == "opt_in")
        .where(col(Message.round_id).in_(open_rounds))
        .distinct()
    ).all()
    table = Response.__table__  # type: ignore[attr-defined]
    for round_id in sorted(invited):
        row = {"round_id": round_id, "member_id": member.id, "answer": False, "answered_at": now}
        upsert(s, table, row, keys=("round_id", "member_id"))
    return sorted(invited)


def _open_without_invitation(
    s: Session, prog: Program, member: Member, *, now: datetime
) -> list[int]:
    """Open rounds taking answers that have no opt-in for the member: late joiners' rounds
    (none in an archived program: run-due leaves its rounds alone)."""
    if prog.archived:
        return []
    invited = exists().where(
        col(Message.round_id) == Round.id,
        col(Message.member_id) == member.id,
        col(Message.kind) == "opt_in",
    )
    rounds = s.exec(
        select(Round.id)
        .where(Round.program_id == prog.id, Round.status == Status.OPEN)
        .where(col(Round.opt_in_at).is_not(None), col(Round.match_at) > now, ~invited)
        .order_by(col(Round.id))
    )
    return [i for i in rounds if i is not None]
