"""A program's message as a member will get it, before it goes out: shown, or sent as a test.

The preview is composed by the very code run-due uses, from the real program, member and round;
only a round's groups that do not exist yet are stood in for (a sample of the other members),
and the preview says so.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage

from sqlmodel import Session, col, func, select

from sessionctl.delivery.compose import Envelope, Kind, Person, compose
from sessionctl.delivery.envelopes import Envelopes
from sessionctl.domain import validation
from sessionctl.domain.rounds import Status
from sessionctl.errors import InputError, NotFoundError
from sessionctl.services.icebreakers import starters
from sessionctl.services.programs import get_program
from sessionctl.services.rounds import find_round
from sessionctl.services.templates import custom_templates
from sessionctl.store.engine import Database
from sessionctl.store.models import GroupMember, Member, Message, Program, Round

TEST_HEADER = "X-Sessionctl-Test"


@dataclass(frozen=True)
class Preview:
    message: EmailMessage
    member: str
    round_id: int
    notes: list[str]  # what is stood in for, for stderr


def preview(
    db: Database,
    program: str,
    kind: Kind,
    *,
    member: str | None,
    round_id: int | None,
    clock: Callable[[], datetime],
) -> Preview:
    """The ``kind`` message of ``program`` for ``member`` (default: the first active one) in
    ``round_id`` (default: the next round, else the latest).

    Its personal links are signed with a throwaway key: they look as the member's will, and
    answer nothing, so neither a preview nor a test message can act for the member."""
    with db.session() as s:
        p = get_program(s, program)
        m = _member(s, p, member)
        r = _round(s, p, round_id)
        s.expunge_all()
    throwaway = secrets.token_hex(32).encode()
    envelopes = Envelopes(db, clock=clock, link_secret=lambda: throwaway)
    assert r.id is not None and m.id is not None
    stand_in = Message(
        round_id=r.id,
        member_id=m.id,
        kind=kind.value,
        next_attempt_at=clock(),
        message_id=f"<sessionctl.{r.id}.{m.id}.{kind.value}.preview@{_domain(p)}>",
        created_at=clock(),
    )
    env = envelopes.make(stand_in, m, r, p)
    notes: list[str] = []
    if kind is Kind.MATCH and not env.group:
        env, note = _sample_group(db, env, p, m, r)
        notes.append(note)
    msg = compose(env, templates=custom_templates(p.templates))
    return Preview(msg, m.email, r.id, notes)


def test_message(found: Preview, *, to: str) -> EmailMessage:
    """The previewed message, addressed to ``to`` and marked as a test in its subject and
    headers, with a Message-ID of its own: it is recorded nowhere."""
    address = validation.email(to)
    test = copy.deepcopy(found.message)
    test.replace_header("To", address)
    test.replace_header("Subject", f"[test] {test['Subject']}")
    domain = address.rpartition("@")[2]
    test.replace_header("Message-ID", f"<sessionctl.test.{secrets.token_hex(8)}@{domain}>")
    test[TEST_HEADER] = f"preview of a message to {found.member}, round {found.round_id}"
    return test


def _member(s: Session, p: Program, email: str | None) -> Member:
    query = select(Member).where(Member.program_id == p.id, col(Member.active))
    if email is not None:
        found = s.exec(query.where(Member.email_key == validation.email_key(email))).first()
        if found is None:
            raise NotFoundError(f"no active member {email} in {p.name}: see 'member list'")
        return found
    first = s.exec(query.order_by(col(Member.email_key))).first()
    if first is None:
        raise InputError(f"{p.name} has no active member to preview a message for")
    return first


def _round(s: Session, p: Program, round_id: int | None) -> Round:
    if round_id is not None:
        r = find_round(s, round_id)
        if r.program_id != p.id:
            raise InputError(f"round {round_id} is not a round of {p.name}")
        return r
    coming = s.exec(
        select(Round)
        .where(Round.program_id == p.id)
        .where(col(Round.status).in_([Status.PLANNED, Status.OPEN]))
        .order_by(func.coalesce(Round.opt_in_at, Round.match_at))
    ).first()
    if coming is not None:
        return coming
    latest = s.exec(
        select(Round).where(Round.program_id == p.id).order_by(col(Round.number).desc())
    ).first()
    if latest is None:
        raise InputError(
            f"{p.name} has no round yet: schedule one first ('sessionctl schedule {p.name}')"
        )
    return latest


def _sample_group(
    db: Database, env: Envelope, p: Program, m: Member, r: Round
) -> tuple[Envelope, str]:
    with db.session() as s:
        others = s.exec(
            select(Member)
            .where(Member.program_id == p.id, col(Member.active), Member.id != m.id)
            .order_by(col(Member.email_key))
            .limit(p.group_size - 1)
        ).all()
        matched = s.exec(select(func.count()).where(GroupMember.round_id == r.id)).one()
        group = [Person(o.email, o.name, o.team or "") for o in others]
    listed = starters(p)
    why = "is not matched yet" if not matched else f"did not match {m.email}"
    note = f"round {r.id} {why}: the partners shown are a sample of the program's members"
    return replace(env, group=group, icebreaker=listed[0] if listed else ""), note


def _domain(p: Program) -> str:
    return (p.sender or validation.DEFAULT_SENDER).rpartition("@")[2] or "localhost"
