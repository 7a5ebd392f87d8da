"""What a member does from their answer page: join or skip a round, pause, leave the program.

The signed token in the link is the member's whole identity here: it names a round and a
member, so every use case starts by verifying it against the stored round and member. A join
or skip link's token answers either way (the member may change their mind on the page); a leave
link's token (the one-click unsubscribe of every email) may pause or leave, never answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from sessionctl.domain.rounds import Status
from sessionctl.domain.times import format_local, load_zone, to_zone
from sessionctl.domain.tokens import Claim, binding, invalid, read, verify
from sessionctl.errors import InputError
from sessionctl.services import membership, responses
from sessionctl.services.rounds import find_round
from sessionctl.store.dml import upsert
from sessionctl.store.engine import Database
from sessionctl.store.models import Member, Program, Response, Round
from sessionctl.store.secret import find_secret

ONE_CLICK = "unsubscribed with the one-click link"
FROM_PAGE = "left from the answer page"
MAX_PAUSE_DAYS = 365


class Refused(InputError):
    """A request from the page that cannot be done; the message is written for the member."""


@dataclass(frozen=True)
class PageFacts:
    """Everything the answer page shows, as the member should read it."""

    program_title: str
    name: str  # the member's name, or their email when they gave none
    email: str
    round_number: int
    match_at: str  # in the round's zone, with weekday and zone: "Wed 2026-06-10 09:00 CEST"
    suggested: bool | None  # the answer the link carries; None for a leave link
    current: bool | None  # the member's recorded answer to this round, if any
    taking_answers: bool  # the round is open and its match time is ahead
    paused_until: date | None
    active: bool
    today: date  # in the round's zone: a pause must end after it
    last_pause_day: date


@dataclass(frozen=True)
class Outcome:
    """What a POST did, for the result page."""

    kind: str  # "join", "skip", "pause" or "leave"
    program_title: str
    round_number: int
    match_at: str
    until: date | None = None  # pause: the first day they are invited again
    skipped_round: bool = False  # pause: their answer to the open round became a skip
    already: bool = False  # leave: they had left (or been removed) before


@dataclass
class _Found:
    claim: Claim
    round: Round
    member: Member
    program: Program


def page_facts(db: Database, token: str, *, now: datetime) -> PageFacts:
    """What the page for ``token`` shows; records nothing. ``TokenError`` for a link that is
    not genuine (a leave link is genuine here too)."""
    with db.session() as s:
        found = _verified(s, token, db=db)
        r, member = found.round, found.member
        answer = s.exec(
            select(Response.answer).where(
                Response.round_id == r.id, Response.member_id == member.id
            )
        ).first()
        today = _today(r, now=now)
        return PageFacts(
            program_title=found.program.title,
            name=member.name or member.email,
            email=member.email,
            round_number=r.number,
            match_at=_match_at(r),
            suggested=None if found.claim.leave else found.claim.answer,
            current=answer,
            taking_answers=_taking_answers(r, now=now),
            paused_until=member.paused_until,
            active=member.active,
            today=today,
            last_pause_day=today + timedelta(days=MAX_PAUSE_DAYS),
        )


def answer(db: Database, token: str, *, choice: bool, now: datetime) -> Outcome:
    """Record join (True) or skip (False) for the token's member and round, whatever the token
    itself suggests. Refused as any answer is: ``AnswersClosedError`` once the round stopped
    taking answers, ``MemberRemovedError`` for a member who left; ``TokenError`` for a leave
    link, which may not answer."""
    with db.session() as s:
        found = _verified(s, token, db=db)
        if found.claim.leave:
            raise invalid()
        email, r = found.member.email, found.round
        outcome = Outcome("join" if choice else "skip", found.program.title, r.number, _match_at(r))
    # One write transaction, which checks the round and the member again under the round's lock.
    responses.respond(db, found.claim.round_id, [responses.Answer(email, choice)], now=now)
    return outcome


def pause(db: Database, token: str, *, until: date, now: datetime) -> Outcome:
    """Invite the member to no round before ``until`` (after today in the round's zone, at most
    a year ahead: else ``Refused``). Their answer to the token's round, if it still takes
    answers, becomes a skip."""
    with db.session(write=True) as s:
        found = _verified(s, token, db=db, lock_round=True)
        r, member = found.round, found.member
        today = _today(r, now=now)
        _check_pause(until, today=today)
        if not member.active:
            raise Refused(f"You are no longer a member of {found.program.title}: nothing to pause.")
        membership.pause(s, member, until=until)
        skipped = _taking_answers(r, now=now)
        if skipped:
            row = {"round_id": r.id, "member_id": member.id, "answer": False, "answered_at": now}
            upsert(s, Response.__table__, row, keys=("round_id", "member_id"))  # type: ignore[attr-defined]
        title = found.program.title
        return Outcome("pause", title, r.number, _match_at(r), until=until, skipped_round=skipped)


def leave(db: Database, token: str, *, now: datetime, how: str) -> Outcome:
    """Take the member out of the token's program, ``how`` saying how they left (``ONE_CLICK``,
    ``FROM_PAGE``). Whatever the round's status: leaving is about the program. Leaving again is
    no error: the outcome says they had left already."""
    with db.session(write=True) as s:
        found = _verified(s, token, db=db, lock_program=True)
        left = membership.deactivate(s, found.member, found.program, now=now, reason=how)
        r = found.round
        return Outcome("leave", found.program.title, r.number, _match_at(r), already=not left)


def _verified(
    s: Session, token: str, *, db: Database, lock_round: bool = False, lock_program: bool = False
) -> _Found:
    """The round, member and program a genuine token names. The program is locked before the
    member is read, so that the member row is the one the lock protects."""
    claim = read(token)
    secret = find_secret(db.settings.data_dir)
    if secret is None:  # no link was ever signed here
        raise invalid()
    try:
        r = find_round(s, claim.round_id, lock=lock_round)
    except InputError:
        raise invalid() from None
    program = s.get(Program, r.program_id, with_for_update=lock_program)
    member = s.get(Member, claim.member_id)
    if program is None or member is None or member.program_id != program.id:
        raise invalid()
    verify(token, secret=secret, binding=binding(r, member))
    return _Found(claim, r, member, program)


def _check_pause(until: date, *, today: date) -> None:
    if until <= today:
        raise Refused("Pick a date after today: that is the day you are invited again.")
    if until > today + timedelta(days=MAX_PAUSE_DAYS):
        raise Refused("Pick a date within a year; you can pause again then.")


def _taking_answers(r: Round, *, now: datetime) -> bool:
    return r.status == Status.OPEN and now < r.match_at


def _today(r: Round, *, now: datetime) -> date:
    return to_zone(now, load_zone(r.timezone)).date()


def _match_at(r: Round) -> str:
    return format_local(r.match_at, load_zone(r.timezone), weekday=True)
