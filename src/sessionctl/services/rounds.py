"""Rounds as views see them: one typed result that renders as a table, a panel or JSON.

Views are read as plain rows from ``store.tables``: one query for the rounds, one for their
figures. The ORM models are imported only where a round is loaded to be changed. The results
are named tuples rather than dataclasses: ``list`` makes a thousand views, and a tuple is made
several times faster than a frozen dataclass (and its class too, at every start).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from sessionctl.domain.rounds import Status
from sessionctl.domain.times import iso, load_zone, to_zone
from sessionctl.errors import NotFoundError, no_program
from sessionctl.store import tables
from sessionctl.store.engine import Database

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql import Select
    from sqlmodel import Session

    from sessionctl.store.models import Round


class Figures(NamedTuple):
    """Per-round answer figures, derived from invitation and answer rows."""

    invited: int = 0
    opted_in: int = 0
    declined: int = 0
    sent: int = 0
    reminded: int = 0  # members a reminder was made for (sent, or still to send)

    @property
    def no_answer(self) -> int:
        return self.invited - self.opted_in - self.declined


class RoundView(NamedTuple):
    """A round as views show it."""

    id: int
    number: int  # within its program, from 1: what members read
    program: str
    program_title: str
    opt_in_program: bool
    status: Status
    zone: ZoneInfo
    opt_in_at: datetime | None
    match_at: datetime
    opened_at: datetime | None
    matched_at: datetime | None
    repeat: str
    series: int | None
    series_index: int
    color: str
    figures: Figures

    @property
    def starts_at(self) -> datetime:
        return self.opt_in_at or self.match_at

    def to_json(self, zone: ZoneInfo | None = None) -> dict[str, Any]:
        shown = zone or self.zone
        f = self.figures
        return {
            "id": self.id,
            "number": self.number,
            "program": self.program,
            "status": str(self.status),
            "timezone": self.zone.key,
            "opt_in_at": iso(self.opt_in_at, shown),
            "match_at": iso(self.match_at, shown),
            "opened_at": iso(self.opened_at, shown),
            "matched_at": iso(self.matched_at, shown),
            "repeat": self.repeat,
            "series": self.series,
            "color": self.color,
            "invited": f.invited,
            "opted_in": f.opted_in,
            "declined": f.declined,
            "no_answer": f.no_answer,
            "reminded": f.reminded,
        }


class RoundFilter(NamedTuple):
    program: str | None = None
    status: Status | None = None
    start: date | None = None  # first local date (view zone) of the match, inclusive
    end: date | None = None  # last local date, inclusive
    zone: ZoneInfo | None = None  # the view zone for start/end; None: each program's own


_NO_FIGURES = Figures()


def list_rounds(db: Database, flt: RoundFilter) -> list[RoundView]:
    """The rounds the filter selects, by match time."""
    r = tables.round_
    conditions = _conditions(flt)
    with db.connection() as conn:
        rows = conn.execute(_select_views().where(*conditions).order_by(r.c.match_at, r.c.id))
        views = _views(rows.all(), figures=_load_figures(conn, _select_ids().where(*conditions)))
        if not views and flt.program is not None:
            _check_program(conn, flt.program)  # no rounds, or no such program?
    if flt.start is None and flt.end is None:
        return views
    return [v for v in views if _in_range(v, flt)]


def program_zone(db: Database, name: str) -> ZoneInfo:
    """The zone of the program of that name; ``NotFoundError`` when there is none."""
    p = tables.program
    with db.connection() as conn:
        found = conn.execute(select(p.c.timezone).where(p.c.name == name)).scalar()
    if found is None:
        raise no_program(name)
    return load_zone(found)


def get_round(db: Database, round_id: int) -> RoundView:
    """One round's view, read as plain rows like ``list`` (``show --watch`` reads it often)."""
    with db.connection() as conn:
        rows = conn.execute(_select_views().where(tables.round_.c.id == round_id)).all()
        views = _views(rows, figures=_load_figures(conn, [round_id]))
    if not views:
        raise _no_round(round_id)
    return views[0]


def find_round(s: Session, round_id: int, *, lock: bool = False) -> Round:
    """The round, locked against concurrent changes until the transaction ends if ``lock``."""
    from sessionctl.store.models import Round  # not at the top: list and planning go without

    found = s.get(Round, round_id, with_for_update=lock)
    if found is None:
        raise _no_round(round_id)
    return found


def _no_round(round_id: int) -> NotFoundError:
    return NotFoundError(f"no round {round_id}: see 'sessionctl list'")


def views_of(s: Session, rounds: Sequence[Round]) -> list[RoundView]:
    """Views of rounds loaded (and changed, once flushed) in this session, in their order."""
    conn = s.connection()
    ids = [r.id for r in rounds if r.id is not None]
    found = conn.execute(_select_views().where(tables.round_.c.id.in_(ids))).all()
    by_id = {v.id: v for v in _views(found, figures=_load_figures(conn, ids))}
    return [by_id[i] for i in ids]


