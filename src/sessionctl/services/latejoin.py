"""Late joiners: a member added, brought back or resumed while a round is open gets its opt-in.

A step of run-due, after it opens and matches rounds and before it delivers. For each open
round with an opt-in whose match time has not come, every member the round would invite now
(active, and not paused for it: a pause is compared with the round's opening day, so a pause
that ends while the round is open does not make a late joiner) and who has no opt-in message
of it gets one. A member who was invited and removed before their opt-in went out, then
brought back, gets that same message (the same Message-ID), which was never sent.

Exactly once: each round is invited under its row lock, as opening and matching it are, and
the messages are inserted with ``INSERT … ON CONFLICT DO NOTHING`` on the message key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists, update
from sqlmodel import Session, col, select

from sessionctl.delivery import outbox
from sessionctl.domain.rounds import Status
from sessionctl.domain.words import plural
from sessionctl.services.groups import local_day
from sessionctl.services.membership import back_by
from sessionctl.store.dml import insert_missing
from sessionctl.store.engine import Database
from sessionctl.store.models import Member, Message, Program, Round

# What membership.deactivate writes on an invitation it stopped before it went out.
_WITHDRAWN = "not sent: %"
_KEY = ("round_id", "member_id", "kind", "serial")


@dataclass(frozen=True)
class Late:
    """The late opt-in messages of one round: created by a run, or that a dry run would."""

    round_id: int
    program: str
    count: int

    def to_json(self) -> dict[str, int]:
        return {"round": self.round_id, "messages": self.count}

    def line(self, *, dry_run: bool = False) -> str:
        name = f"round {self.round_id} ({self.program})"
        messages = plural(self.count, "opt-in message")
        if dry_run:
            return f"would invite late joiners to {name}: {messages}"
        return f"{name}: {plural(self.count, 'late opt-in message')}"


def invite_late(db: Database, *, now: datetime) -> list[Late]:
    """Create the opt-in messages of every open round's late joiners; what this run created
    (a concurrent run's share is its own to report)."""
    with db.session() as s:
        waiting = [(late.round_id, late.program) for late in find_late(s, now=now)]
    created = []
    for round_id, program in waiting:
        count = _invite(db, round_id, now=now)
        if count:
            created.append(Late(round_id, program, count))
    return created


def find_late(s: Session, *, now: datetime) -> list[Late]:
    """Per open round, how many late opt-in messages it needs now; reads only."""
    found = []
    for r, program in _inviting(s, now=now):
        count = len(_missing(s, r)) + len(_withdrawn(s, r))
        if count:
            found.append(Late(r.id or 0, program, count))
    return found


def _inviting(s: Session, *, now: datetime) -> Sequence[tuple[Round, str]]:
    """Open rounds with an opt-in whose match time has not come, of programs not archived."""
    return s.exec(
        select(Round, Program.name)
        .join(Program, col(Round.program_id) == Program.id)
        .where(Round.status == Status.OPEN, col(Round.opt_in_at).is_not(None))
        .where(col(Round.match_at) > now, ~col(Program.archived))
        .order_by(col(Round.match_at), col(Round.id))
    ).all()


def _invite(db: Database, round_id: int, *, now: datetime) -> int:
    with db.session(write=True) as s:
        # Locked as _open and _match lock it, and as removing a member does: a removal either
        # comes first, or waits and then withdraws what this inserts.
        r = s.get(Round, round_id, with_for_update=True)
        if r is None or r.status != Status.OPEN or r.match_at <= now:
            return 0  # matched, cancelled or moved meanwhile
        program = s.get(Program, r.program_id)
        assert program is not None and r.id is not None
        revived = _revive(s, _withdrawn(s, r), now=now)
        missing = _missing(s, r)
        inserted = 0
        for start in range(0, len(missing), outbox.INSERT_CHUNK):
            rows = [
                outbox.pending_row(
                    round_id=r.id, member_id=m, kind="opt_in", sender=program.sender, now=now
                )
                for m in missing[start : start + outbox.INSERT_CHUNK]
            ]
            inserted += insert_missing(s, Message.__table__, rows, keys=_KEY)  # type: ignore[attr-defined]
        return revived + inserted


def _for_round(r: Round) -> ColumnElement[bool]:
    """Members the round would invite now: active, and not paused on its opening day."""
    opened = r.opened_at or r.opt_in_at
    assert opened is not None
    return (
        (col(Member.program_id) == r.program_id)
        & col(Member.active)
        & back_by(local_day(r, opened))
    )


def _missing(s: Session, r: Round) -> list[int]:
    invited = exists().where(
        col(Message.round_id) == r.id,
        col(Message.member_id) == Member.id,
        col(Message.kind) == "opt_in",
    )
    query = select(Member.id).where(_for_round(r), ~invited).order_by(col(Member.id))
    return [i for i in s.exec(query) if i is not None]


def _withdrawn(s: Session, r: Round) -> list[int]:
    """Ids of the round's opt-in messages stopped before they went out, whose member is back."""
    query = (
        select(Message.id)
        .join(Member, col(Member.id) == Message.member_id)
        .where(Message.round_id == r.id, Message.kind == "opt_in", Message.status == "failed")
        .where(col(Message.sent_at).is_(None), col(Message.last_error).like(_WITHDRAWN))
        .where(_for_round(r))
        .order_by(col(Message.id))
    )
    return [i for i in s.exec(query) if i is not None]


def _revive(s: Session, ids: list[int], *, now: datetime) -> int:
    if not ids:
        return 0
    result = s.execute(
        update(Message)
        .where(col(Message.id).in_(ids), col(Message.status) == "failed")
        .values(status="pending", last_error=None, next_attempt_at=now)
        .returning(col(Message.id))
    )
    return len(result.all())
