"""Groups: who takes part, the program's history, forming groups, and showing who met before."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from sessionctl.domain.matching import Participant, PastRound, Result, form_groups, pair_history
from sessionctl.domain.rounds import Status
from sessionctl.domain.times import load_zone
from sessionctl.domain.words import plural
from sessionctl.errors import InputError
from sessionctl.services import pairing
from sessionctl.services.membership import back_by
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
class GaveWay:
    """A pairing rule the groups break: its two members (``a`` before ``b`` by address), shown
    as names or emails, the group they are in (from 1) and why the rule gave way."""

    a: str
    b: str
    first: str
    second: str
    group: int
    why: str

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "group": self.group, "why": self.why}


@dataclass(frozen=True)
class GroupsInfo:
    round: int
    program: str
    groups: list[list[Person]]
    no_match: list[Person]
    met: list[list[Meeting]]  # per group, the pairs who met in earlier rounds
    preview: bool = False
    gave_way: list[GaveWay] = field(default_factory=list)

    @property
    def repeated_pairs(self) -> int:
        return sum(len(m) for m in self.met)

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "groups": [[email for email, _, _ in g] for g in self.groups],
            "no_match": [email for email, _, _ in self.no_match],
            "gave_way": [g.to_json() for g in self.gave_way],
        }


def active_members(s: Session, p: Program, *, on: date) -> list[Member]:
    """Members in the program and not paused on the day ``on``."""
    query = select(Member).where(Member.program_id == p.id, col(Member.active), back_by(on))
    return list(s.exec(query.order_by(col(Member.id))))


def active_member_ids(s: Session, p: Program, *, on: date) -> list[int]:
    """The ids of the members a round opening on the day ``on`` invites."""
    query = select(Member.id).where(Member.program_id == p.id, col(Member.active), back_by(on))
    return [i for i in s.exec(query.order_by(col(Member.id))) if i is not None]


def local_day(r: Round, at: datetime) -> date:
    """The date at ``at`` in the round's zone: the day a pause is compared with."""
    return at.astimezone(load_zone(r.timezone)).date()


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
    """The groups the round forms now, from its stored seed: the same inputs, the same groups.
    The pairing rules between its participants come first: see ``form_groups``."""
    people = participants(s, r, p)
    rules = pairing.rules_between(s, r.program_id, (m.id or 0 for m in people))
    result = form_groups(
        [Participant(str(m.id), m.team) for m in people],
        history=history(s, p, before=r).rounds,
        group_size=p.group_size,
        seed=r.seed,
        lookback=p.lookback,
        avoid=[frozenset((str(a.member_a), str(a.member_b))) for a in rules],
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
            gave_way=_gave_way(s, r, groups, people=sum(map(len, groups)) + len(lonely)),
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
                    pairs.append(Meeting(_label(a), _label(b), round_id, match_at))
        found.append(pairs)
    return found


def _person(m: Member) -> Person:
    return (m.email, m.name, m.team)


def _gave_way(s: Session, r: Round, groups: list[list[Member]], *, people: int) -> list[GaveWay]:
    """The pairing rules the groups break, each with why: the groups were formed before the
    rule was added, or no grouping of the participants could keep it."""
    where = {m.id or 0: no for no, group in enumerate(groups, start=1) for m in group}
    by_id = {m.id or 0: m for group in groups for m in group}
    found = []
    for rule in pairing.rules_between(s, r.program_id, where):
        if where[rule.member_a] != where[rule.member_b]:
            continue
        one, two = sorted((by_id[rule.member_a], by_id[rule.member_b]), key=lambda m: m.email_key)
        why = _why(r, rule.created_at, people=people, one_group=len(groups) == 1)
        group = where[rule.member_a]
        found.append(GaveWay(one.email, two.email, _label(one), _label(two), group, why))
    return sorted(found, key=lambda g: (g.group, g.a.lower(), g.b.lower()))


def _why(r: Round, added_at: datetime, *, people: int, one_group: bool) -> str:
    if r.matched_at is not None and added_at > r.matched_at:
        return "the rule was added after the groups were formed"
    if one_group:
        return f"only {plural(people, 'person', 'people')} take part, one group of everyone"
    return f"the search found no grouping of the {people} participants that keeps every rule"


def _label(m: Member) -> str:
    return m.name or m.email
