"""Reminders, a run-due step: before the match, one reminder to each invited member who has
not answered, when fewer joined than the program's usual share.

A round gets its reminders once, in one transaction that holds the round's row lock (as
matching does), so concurrent runs, on one host or several, make them once: the run that comes
second finds them made. The rule of when and below what share is ``domain.reminders``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, insert
from sqlmodel import Session, col, select

from sessionctl.domain import reminders as rule
from sessionctl.domain.rounds import Status
from sessionctl.domain.times import load_zone, to_zone
from sessionctl.services import membership
from sessionctl.services.rounds import round_figures
from sessionctl.store.engine import Database
from sessionctl.store.models import Message, Program, Response, Round


@dataclass(frozen=True)
class Reminded:
    """The reminders made (or, in a dry run, that would be) for one round."""

    round_id: int
    program: str
    count: int


def queue(db: Database, *, now: datetime) -> list[Reminded]:
    """Make the reminders that are due now, round by round, each in its own transaction."""
    with db.session() as s:
        due = [(r.id, p.name) for r, p in _candidates(s, now=now)]
    made: list[Reminded] = []
    for round_id, program in due:
        assert round_id is not None
        with db.session(write=True) as s:
            count = _remind(s, round_id, now=now)
        if count:
            made.append(Reminded(round_id, program, count))
    return made


def preview(s: Session, *, now: datetime) -> list[Reminded]:
    """What ``queue`` would make now, changing nothing."""
    found = []
    for r, p in _candidates(s, now=now):
        assert r.id is not None
        count = len(_to_remind(s, r, p, now=now))
        if count:
            found.append(Reminded(r.id, p.name, count))
    return found


def _candidates(s: Session, *, now: datetime) -> list[tuple[Round, Program]]:
    """Open rounds of active programs with reminders on, whose reminder time has come and
    which have none yet. Open rounds are few: the time rule is applied here, not in SQL."""
    reminded = exists().where(col(Message.round_id) == Round.id, col(Message.kind) == "reminder")
    rows = s.exec(
        select(Round, Program)
        .join(Program, col(Round.program_id) == Program.id)
        .where(Round.status == Status.OPEN, col(Round.match_at) > now)
        .where(~col(Program.archived), col(Program.reminder_hours) > 0)
        .where(col(Round.opened_at).is_not(None), ~reminded)
        .order_by(col(Round.match_at), col(Round.id))
    ).all()
    return [(r, p) for r, p in rows if _time_has_come(r, p, now=now)]


def _time_has_come(r: Round, p: Program, *, now: datetime) -> bool:
    assert r.opened_at is not None
    at = rule.reminder_at(match_at=r.match_at, opened_at=r.opened_at, hours=p.reminder_hours)
    return at is not None and at <= now < r.match_at


def _remind(s: Session, round_id: int, *, now: datetime) -> int:
    """Make the round's reminders unless it changed meanwhile or another run made them."""
    r = s.get(Round, round_id, with_for_update=True)
    if r is None or r.status != Status.OPEN:
        return 0
    p = s.get(Program, r.program_id)
    assert p is not None and r.id is not None
    made = s.exec(select(Message.id).where(Message.round_id == r.id, Message.kind == "reminder"))
    if made.first() is not None or not _time_has_come(r, p, now=now):
        return 0
    members = _to_remind(s, r, p, now=now)
    if members:
        from sessionctl.delivery.outbox import pending_row

        rows = [
            pending_row(round_id=r.id, member_id=m, kind="reminder", sender=p.sender, now=now)
            for m in members
        ]
        s.exec(insert(Message), params=rows)  # type: ignore[call-overload]
    return len(members)


def _to_remind(s: Session, r: Round, p: Program, *, now: datetime) -> list[int]:
    """The members to remind, when fewer joined than the program's threshold: those whose
    opt-in went out, still in the program, not paused today, who have not answered."""
    assert r.id is not None
    figures = round_figures(s.connection(), [r.id]).get(r.id)
    if figures is None:
        return []
    joined = rule.share(figures.opted_in, figures.invited)
    if joined >= rule.threshold(p.reminder_below, _past_shares(s, p)):
        return []
    today = to_zone(now, load_zone(r.timezone)).date()
    answered = exists().where(
        col(Response.round_id) == r.id, col(Response.member_id) == Message.member_id
    )
    return list(s.exec(membership.reached(r.id, on=today).where(~answered)))


def _past_shares(s: Session, p: Program) -> list[float]:
    """The join share of each of the program's last matched rounds that invited someone."""
    recent = list(
        s.exec(
            select(Round.id)
            .where(Round.program_id == p.id, Round.status == Status.DONE)
            .where(col(Round.opt_in_at).is_not(None))
            .order_by(col(Round.match_at).desc(), col(Round.id).desc())
            .limit(rule.HISTORY)
        )
    )
    figures = round_figures(s.connection(), [i for i in recent if i is not None])
    return [rule.share(f.opted_in, f.invited) for f in figures.values() if f.invited]
