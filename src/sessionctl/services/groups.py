"""Groups: who takes part, the program's history, forming groups, and showing who met before."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from sessionctl.domain.matching import Participant, PastRound, Result, form_groups, pair_history
from sessionctl.domain.rounds import Status
from sessionctl.domain.times import load_zone
from sessionctl.errors import InputError
from sessionctl.services.rounds import find_round
from sessionctl.store.engine import Database
from sessionctl.store.models import GroupMember, Member, Message, Program, Response, Round

Person = tuple[str, str, str | None]  # (email, name, team)


@dataclass(frozen=True)
class Meeting:
    """Two members of a group (names, or emails) who were grouped together before, and when."""

    first: str
    second: str
    round: int
    match_at: datetime


@dataclass(frozen=True)
class History:
    """The program's past groups, oldest first, with the round each ``order`` stands for."""

    rounds: list[PastRound]
    meta: dict[int, tuple[int, datetime]] = field(default_factory=dict)  # order -> (id, match)


@dataclass(frozen=True)
class GroupsInfo:
    round: int
    program: str
    groups: list[list[Person]]
    no_match: list[Person]
    met: list[list[Meeting]]  # per group, the pairs who met in earlier rounds
    preview: bool = False

    @property
    def repeated_pairs(self) -> int:
        return sum(len(m) for m in self.met)

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "groups": [[email for email, _, _ in g] for g in self.groups],
            "no_match": [email for email, _, _ in self.no_match],
        }


def active_members(s: Session, p: Program, *, on: date) -> list[Member]:
    """Members in the program and not paused on the day ``on``."""
    query = select(Member).where(Member.program_id == p.id, col(Member.active), _back_by(on))
    return list(s.exec(query.order_by(col(Member.id))))


def active_member_ids(s: Session, p: Program, *, on: date) -> list[int]:
    """The ids of the members a round opening on the day ``on`` invites."""
    query = select(Member.id).where(Member.program_id == p.id, col(Member.active), _back_by(on))
    return [i for i in s.exec(query.order_by(col(Member.id))) if i is not None]


def local_day(r: Round, at: datetime) -> date:
    """The date at ``at`` in the round's zone: the day a pause is compared with."""
    return at.astimezone(load_zone(r.timezone)).date()


def _back_by(on: date) -> ColumnElement[bool]:
    """Not paused, or paused until ``on`` or before: a pause ends on its date."""
    return col(Member.paused_until).is_(None) | (col(Member.paused_until) <= on)


def participants(s: Session, r: Round, p: Program) -> list[Member]:
    """Yes-answers of invited members still active at the match (a round with an opt-in), else
    all active members. The round decides, not the program: its setting may change meanwhile."""
    if r.opt_in_at is None:
        return active_members(s, p, on=local_day(r, r.match_at))
    invited = (col(Message.member_id) == Member.id) & (col(Message.round_id) == Response.round_id)
    query = (
        select(Member)
        .join(Response, col(Response.member_id) == Member.id)
        .join(Message, invited)
        .where(Response.round_id == r.id, col(Response.answer), col(Member.active))
        .where(Message.kind == "opt_in", col(Response.answered_at) <= r.match_at)
    )
    return list(s.exec(query.order_by(col(Member.id))))


def history(s: Session, p: Program, *, before: Round) -> History:
    """Groups of the program's done rounds before this one (their match messages exist).

    Reads only what matching needs: who was grouped with whom, and in which order.
    """
    earlier = (col(Round.match_at) < before.match_at) | (
        (col(Round.match_at) == before.match_at) & (col(Round.id) < before.id)
    )
    g = GroupMember
    rows = s.execute(
        sa_select(
            col(Round.id), col(Round.match_at), col(g.group_no), col(g.member_id), col(g.extra)
        )
        .join(g, col(g.round_id) == Round.id)
        .where(col(Round.program_id) == p.id, col(Round.status) == Status.DONE, earlier)
        .order_by(col(Round.match_at), col(Round.id))
    ).all()
    rounds: dict[int, tuple[datetime, dict[int, list[str]], set[str]]] = {}
    for round_id, match_at, group_no, member_id, extra in rows:
        _, groups, extras = rounds.setdefault(round_id, (match_at, {}, set()))
        groups.setdefault(group_no, []).append(str(member_id))
        if extra:
            extras.add(str(member_id))
    past: list[PastRound] = []
    meta: dict[int, tuple[int, datetime]] = {}
    for order, (round_id, (match_at, groups, extras)) in enumerate(rounds.items()):
        past.append(PastRound(order=order, groups=list(groups.values()), extras=frozenset(extras)))
        meta[order] = (round_id, match_at)
    return History(past, meta)


def form(s: Session, r: Round, p: Program) -> tuple[list[Member], Result]:
    """The groups the round forms now, from its stored seed: the same inputs, the same groups."""
    people = participants(s, r, p)
    result = form_groups(
        [Participant(str(m.id), m.team) for m in people],
        history=history(s, p, before=r).rounds,
        group_size=p.group_size,
        seed=r.seed,
        lookback=p.lookback,
    )
    return people, result


def round_groups(db: Database, round_id: int, *, preview: bool = False) -> GroupsInfo:
    """The stored groups of a round, or with ``preview`` those it would form now (no change)."""
    with db.session() as s:
        r = find_round(s, round_id)
        p = s.get(Program, r.program_id)
        assert p is not None and r.id is not None
        if preview:
            groups, lonely = _preview(s, r, p)
        else:
            groups, lonely = _stored(s, r)
        past = history(s, p, before=r)
        met = _meetings(groups, past)
        return GroupsInfo(
            round=r.id,
            program=p.name,
            groups=[[_person(m) for m in g] for g in groups],
            no_match=[_person(m) for m in lonely],
            met=met,
            preview=preview,
        )


def _preview(s: Session, r: Round, p: Program) -> tuple[list[list[Member]], list[Member]]:
    if r.status == Status.DONE:
        raise InputError(f"round {r.id} is done and its groups are final: drop --preview")
    if r.status != Status.OPEN and not (r.status == Status.PLANNED and r.opt_in_at is None):
        raise InputError(f"round {r.id} is {r.status}: only an open round can be previewed")
    people, result = form(s, r, p)
    by_key = {str(m.id): m for m in people}
    groups = [[by_key[k] for k in g] for g in result.groups]
    return groups, [by_key[k] for k in result.no_match]


def _stored(s: Session, r: Round) -> tuple[list[list[Member]], list[Member]]:
    rows = s.exec(
        select(GroupMember.group_no, Member)
        .join(Member, col(GroupMember.member_id) == Member.id)
        .where(GroupMember.round_id == r.id)
        .order_by(col(GroupMember.group_no), col(Member.email_key))
    ).all()
    groups: dict[int, list[Member]] = {}
    for group_no, m in rows:
        groups.setdefault(group_no, []).append(m)
    lonely = s.exec(
        select(Member)
        .join(Message, col(Message.member_id) == Member.id)
        .where(Message.round_id == r.id, Message.kind == "no_match")
    ).all()
    return [groups[k] for k in sorted(groups)], list(lonely)


def _meetings(groups: list[list[Member]], past: History) -> list[list[Meeting]]:
    last_met = pair_history(past.rounds)
    found: list[list[Meeting]] = []
    for group in groups:
        pairs = []
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                order = last_met.get(frozenset((str(a.id), str(b.id))))
                if order is not None:
                    round_id, match_at = past.meta[order]
                    pairs.append(Meeting(a.name or a.email, b.name or b.email, round_id, match_at))
        found.append(pairs)
    return found


def _person(m: Member) -> Person:
    return (m.email, m.name, m.team)
