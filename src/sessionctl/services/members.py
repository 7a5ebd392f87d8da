"""Members: add, import (all or nothing), list, show, set, remove (deactivate; history stays)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, union
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from sessionctl.domain import validation
from sessionctl.domain.times import iso, load_zone
from sessionctl.errors import InputError, NotFoundError
from sessionctl.services.member_rows import MemberRow, parse_csv, validated
from sessionctl.services.membership import deactivate
from sessionctl.services.programs import get_program
from sessionctl.store.engine import Database
from sessionctl.store.models import GroupMember, Member, Message, Program, Round


@dataclass(frozen=True)
class MemberStats:
    """A member's history in the program, counted from their group places and messages."""

    rounds_joined: int = 0  # rounds that matched them: in a group, or alone (a no-match)
    last_matched: date | None = None  # the local match date of the last round that grouped them
    times_in_trio: int = 0  # groups made bigger than the program's size to take an odd one

    def to_json(self) -> dict[str, Any]:
        last = None if self.last_matched is None else self.last_matched.isoformat()
        return {
            "rounds_joined": self.rounds_joined,
            "last_matched": last,
            "times_in_trio": self.times_in_trio,
        }


@dataclass(frozen=True)
class MemberInfo:
    email: str
    name: str
    team: str | None
    active: bool
    paused_until: date | None = None  # the first day a paused member is invited again
    left_reason: str | None = None  # why they left by themselves (unsubscribed, bounced)
    stats: MemberStats | None = None  # only when asked for (member list --stats)

    def to_json(self) -> dict[str, Any]:
        shown = {
            "email": self.email,
            "name": self.name,
            "team": self.team,
            "active": self.active,
            "paused_until": None if self.paused_until is None else self.paused_until.isoformat(),
            "left_reason": self.left_reason,
        }
        return shown if self.stats is None else {**shown, **self.stats.to_json()}


@dataclass(frozen=True)
class Added:
    member: MemberInfo
    re_added: bool  # a removed member came back, with the stored name and team unless given


@dataclass(frozen=True)
class MemberDetail:
    """One member for ``member show``: the list's fields, when they came and went, their rounds."""

    member: MemberInfo
    program: str
    added_at: datetime
    removed_at: datetime | None
    rounds_invited: int  # rounds whose opt-in message went to them
    rounds_joined: int  # rounds that matched them: in a group, or alone (a no-match message)
    timezone: str  # the program's: times are shown there

    def to_json(self) -> dict[str, Any]:
        zone = load_zone(self.timezone)
        return {
            **self.member.to_json(),
            "added_at": iso(self.added_at, zone),
            "removed_at": iso(self.removed_at, zone),
            "rounds_invited": self.rounds_invited,
            "rounds_joined": self.rounds_joined,
        }


@dataclass(frozen=True)
class Changed:
    before: MemberInfo
    after: MemberInfo


@dataclass(frozen=True)
class ImportReport:
    added: int
    re_added: int
    updated: int
    unchanged: int
    ignored: list[str] = field(default_factory=list)  # columns of the file that were not read

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "re_added": self.re_added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "ignored_columns": self.ignored,
        }


def add_member(db: Database, program: str, row: MemberRow, *, now: datetime) -> Added:
    row = validated(row)
    with db.session(write=True) as s:
        prog = get_program(s, program, lock=True)
        existing = _find(s, prog.id, row.email)
        if existing is not None and existing.active:
            raise InputError(
                f"{existing.email} is already a member of {program}: change a name or team "
                f"with 'sessionctl member set {program} {existing.email}'"
            )
        member = _upsert(s, prog.id, existing, row, now=now)
        return Added(_info(member), re_added=existing is not None)


def import_members(db: Database, program: str, text: str, *, now: datetime) -> ImportReport:
    """Upsert every row of a member CSV; one bad row imports nothing."""
    parsed = parse_csv(text)
    counts = {"added": 0, "re_added": 0, "updated": 0, "unchanged": 0}
    with db.session(write=True) as s:
        prog = get_program(s, program, lock=True)
        existing = {
            m.email_key: m for m in s.exec(select(Member).where(Member.program_id == prog.id))
        }
        for row in parsed.rows:
            member = existing.get(validation.email_key(row.email))
            outcome = _compare(member, row)
            if outcome != "unchanged":
                _upsert(s, prog.id, member, row, now=now)
            counts[outcome] += 1
    return ImportReport(**counts, ignored=parsed.ignored)


