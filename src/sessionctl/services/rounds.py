"""Rounds as views see them: one typed result that renders as a table, a panel or JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case
from sqlmodel import Session, col, func, select

from sessionctl.domain.rounds import Status
from sessionctl.domain.times import iso, load_zone, to_zone
from sessionctl.errors import NotFoundError
from sessionctl.services.programs import get_program
from sessionctl.store.engine import Database
from sessionctl.store.models import Member, Message, Program, Response, Round, Series


@dataclass(frozen=True)
class Figures:
    """Per-round answer figures, derived from invitation and answer rows."""

    invited: int = 0
    opted_in: int = 0
    declined: int = 0
    sent: int = 0

    @property
    def no_answer(self) -> int:
        return self.invited - self.opted_in - self.declined


@dataclass(frozen=True)
class RoundView:
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
        }


@dataclass(frozen=True)
class RoundFilter:
    program: str | None = None
    status: Status | None = None
    start: date | None = None  # first local date (view zone) of the match, inclusive
    end: date | None = None  # last local date, inclusive
    zone: ZoneInfo | None = None  # the view zone for start/end; None: each program's own


def list_rounds(db: Database, flt: RoundFilter) -> list[RoundView]:
    with db.session() as s:
        query = select(Round, Program).join(Program, col(Round.program_id) == Program.id)
        if flt.program is not None:
            query = query.where(Round.program_id == get_program(s, flt.program).id)
        if flt.status is not None:
            query = query.where(Round.status == str(flt.status))
        # Dates are local to each round or to the view: the SQL bound is two days wider, the
        # exact test follows in Python.
        if flt.start is not None:
            query = query.where(col(Round.match_at) >= _utc_midnight(flt.start, days=-2))
        if flt.end is not None:
            query = query.where(col(Round.match_at) < _utc_midnight(flt.end, days=3))
        rows = s.exec(query.order_by(col(Round.match_at), col(Round.id))).all()
        views = views_of(s, rows)
    return [v for v in views if _in_range(v, flt)]


def get_round(db: Database, round_id: int) -> RoundView:
    with db.session() as s:
        return view_of(s, find_round(s, round_id))


def find_round(s: Session, round_id: int, *, lock: bool = False) -> Round:
    """The round, locked against concurrent changes until the transaction ends if ``lock``."""
    found = s.get(Round, round_id, with_for_update=lock)
    if found is None:
        raise NotFoundError(f"no round {round_id}: see 'sessionctl list'")
    return found


def view_of(s: Session, r: Round) -> RoundView:
    program = s.get(Program, r.program_id)
    assert program is not None
    return views_of(s, [(r, program)])[0]


def views_of(s: Session, rows: Sequence[tuple[Round, Program]]) -> list[RoundView]:
    series_ids = {r.series_id for r, _ in rows if r.series_id is not None}
    repeats: dict[int, str] = {}
    if series_ids:
        found = s.exec(select(Series.id, Series.repeat).where(col(Series.id).in_(series_ids)))
        repeats = {sid: rep for sid, rep in found if sid is not None}
    figures = load_figures(s, [r.id for r, _ in rows if r.id is not None])
    return [
        _view(r, p, repeat=repeats.get(r.series_id or 0, "once"), figures=figures.get(r.id or 0))
        for r, p in rows
    ]


def load_figures(s: Session, round_ids: Sequence[int]) -> dict[int, Figures]:
    """Invited, sent, opted in and declined per round, counted from the invitation (opt-in
    message) and answer rows themselves: members added or removed later cannot skew them.

    A removed member still counts as invited (the opt-in went out), but their answer to a round
    not matched yet does not count, as matching leaves them out: they count under no answer.
    Removing a member deletes that answer; the filter below covers answers older versions kept."""
    if not round_ids:
        return {}
    invited = s.exec(
        select(
            Message.round_id,
            func.count(),
            func.sum(case((col(Message.status) == "sent", 1), else_=0)),
        )
        .where(col(Message.round_id).in_(round_ids), Message.kind == "opt_in")
        .group_by(col(Message.round_id))
    ).all()
    answers = s.exec(
        select(Response.round_id, Response.answer, func.count())
        .join(
            Message,
            (col(Message.round_id) == Response.round_id)
            & (col(Message.member_id) == Response.member_id)
            & (col(Message.kind) == "opt_in"),
        )
        .join(Member, col(Member.id) == Response.member_id)
        .join(Round, col(Round.id) == Response.round_id)
        .where(col(Response.round_id).in_(round_ids))
        .where(col(Member.active) | col(Round.matched_at).is_not(None))
        .group_by(col(Response.round_id), col(Response.answer))
    ).all()
    yes: dict[int, int] = {}
    no: dict[int, int] = {}
    for round_id, answer, count in answers:
        (yes if answer else no)[round_id] = count
    return {
        round_id: Figures(
            invited=count,
            opted_in=yes.get(round_id, 0),
            declined=no.get(round_id, 0),
            sent=int(sent or 0),
        )
        for round_id, count, sent in invited
    }


def _view(r: Round, p: Program, *, repeat: str, figures: Figures | None) -> RoundView:
    assert r.id is not None
    return RoundView(
        id=r.id,
        number=r.number,
        program=p.name,
        program_title=p.title,
        opt_in_program=p.opt_in,
        status=Status(r.status),
        zone=load_zone(r.timezone),
        opt_in_at=r.opt_in_at,
        match_at=r.match_at,
        opened_at=r.opened_at,
        matched_at=r.matched_at,
        repeat=repeat,
        series=r.series_id,
        series_index=r.series_index,
        color=r.color,
        figures=figures or Figures(),
    )


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
