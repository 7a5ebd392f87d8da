"""Stats of matched rounds: answers, participation, groups, repeated pairs and failed messages.

Every figure is counted from the stored rows (invitations and other messages, answers, group
places), never from a counter kept beside them, so nothing can drift. Only matched rounds (status
done) count: a round still planned or open has no final figures, and a cancelled or missed one
none at all; ``list`` shows those.

Rows are read as plain rows through lightweight Core tables, as ``list`` reads them: importing
the ORM models would cost more than the whole report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, Integer, case, func, select
from sqlalchemy.sql import column, table

from sessionctl.domain.times import iso, load_zone, to_zone
from sessionctl.errors import no_program
from sessionctl.store import tables
from sessionctl.store.types import UTCDateTime

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from sessionctl.store.engine import Database

TREND_ROUNDS = 12  # how many of a program's last rounds its participation trend shows

# The columns of two more tables that stats read (store.tables names those the views share).
group_member = table(
    "group_member",
    column("round_id", Integer),
    column("group_no", Integer),
    column("member_id", Integer),
    column("extra", Boolean),
)
member_span = table(
    "member",
    column("id", Integer),
    column("program_id", Integer),
    column("created_at", UTCDateTime()),
    column("removed_at", UTCDateTime()),
)


class RoundStats(NamedTuple):
    """One matched round's figures.

    A round with an opt-in counts its invitations, and the yes and no answers to them. A round
    without one invites nobody by email: ``invited`` is then the members the program had when
    it matched, ``joined`` those it matched, and ``declined`` and ``no_answer`` are None.
    """

    id: int
    number: int
    program: str
    zone: ZoneInfo
    match_at: datetime
    opt_in: bool
    invited: int
    joined: int
    declined: int | None
    no_answer: int | None
    groups: int
    repeated_pairs: int  # pairs grouped together who had been in a group in an earlier round
    failed: int  # messages of the round that could not be delivered

    @property
    def participation(self) -> float | None:
        return percent(self.joined, of=self.invited)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "program": self.program,
            "match_at": iso(self.match_at, self.zone),
            "opt_in": self.opt_in,
            "invited": self.invited,
            "joined": self.joined,
            "declined": self.declined,
            "no_answer": self.no_answer,
            "participation": self.participation,
            "groups": self.groups,
            "repeated_pairs": self.repeated_pairs,
            "messages_failed": self.failed,
        }


class ProgramStats(NamedTuple):
    """A program's matched rounds in the range, oldest first, and their totals."""

    name: str
    title: str
    zone: ZoneInfo
    rounds: list[RoundStats]

    def total(self, field: str) -> int | None:
        """The sum over the rounds; None when every round has None (no round had an opt-in,
        so nobody could decline)."""
        values = [v for v in (getattr(r, field) for r in self.rounds) if v is not None]
        return sum(values) if values or not self.rounds else None

    @property
    def participation(self) -> float | None:
        return percent(self.total("joined") or 0, of=self.total("invited") or 0)

    @property
    def trend(self) -> list[float | None]:
        """Participation of the last rounds, oldest first."""
        return [r.participation for r in self.rounds[-TREND_ROUNDS:]]

    def to_json(self) -> dict[str, Any]:
        return {
            "program": self.name,
            "title": self.title,
            "timezone": self.zone.key,
            "rounds": len(self.rounds),
            **{f: self.total(f) for f in ("invited", "joined", "declined", "no_answer")},
            "participation": self.participation,
            "groups": self.total("groups"),
            "repeated_pairs": self.total("repeated_pairs"),
            "messages_failed": self.total("failed"),
            "trend": self.trend,
        }


class Stats(NamedTuple):
    programs: list[ProgramStats]

    def to_json(self) -> dict[str, Any]:
        return {
            "programs": [p.to_json() for p in self.programs],
            "rounds": [r.to_json() for p in self.programs for r in p.rounds],
        }


def percent(part: int, *, of: int) -> float | None:
    """``part`` in percent of ``of``, to one decimal; None when ``of`` is 0."""
    return round(100 * part / of, 1) if of else None