def list_members(
    db: Database,
    program: str,
    *,
    include_inactive: bool,
    now: datetime | None = None,
    with_stats: bool = False,
) -> list[MemberInfo]:
    """The members by email; with ``now``, a pause that has ended (the program's date is past
    its end) shows as none; ``with_stats``, each member's history (``MemberStats``)."""
    with db.session() as s:
        prog = get_program(s, program)
        query = select(Member).where(Member.program_id == prog.id)
        if not include_inactive:
            query = query.where(col(Member.active))
        found = list(s.exec(query.order_by(col(Member.email_key))))
        infos = [_info(m) for m in found]
        if with_stats:
            history = _load_histories(s, prog)
            infos = [
                replace(i, stats=history.get(m.id or 0, MemberStats()))
                for i, m in zip(infos, found, strict=True)
            ]
        if now is None:
            return infos
        today = local_today(prog, now)
    return [
        i if pause_runs(i.paused_until, today=today) else replace(i, paused_until=None)
        for i in infos
    ]


def show_member(
    db: Database, program: str, email: str, *, now: datetime | None = None
) -> MemberDetail:
    """One member; with ``now``, a pause that has ended shows as none (as in the list)."""
    with db.session() as s:
        prog = get_program(s, program)
        return member_detail(s, prog, existing_member(s, prog, email), now=now)


def member_detail(
    s: Session, prog: Program, member: Member, *, now: datetime | None = None
) -> MemberDetail:
    """``member`` as ``member show`` gives them, read in the caller's transaction."""
    invited = s.exec(
        select(func.count()).where(Message.member_id == member.id, Message.kind == "opt_in")
    ).one()
    joined = union(
        select(GroupMember.round_id).where(GroupMember.member_id == member.id),
        select(Message.round_id).where(Message.member_id == member.id, Message.kind == "no_match"),
    ).subquery()
    rounds_joined = s.exec(select(func.count()).select_from(joined)).one()
    info = _info(member)
    if now is not None and not pause_runs(info.paused_until, today=local_today(prog, now)):
        info = replace(info, paused_until=None)
    return MemberDetail(
        member=info,
        program=prog.name,
        added_at=member.created_at,
        removed_at=member.removed_at,
        rounds_invited=invited,
        rounds_joined=rounds_joined,
        timezone=prog.timezone,
    )


def local_today(prog: Program, now: datetime) -> date:
    """Today in the program's zone: the day pauses are compared with."""
    return now.astimezone(load_zone(prog.timezone)).date()


def pause_runs(paused_until: date | None, *, today: date) -> bool:
    """Whether a pause lasts beyond ``today``: it ends on its date."""
    return paused_until is not None and paused_until > today


def _load_histories(s: Session, prog: Program) -> dict[int, MemberStats]:
    """member id -> their history, from the program's group places and no-match messages."""
    g = GroupMember
    places = s.execute(  # five columns: more than sqlmodel's select types
        sa_select(
            col(g.round_id), col(g.group_no), col(g.member_id), col(g.extra), col(Round.match_at)
        )
        .join(Round, col(Round.id) == g.round_id)
        .where(col(Round.program_id) == prog.id)
    ).all()
    alone = s.exec(
        select(Message.member_id, Message.round_id)
        .join(Member, col(Member.id) == Message.member_id)
        .where(Member.program_id == prog.id, Message.kind == "no_match")
    ).all()
    joined: dict[int, set[int]] = {}
    last: dict[int, datetime] = {}
    for round_id, _, member_id, _, match_at in places:
        joined.setdefault(member_id, set()).add(round_id)
        last[member_id] = max(last.get(member_id, match_at), match_at)
    for member_id, round_id in alone:
        joined.setdefault(member_id, set()).add(round_id)
    trios = _count_trios(places, group_size=prog.group_size)
    zone = load_zone(prog.timezone)
    return {
        member_id: MemberStats(
            rounds_joined=len(rounds),
            last_matched=last[member_id].astimezone(zone).date() if member_id in last else None,
            times_in_trio=trios.get(member_id, 0),
        )
        for member_id, rounds in joined.items()
    }


