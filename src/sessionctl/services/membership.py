"""A member's own moves: leaving a program (an unsubscribe, repeated bounces) and pausing.

The admin's ``member remove`` and these share one rule: leaving takes the member out of the
rounds not matched yet (their answer no longer counts, their unsent invitation is not sent)
and keeps the rounds already matched as they were.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement, delete, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from sessionctl.domain.rounds import Status
from sessionctl.store.models import Member, Message, Program, Response, Round


def deactivate(
    s: Session,
    member: Member,
    program: Program,
    *,
    now: datetime,
    reason: str | None = None,
    reported: bool = False,
) -> bool:
    """Take ``member`` out of ``program``; False when they were out already. ``reason`` says
    why they left by themselves (None: the admin removed them); unless ``reported`` (the
    caller says so itself), the next run says it. The caller holds the program's row lock."""
    if not member.active:
        return False
    # The open rounds are locked, as answers and matching lock them: an answer or a match
    # either comes first and is undone here, or waits and sees the member gone.
    open_rounds = [
        i
        for i in s.exec(
            select(Round.id)
            .where(Round.program_id == program.id, Round.status == Status.OPEN)
            .order_by(col(Round.id))
            .with_for_update()
        )
        if i is not None
    ]
    member.active = False
    member.removed_at = now
    member.left_reason = reason
    member.left_reported_at = now if reported or reason is None else None
    s.add(member)
    gone = f"left {program.name} ({reason})" if reason else f"was removed from {program.name}"
    if open_rounds:  # their answers to rounds still to be matched are withdrawn
        s.execute(
            delete(Response).where(
                col(Response.member_id) == member.id, col(Response.round_id).in_(open_rounds)
            )
        )
    # Their waiting opt-ins of the open rounds, and their waiting notices and reminders of any
    # round (a cancelled one's notice too), stop now, not at the next run's drop step: a run
    # delivering meanwhile would claim them next.
    invitation = (col(Message.kind) == "opt_in") & col(Message.round_id).in_(open_rounds)
    s.execute(
        update(Message)
        .where(col(Message.member_id) == member.id, col(Message.status) == "pending")
        .where(invitation | col(Message.kind).in_(["notice", "reminder"]))
        .values(status="failed", last_error=f"not sent: {member.email} {gone}")
    )
    return True


def report_leaves(s: Session, *, now: datetime) -> list[tuple[str, str, str]]:
    """(email, program, reason) of each member who left by themselves since the last run said
    so (on the answer page, by the one-click link), now marked said: concurrent runs each say
    a different share, never one twice."""
    rows = s.exec(
        select(Member, Program.name)
        .join(Program, col(Member.program_id) == Program.id)
        .where(~col(Member.active), col(Member.left_reason).is_not(None))
        .where(col(Member.left_reported_at).is_(None))
        .order_by(col(Program.name), col(Member.email_key))
        .with_for_update(of=Member, skip_locked=True)  # type: ignore[arg-type]
    ).all()
    for member, _ in rows:
        member.left_reported_at = now
        s.add(member)
    return [(m.email, name, m.left_reason or "") for m, name in rows]


def pause(s: Session, member: Member, *, until: date) -> None:
    """Invite ``member`` to no round that opens before ``until``; they are back on that day."""
    member.paused_until = until
    s.add(member)


def back_by(on: date) -> ColumnElement[bool]:
    """Not paused, or paused until ``on`` or before: a pause ends on its date."""
    return col(Member.paused_until).is_(None) | (col(Member.paused_until) <= on)


def reached(round_id: int, *, on: date) -> SelectOfScalar[int]:
    """Ids of the members the round's opt-in went out to (sent, or being sent by a run), still
    in the program and not paused ``on``: who hears of the round again (notices, reminders)."""
    return (
        select(Message.member_id)
        .join(Member, col(Message.member_id) == Member.id)
        .where(Message.round_id == round_id, Message.kind == "opt_in")
        .where(col(Message.status).in_(["sent", "sending"]), col(Member.active), back_by(on))
        .order_by(col(Message.member_id))
    )
