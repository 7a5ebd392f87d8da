"""Change notices: the members invited to an open round hear when its match time moves or it is
cancelled.

A notice is a message row made in the transaction of the change (``update``, ``cancel``) and
delivered by the next ``run-due`` like any other, exactly once. Its text is built when it is
sent, from the round as it is then. So a member never has two notices waiting: while one is
still pending, a further change adds none (that one will tell the latest); once it went out, or
is going out, the next change adds a notice of its own, with the next serial.

Invited means an opt-in that went out (sent, or being sent): an opt-in still waiting will show
the new time itself, and a cancelled round's waiting opt-ins are dropped. Members who left since,
or who are paused that day, get nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import insert
from sqlmodel import Session, select

from sessionctl.domain.times import load_zone, to_zone
from sessionctl.services import membership
from sessionctl.store.models import Message, Program, Round


class Silence(StrEnum):
    """Why an open round's change sends no notice."""

    QUIET = "quiet"  # --quiet
    NOW = "now"  # --match now: the round is matched at the next run-due, its emails follow


@dataclass(frozen=True)
class Notices:
    """What a change of one open round sends: ``count`` members will get a notice, or none
    for the reason ``silence``."""

    round_id: int
    count: int
    silence: Silence | None = None


def after_change(s: Session, r: Round, *, now: datetime, silence: Silence | None = None) -> Notices:
    """Queue the notices of a change to the open round ``r`` (moved or cancelled), in the
    caller's transaction, which holds the round's row lock; none with a ``silence``."""
    assert r.id is not None
    if silence is not None:
        return Notices(r.id, 0, silence)
    # The opt-ins still waiting are locked first: a run's claim skips them until this change
    # commits, so they are built showing it; one a run claimed meanwhile is waited for, then
    # read below as being sent, and its member gets a notice.
    s.exec(
        select(Message.id)
        .where(Message.round_id == r.id, Message.kind == "opt_in", Message.status == "pending")
        .with_for_update()
    ).all()
    today = to_zone(now, load_zone(r.timezone)).date()
    invited = _invited(s, r.id, today=today)
    # Locked, so that a run claims none of them before this change commits: a pending notice
    # is then sure to be built after it, showing the round as it is now.
    earlier = s.exec(
        select(Message.member_id, Message.serial, Message.status)
        .where(Message.round_id == r.id, Message.kind == "notice")
        .with_for_update()
    ).all()
    waiting = {member for member, _, status in earlier if status == "pending"}
    serials: dict[int, int] = {}
    for member, serial, _ in earlier:
        serials[member] = max(serial, serials.get(member, -1))
    program = s.get(Program, r.program_id)
    assert program is not None
    from sessionctl.delivery.outbox import pending_row

    rows = [
        pending_row(
            round_id=r.id,
            member_id=member,
            kind="notice",
            sender=program.sender,
            now=now,
            serial=serials.get(member, -1) + 1,
        )
        for member in invited
        if member not in waiting
    ]
    if rows:
        s.exec(insert(Message), params=rows)  # type: ignore[call-overload]
    return Notices(r.id, len(invited))


def _invited(s: Session, round_id: int, *, today: date) -> list[int]:
    """The members whose opt-in of the round went out, still in the program and not paused
    ``today`` (a pause ends on its date)."""
    return list(s.exec(membership.reached(round_id, on=today)))
