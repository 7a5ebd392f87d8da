"""Opt-in answers: one at a time or a CSV; the latest answer before the match time counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy import delete
from sqlmodel import Session, col, select

from sessionctl.domain import validation
from sessionctl.domain.csvtext import numbered_rows
from sessionctl.domain.rounds import Status
from sessionctl.domain.tokens import binding, invalid, read, verify
from sessionctl.errors import InputError
from sessionctl.services.rounds import find_round
from sessionctl.store.dml import upsert
from sessionctl.store.engine import Database
from sessionctl.store.models import Member, Message, Program, Response, Round
from sessionctl.store.secret import find_secret

_ANSWERS = {"yes": True, "y": True, "no": False, "n": False}


@dataclass(frozen=True)
class Answer:
    email: str
    answer: bool
    line: int = 0


@dataclass(frozen=True)
class AnswerReport:
    round: int
    recorded: int
    yes: int
    no: int

    def to_json(self) -> dict[str, int]:
        return {"round": self.round, "recorded": self.recorded, "yes": self.yes, "no": self.no}


def parse_answer(text: str) -> bool:
    try:
        return _ANSWERS[text.strip().lower()]
    except KeyError:
        raise InputError(f"invalid answer {text!r}: use yes or no") from None


def respond(db: Database, round_id: int, answers: list[Answer], *, now: datetime) -> AnswerReport:
    """Record answers in one transaction; any refused answer records none."""
    with db.session(write=True) as s:
        # Locked, so that a run matching this round, or the removal of a member, waits for
        # these answers or comes first.
        r = find_round(s, round_id, lock=True)
        _check_open(r, now=now)
        invited = _invited(s, r)
        for a in answers:
            member = invited.get(validation.email_key(a.email))
            where = f"line {a.line}: " if a.line else ""
            if member is None or not member.active:
                _refuse(s, r, member, a.email, where=where)
            _record(s, r, member, a.answer, now=now)
    yes = sum(a.answer for a in answers)
    return AnswerReport(round_id, len(answers), yes, len(answers) - yes)


@dataclass(frozen=True)
class TokenAnswer:
    round: int
    email: str
    answer: bool
    program_title: str
    number: int  # the round's number within its program: what the member's emails call it


class AnswersClosedError(InputError):
    """A genuine answer that comes too late: the round is not open, or its match time passed.
    The message names the round by id, for the admin; ``for_member`` by its number within its
    program, as the member's emails do."""

    def __init__(self, message: str, *, for_member: str) -> None:
        super().__init__(message)
        self.for_member = for_member


class MemberRemovedError(AnswersClosedError):
    """An answer from a member who was removed from the program: it would not count."""

    def __init__(self, message: str, *, email: str, program_title: str) -> None:
        for_member = (
            f"{email} is no longer a member of {program_title}: this answer cannot be recorded."
        )
        super().__init__(message, for_member=for_member)


def read_token(db: Database, token: str, *, now: datetime) -> TokenAnswer:
    """What a join/skip link would record, checked as an answer would be; records nothing.

    Without a link secret no token can be genuine: it is refused as invalid, never created.
    """
    claim = read(token)
    secret = find_secret(db.settings.data_dir)
    if secret is None or claim.leave:  # an unsubscribe link answers nothing
        raise invalid()
    with db.session() as s:
        member = s.get(Member, claim.member_id)
        r = s.get(Round, claim.round_id)
        program = None if r is None else s.get(Program, r.program_id)
        if r is None or member is None or program is None or member.program_id != program.id:
            raise invalid()
        verify(token, secret=secret, binding=binding(r, member))
        _check_open(r, now=now)
        if not member.active:
            raise _removed(member, program)
        return TokenAnswer(claim.round_id, member.email, claim.answer, program.title, r.number)


def respond_token(db: Database, token: str, *, now: datetime) -> TokenAnswer:
    """Record the answer a signed join/skip link carries, under the same rules as any answer."""
    found = read_token(db, token, now=now)
    respond(db, found.round, [Answer(found.email, found.answer)], now=now)
    return found


def parse_csv(text: str) -> list[Answer]:
    """Validate a whole ``email,answer`` CSV; raise on the first bad line, naming it."""
    lines = numbered_rows(text)
    header = [h.strip().lower() for h in next(lines, (1, []))[1]]
    if header != ["email", "answer"]:
        raise InputError("line 1: the header must be 'email,answer'")
    answers: list[Answer] = []
    seen: dict[str, int] = {}
    for line, fields in lines:
        if len(fields) != 2:
            raise InputError(f"line {line}: expected 2 fields (email,answer), got {len(fields)}")
        try:
            email, answer = validation.email(fields[0]), parse_answer(fields[1])
        except InputError as err:
            raise InputError(f"line {line}: {err}") from None
        key = validation.email_key(email)
        if key in seen:
            raise InputError(f"line {line}: {email} already answered on line {seen[key]}")
        seen[key] = line
        answers.append(Answer(email, answer, line))
    return answers


def _check_open(r: Round, *, now: datetime) -> None:
    if r.status != Status.OPEN:
        raise _closed(r, f"is {r.status}: answers are taken only while a round is open")
    if now >= r.match_at:
        raise _closed(r, "reached its match time: answers are no longer taken")


def _closed(r: Round, why: str) -> AnswersClosedError:
    return AnswersClosedError(f"round {r.id} {why}", for_member=f"round {r.number} {why}")


def withdraw_removed(s: Session, r: Round) -> None:
    """Delete the round's answers from members removed since: at its match, they would count
    in its figures while matching leaves them out. (Removing a member deletes them already;
    older versions kept them.)"""
    removed = select(Member.id).where(Member.program_id == r.program_id, ~col(Member.active))
    s.execute(
        delete(Response).where(col(Response.round_id) == r.id, col(Response.member_id).in_(removed))
    )


def _refuse(s: Session, r: Round, member: Member | None, email: str, *, where: str) -> NoReturn:
    """Why an answer is not taken: its author was removed, or never invited to the round."""
    program = s.get(Program, r.program_id)
    assert program is not None
    if member is None:
        member = s.exec(
            select(Member).where(
                Member.program_id == program.id,
                Member.email_key == validation.email_key(email),
                ~col(Member.active),
            )
        ).first()
    if member is not None and not member.active:
        raise _removed(member, program, where=where)
    raise InputError(f"{where}{email} was not invited to round {r.id}")


def _removed(member: Member, program: Program, *, where: str = "") -> MemberRemovedError:
    return MemberRemovedError(
        f"{where}{member.email} was removed from {program.name}: answers are taken from "
        f"members only (add them back with 'sessionctl member add {program.name} {member.email}')",
        email=member.email,
        program_title=program.title,
    )


def _invited(s: Session, r: Round) -> dict[str, Member]:
    rows = s.exec(
        select(Member)
        .join(Message, col(Message.member_id) == Member.id)
        .where(Message.round_id == r.id, Message.kind == "opt_in")
    ).all()
    return {m.email_key: m for m in rows}


def _record(s: Session, r: Round, m: Member, answer: bool, *, now: datetime) -> None:
    """Insert or replace the member's answer in one statement: concurrent answers for one member
    (two clicks, a reply and a click) leave the latest, never a duplicate-key error."""
    row = {"round_id": r.id, "member_id": m.id, "answer": answer, "answered_at": now}
    upsert(s, Response.__table__, row, keys=("round_id", "member_id"))  # type: ignore[attr-defined]
