"""Pairing rules: two members of a program kept apart, not in one group when matching finds a
grouping that allows it (it looks for one before anything else). A rule is an ``avoid`` row
(member_a < member_b by id). Rules of removed members stay and matter again if they come back;
matching only sees the rules between its participants.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from sessionctl.domain import validation
from sessionctl.errors import InputError
from sessionctl.services.members import existing_member
from sessionctl.services.programs import get_program
from sessionctl.store.dml import insert_new
from sessionctl.store.engine import Database
from sessionctl.store.models import Avoid, Member, Program


@dataclass(frozen=True)
class Rule:
    """Two members kept apart, ``a`` before ``b`` by address."""

    a: str
    b: str
    removed: tuple[str, ...]  # which of the two were removed from the program
    added_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b}


@dataclass(frozen=True)
class Rules:
    program: str
    timezone: str
    rules: list[Rule]


@dataclass(frozen=True)
class RuleChange:
    """What ``member avoid`` did: ``changed`` is False when the rule was already as asked."""

    a: str
    b: str
    added: bool  # the command added a rule (else it removed one)
    changed: bool
    after: Rules


def list_rules(db: Database, program: str) -> Rules:
    with db.session() as s:
        return _rules(s, get_program(s, program))


def add_rule(db: Database, program: str, first: str, second: str, *, now: datetime) -> RuleChange:
    """Keep two members of the program (active or removed) apart; adding it again is no error."""
    with db.session(write=True) as s:
        prog = get_program(s, program, lock=True)
        one, two = _pair(s, prog, first, second)
        row = {"program_id": prog.id, "member_a": one.id, "member_b": two.id, "created_at": now}
        table = Avoid.__table__  # type: ignore[attr-defined]
        added = insert_new(s, table, row, keys=("program_id", "member_a", "member_b"))
        return _change(s, prog, one, two, added=True, changed=added)


def remove_rule(db: Database, program: str, first: str, second: str) -> RuleChange:
    """Stop keeping two members apart; removing a rule that does not exist is no error."""
    with db.session(write=True) as s:
        prog = get_program(s, program, lock=True)
        one, two = _pair(s, prog, first, second)
        removed = s.execute(
            delete(Avoid)
            .where(col(Avoid.program_id) == prog.id)
            .where(col(Avoid.member_a) == one.id, col(Avoid.member_b) == two.id)
            .returning(col(Avoid.id))
        ).all()
        return _change(s, prog, one, two, added=False, changed=bool(removed))


def rules_between(s: Session, program_id: int, member_ids: Iterable[int]) -> list[Avoid]:
    """The program's rules whose two members are both among ``member_ids``."""
    ids = set(member_ids)
    rows = s.exec(select(Avoid).where(Avoid.program_id == program_id).order_by(col(Avoid.id)))
    return [a for a in rows if a.member_a in ids and a.member_b in ids]


def _pair(s: Session, prog: Program, first: str, second: str) -> tuple[Member, Member]:
    """The two members, the smaller id first (as the table keeps them)."""
    if validation.email_key(first) == validation.email_key(second):
        raise InputError(
            f"{first} is given twice: a pairing rule keeps two different members apart"
        )
    one, two = existing_member(s, prog, first), existing_member(s, prog, second)
    assert one.id is not None and two.id is not None
    return (one, two) if one.id < two.id else (two, one)


def _change(
    s: Session, prog: Program, one: Member, two: Member, *, added: bool, changed: bool
) -> RuleChange:
    s.flush()
    a, b = sorted((one, two), key=lambda m: m.email_key)
    return RuleChange(a.email, b.email, added=added, changed=changed, after=_rules(s, prog))


def _rules(s: Session, prog: Program) -> Rules:
    first, second = aliased(Member), aliased(Member)
    rows = s.exec(
        select(Avoid, first, second)
        .join(first, col(first.id) == Avoid.member_a)
        .join(second, col(second.id) == Avoid.member_b)
        .where(Avoid.program_id == prog.id)
    ).all()
    rules = []
    for avoid, one, two in rows:
        a, b = sorted((one, two), key=lambda m: m.email_key)
        removed = tuple(m.email for m in (a, b) if not m.active)
        rules.append(Rule(a.email, b.email, removed, avoid.created_at))
    rules.sort(key=lambda r: (validation.email_key(r.a), validation.email_key(r.b)))
    return Rules(prog.name, prog.timezone, rules)