def stats(
    db: Database,
    *,
    program: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Stats:
    """The matched rounds of one program or of all (by name), whose match date, in the round's
    own zone, falls between ``start`` and ``end`` inclusive; a program without any is listed
    with no rounds. Raises ``NotFoundError`` for an unknown program."""
    with db.connection() as conn:
        programs = _load_programs(conn, name=program)
        ids = list(programs)
        rounds = _load_rounds(conn, ids, end=end)
        figures = _load_figures(conn, ids, end=end)
        places = _load_places(conn, ids, end=end)
    repeats = _count_repeated_pairs(rounds, places=places)
    by_program: dict[int, list[RoundStats]] = {i: [] for i in ids}
    zones: dict[str, ZoneInfo] = {}
    for row in rounds:
        round_id, _, program_id, zone_name, _, match_at = row
        zone = zones.get(zone_name) or zones.setdefault(zone_name, load_zone(zone_name))
        if not _is_in_range(to_zone(match_at, zone).date(), start=start, end=end):
            continue
        by_program[program_id].append(
            _make_round(
                row,
                program=programs[program_id][0],
                zone=zone,
                counts=figures.get(round_id, _NONE),
                groups=places.get(round_id, {}),
                repeats=repeats.get(round_id, 0),
            )
        )
    return Stats(
        [
            ProgramStats(name, title, load_zone(zone_name), by_program[i])
            for i, (name, title, zone_name) in programs.items()
        ]
    )


class _Counts(NamedTuple):
    invited: int = 0  # opt-in messages
    yes: int = 0
    no: int = 0
    alone: int = 0  # no-match messages: matched, but in no group
    failed: int = 0
    members: int = 0  # members of the program at the match (rounds without opt-in)


_NONE = _Counts()


def _make_round(
    row: Sequence[Any],
    *,
    program: str,
    zone: ZoneInfo,
    counts: _Counts,
    groups: dict[int, list[int]],
    repeats: int,
) -> RoundStats:
    """A row of ``_load_rounds`` with its figures."""
    round_id, number, _, _, opt_in_at, match_at = row
    opt_in = opt_in_at is not None
    if opt_in:
        invited, joined = counts.invited, counts.yes
        declined, no_answer = counts.no, counts.invited - counts.yes - counts.no
    else:  # matched: in a group, or alone
        joined = sum(len(g) for g in groups.values()) + counts.alone
        invited, declined, no_answer = counts.members, None, None
    return RoundStats(
        id=round_id,
        number=number,
        program=program,
        zone=zone,
        match_at=match_at,
        opt_in=opt_in,
        invited=invited,
        joined=joined,
        declined=declined,
        no_answer=no_answer,
        groups=len(groups),
        repeated_pairs=repeats,
        failed=counts.failed,
    )


def _load_programs(conn: Connection, *, name: str | None) -> dict[int, tuple[str, str, str]]:
    """id -> (name, title, zone) of the program named, or of all, by name."""
    p = tables.program
    query = select(p.c.id, p.c.name, p.c.title, p.c.timezone).order_by(p.c.name)
    if name is not None:
        query = query.where(p.c.name == name)
    found = {i: (n, t, z) for i, n, t, z in conn.execute(query)}
    if name is not None and not found:
        raise no_program(name)
    return found


def _select_done(program_ids: Iterable[int], *, end: date | None) -> list[Any]:
    """The matched rounds of these programs, up to two days past ``end`` (zones differ: the
    exact test by local date follows in Python)."""
    r = tables.round_
    conditions = [r.c.status == "done", r.c.program_id.in_(list(program_ids))]
    if end is not None:
        conditions.append(r.c.match_at < _to_utc_midnight(end, days=3))
    return conditions


def _load_rounds(conn: Connection, program_ids: list[int], *, end: date | None) -> list[Any]:
    """(id, number, program id, zone, opt-in time, match time) of the matched rounds, by match.

    All of them up to ``end``, not only those from ``start``: repeated pairs look back."""
    r = tables.round_
    query = select(r.c.id, r.c.number, r.c.program_id, r.c.timezone, r.c.opt_in_at, r.c.match_at)
    done = _select_done(program_ids, end=end)
    return list(conn.execute(query.where(*done).order_by(r.c.match_at, r.c.id)).all())


def _load_figures(
    conn: Connection, program_ids: list[int], *, end: date | None
) -> dict[int, _Counts]:
    """Per round: invitations, yes and no answers to them, no-match and failed messages, and,
    for rounds without opt-in, the members the program had when the round matched."""
    r, m, a = tables.round_, tables.message, tables.response
    done = _select_done(program_ids, end=end)
    answer = (a.c.round_id == m.c.round_id) & (a.c.member_id == m.c.member_id)
    invitation = m.c.kind == "opt_in"
    messages = conn.execute(
        select(
            m.c.round_id,
            func.sum(case((invitation, 1), else_=0)),
            func.sum(case((invitation & a.c.answer.is_(True), 1), else_=0)),
            func.sum(case((invitation & a.c.answer.is_(False), 1), else_=0)),
            func.sum(case((m.c.kind == "no_match", 1), else_=0)),
            func.sum(case((m.c.status == "failed", 1), else_=0)),
        )
        .select_from(m.join(r, r.c.id == m.c.round_id).outerjoin(a, answer))
        .where(*done)
        .group_by(m.c.round_id)
    ).all()
    found = {
        i: _Counts(int(inv or 0), int(yes or 0), int(no or 0), int(alone or 0), int(bad or 0))
        for i, inv, yes, no, alone, bad in messages
    }
    for round_id, members in _count_members_at_match(conn, done=done):
        found[round_id] = found.get(round_id, _NONE)._replace(members=members)
    return found


def _count_members_at_match(conn: Connection, *, done: list[Any]) -> list[Any]:
    """(round id, members) for rounds without opt-in: those added before the round matched
    and not removed by then."""
    r, who = tables.round_, member_span
    matched = func.coalesce(r.c.matched_at, r.c.match_at)
    present = (who.c.created_at <= matched) & (
        who.c.removed_at.is_(None) | (who.c.removed_at > matched)
    )
    query = (
        select(r.c.id, func.count(who.c.id))
        .select_from(r.join(who, (who.c.program_id == r.c.program_id) & present))
        .where(*done, r.c.opt_in_at.is_(None))
        .group_by(r.c.id)
    )
    return list(conn.execute(query).all())


def _load_places(
    conn: Connection, program_ids: list[int], *, end: date | None
) -> dict[int, dict[int, list[int]]]:
    """round id -> group number -> member ids, for the matched rounds."""
    r, g = tables.round_, group_member
    rows = conn.execute(
        select(g.c.round_id, g.c.group_no, g.c.member_id)
        .select_from(g.join(r, r.c.id == g.c.round_id))
        .where(*_select_done(program_ids, end=end))
    ).all()  # at once: fetching row by row costs more than the query
    places: dict[int, dict[int, list[int]]] = {}
    for round_id, group_no, member_id in rows:
        places.setdefault(round_id, {}).setdefault(group_no, []).append(member_id)
    return places


def _count_repeated_pairs(
    rounds: Sequence[Any], *, places: dict[int, dict[int, list[int]]]
) -> dict[int, int]:
    """round id -> how many pairs of its groups were grouped together in an earlier matched
    round of the program (rounds come by match time, as ``show`` and ``groups`` see them)."""
    met: dict[int, set[tuple[int, int]]] = {}  # per program, every pair grouped so far
    repeats: dict[int, int] = {}
    for round_id, _, program_id, *_ in rounds:
        seen = met.setdefault(program_id, set())
        pairs = {
            (a, b) if a < b else (b, a)
            for group in places.get(round_id, {}).values()
            for i, a in enumerate(group)
            for b in group[i + 1 :]
        }
        repeats[round_id] = len(pairs & seen)
        seen |= pairs
    return repeats


def _to_utc_midnight(day: date, *, days: int) -> datetime:
    try:
        return datetime.combine(day + timedelta(days=days), time(), tzinfo=UTC)
    except OverflowError:  # past year 9999: no bound
        return datetime.max.replace(tzinfo=UTC)


def _is_in_range(day: date, *, start: date | None, end: date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)