def _select_views() -> Select[Any]:
    """What a view shows of a round, in the order ``_views`` reads it."""
    r, p, x = tables.round_, tables.program, tables.series
    return select(
        r.c.id,
        r.c.number,
        p.c.name,
        p.c.title,
        p.c.opt_in,
        r.c.status,
        r.c.timezone,
        r.c.opt_in_at,
        r.c.match_at,
        r.c.opened_at,
        r.c.matched_at,
        x.c.repeat,
        r.c.series_id,
        r.c.series_index,
        r.c.color,
    ).select_from(r.join(p, r.c.program_id == p.c.id).outerjoin(x, r.c.series_id == x.c.id))


def _select_ids() -> Select[Any]:
    r, p = tables.round_, tables.program
    return select(r.c.id).select_from(r.join(p, r.c.program_id == p.c.id))


def _views(rows: Sequence[Any], figures: dict[int, Figures]) -> list[RoundView]:
    """Rows of ``_select_views`` as views. Rows are unpacked, not read by name: for a thousand
    rounds, reading columns by name costs more than the query."""
    zones: dict[str, ZoneInfo] = {}
    views: list[RoundView] = []
    for (
        round_id,
        number,
        program,
        title,
        opt_in,
        status,
        timezone,
        opt_in_at,
        match_at,
        opened_at,
        matched_at,
        repeat,
        series,
        series_index,
        color,
    ) in rows:
        zone = zones.get(timezone)
        if zone is None:
            zone = zones[timezone] = load_zone(timezone)
        views.append(
            RoundView(
                id=round_id,
                number=number,
                program=program,
                program_title=title,
                opt_in_program=opt_in,
                status=Status(status),
                zone=zone,
                opt_in_at=opt_in_at,
                match_at=match_at,
                opened_at=opened_at,
                matched_at=matched_at,
                repeat=repeat or "once",
                series=series,
                series_index=series_index,
                color=color,
                figures=figures.get(round_id, _NO_FIGURES),
            )
        )
    return views


def round_figures(conn: Connection, round_ids: Sequence[int]) -> dict[int, Figures]:
    """The figures of these rounds (those without an invitation have none), as views count."""
    return _load_figures(conn, round_ids)


def _load_figures(conn: Connection, round_ids: Sequence[int] | Select[Any]) -> dict[int, Figures]:
    """Invited, sent, opted in, declined and reminded per round (given by ids or a query of
    ids), counted from the invitation (opt-in message), reminder and answer rows themselves:
    members added or removed later cannot skew them, and an answer counts only from someone
    invited.

    A removed member still counts as invited (the opt-in went out), but their answer to a round
    not matched yet does not count, as matching leaves them out: they count under no answer.
    Removing a member deletes that answer; the filter covers answers older versions kept.
    A reminder counts once made, dropped or failed ones too: ``messages`` tells them apart."""
    m, a, who, r = tables.message, tables.response, tables.member, tables.round_
    invitation = m.c.kind == "opt_in"
    answer = invitation & (a.c.round_id == m.c.round_id) & (a.c.member_id == m.c.member_id)
    counts = who.c.active.is_(True) | r.c.matched_at.is_not(None)
    rows = conn.execute(
        select(
            m.c.round_id,
            func.sum(case((invitation, 1), else_=0)),
            func.sum(case((invitation & (m.c.status == "sent"), 1), else_=0)),
            func.sum(case((a.c.answer.is_(True) & counts, 1), else_=0)),
            func.sum(case((a.c.answer.is_(False) & counts, 1), else_=0)),
            func.sum(case((m.c.kind == "reminder", 1), else_=0)),
        )
        .select_from(
            m.outerjoin(a, answer)
            .join(who, who.c.id == m.c.member_id)
            .join(r, r.c.id == m.c.round_id)
        )
        .where(m.c.round_id.in_(round_ids), m.c.kind.in_(("opt_in", "reminder")))
        .group_by(m.c.round_id)
    )
    return {
        round_id: Figures(
            invited=int(invited or 0),
            sent=int(sent or 0),
            opted_in=int(yes or 0),
            declined=int(no or 0),
            reminded=int(reminded or 0),
        )
        for round_id, invited, sent, yes, no, reminded in rows
    }


def _conditions(flt: RoundFilter) -> list[Any]:
    r, p = tables.round_, tables.program
    conditions: list[Any] = []
    if flt.program is not None:
        conditions.append(p.c.name == flt.program)
    if flt.status is not None:
        conditions.append(r.c.status == str(flt.status))
    # Dates are local to each round or to the view: the SQL bound is two days wider, the exact
    # test follows in Python.
    if flt.start is not None:
        conditions.append(r.c.match_at >= _utc_midnight(flt.start, days=-2))
    if flt.end is not None:
        conditions.append(r.c.match_at < _utc_midnight(flt.end, days=3))
    return conditions


def _check_program(conn: Connection, name: str) -> None:
    p = tables.program
    if conn.execute(select(p.c.id).where(p.c.name == name)).first() is None:
        raise no_program(name)


def _utc_midnight(day: date, *, days: int) -> datetime:
    try:
        return datetime.combine(day + timedelta(days=days), time(), tzinfo=UTC)
    except OverflowError:  # --from 0001-01-01 / --to 9999-12-31: no bound on that side
        return (datetime.max if days > 0 else datetime.min).replace(tzinfo=UTC)


def _in_range(v: RoundView, flt: RoundFilter) -> bool:
    zone = flt.zone or v.zone
    day = to_zone(v.match_at, zone).date()
    if flt.start is not None and day < flt.start:
        return False
    return flt.end is None or day <= flt.end