def _count_trios(places: Sequence[Any], *, group_size: int) -> dict[int, int]:
    """member id -> groups they were in that were bigger than the program's size: matching gave
    them an odd one out (the ``extra`` flag), or they have more members (after the size setting
    changed)."""
    groups: dict[tuple[int, int], list[int]] = {}
    enlarged: set[tuple[int, int]] = set()
    for round_id, group_no, member_id, extra, _ in places:
        groups.setdefault((round_id, group_no), []).append(member_id)
        if extra:
            enlarged.add((round_id, group_no))
    trios: dict[int, int] = {}
    for key, members in groups.items():
        if key in enlarged or len(members) > group_size:
            for member_id in members:
                trios[member_id] = trios.get(member_id, 0) + 1
    return trios


def set_member(
    db: Database,
    program: str,
    email: str,
    *,
    name: str | None = None,
    team: str | None = None,
    new_email: str | None = None,
) -> Changed:
    """Change what is given of a member's name, team and address; an empty team clears it."""
    row = validated(MemberRow(new_email if new_email is not None else email, name, team))
    with db.session(write=True) as s:
        prog = get_program(s, program, lock=True)
        member = existing_member(s, prog, email)
        before = _info(member)
        if new_email is None:
            row = replace(row, email=member.email)
        elif validation.email_key(row.email) != member.email_key:
            other = _find(s, prog.id, row.email)
            if other is not None:
                kind = "a member" if other.active else "a removed member"
                raise InputError(
                    f"{other.email} is already {kind} of {program}: choose another address"
                )
        _apply(member, row)
        s.add(member)
        s.flush()
        return Changed(before, _info(member))


def remove_member(db: Database, program: str, email: str, *, now: datetime) -> MemberInfo:
    """Deactivate a member. In the rounds not matched yet, their answer no longer counts and
    their unsent invitation is not sent; the rounds already matched keep what happened."""
    with db.session(write=True) as s:
        prog = get_program(s, program, lock=True)
        member = _find(s, prog.id, email)
        if member is None or not member.active:
            raise NotFoundError(
                f"{email} is not an active member of {program}: "
                f"see 'sessionctl member list {program}'"
            )
        deactivate(s, member, prog, now=now)
        return _info(member)


def existing_member(s: Session, prog: Program, email: str) -> Member:
    """The member of that address, active or removed; a NotFoundError if none."""
    member = _find(s, prog.id, email)
    if member is None:
        raise NotFoundError(
            f"no member {email} in {prog.name}: see 'sessionctl member list {prog.name} --all'"
        )
    return member


def _compare(member: Member | None, row: MemberRow) -> str:
    if member is None:
        return "added"
    if not member.active:
        return "re_added"
    same = (
        member.email == row.email
        and (row.name is None or member.name == row.name)
        and (row.team is None or member.team == (row.team or None))
    )
    return "unchanged" if same else "updated"


def _upsert(
    s: Session, program_id: int | None, member: Member | None, row: MemberRow, *, now: datetime
) -> Member:
    assert program_id is not None
    if member is None:
        member = Member(
            program_id=program_id,
            email_key=validation.email_key(row.email),
            created_at=now,
            email=row.email,
        )
    _apply(member, row)
    member.active = True
    member.removed_at = None
    member.left_reason = None
    s.add(member)  # written at commit, all rows of an import in one batch
    return member


def _apply(member: Member, row: MemberRow) -> None:
    """Write the fields a row gives; the others keep their stored values."""
    member.email = row.email
    member.email_key = validation.email_key(row.email)
    if row.name is not None:
        member.name = row.name
    if row.team is not None:
        member.team = row.team or None


def _find(s: Session, program_id: int | None, email: str) -> Member | None:
    key = validation.email_key(email)
    return s.exec(
        select(Member).where(Member.program_id == program_id, Member.email_key == key)
    ).first()


def _info(m: Member) -> MemberInfo:
    return MemberInfo(
        email=m.email,
        name=m.name,
        team=m.team,
        active=m.active,
        paused_until=m.paused_until,
        left_reason=m.left_reason,
    )
