"""Programs: add, change, list, show; rename, archive, delete (their lifecycle).

``program list`` and ``program show`` read plain rows from ``store.tables``, one query each.
The ORM models (and SQLModel and the SQLAlchemy ORM under them) are imported only where a
program is loaded to be changed: importing them takes many times longer than reading and
showing the programs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from sessionctl.domain import validation
from sessionctl.domain.icebreakers import parse_list
from sessionctl.domain.rounds import Status
from sessionctl.domain.times import load_zone
from sessionctl.domain.validation import DEFAULT_SENDER
from sessionctl.domain.words import noun_for
from sessionctl.errors import InputError, naming, no_program
from sessionctl.store import tables
from sessionctl.store.engine import Database

if TYPE_CHECKING:
    from sqlalchemy.sql import Select
    from sqlmodel import Session

    from sessionctl.store.models import Program


@dataclass(frozen=True)
class ProgramInfo:
    name: str
    title: str
    timezone: str
    opt_in: bool
    group_size: int
    sender: str | None
    link_base: str | None
    members: int
    grace_hours: int = 24
    lookback: int | None = None
    reply_to: str | None = None
    bounce_limit: int = 3
    language: str = "en"
    icebreakers: int | None = None  # how many of its own; None: the language's default list
    archived: bool = False
    reminder_hours: int = 24  # 0: no reminder
    reminder_below: int | None = None  # percent; None: the program's median

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "timezone": self.timezone,
            "opt_in": self.opt_in,
            "group_size": self.group_size,
            "sender": self.sender,
            "link_base": self.link_base,
            "grace_hours": self.grace_hours,
            "lookback": self.lookback,
            "reply_to": self.reply_to,
            "bounce_limit": self.bounce_limit,
            "language": self.language,
            "icebreakers": self.icebreakers,
            "members": self.members,
            "archived": self.archived,
            "reminder_hours": self.reminder_hours,
            "reminder_below": self.reminder_below,
        }


@dataclass(frozen=True)
class ProgramChanges:
    """What ``program add`` or ``program set`` was given; None means not given."""

    timezone: str | None = None
    opt_in: bool | None = None
    group_size: int | None = None
    title: str | None = None
    sender: str | None = None
    link_base: str | None = None
    grace_hours: int | None = None
    lookback: str | None = None  # a number of past rounds, or "all"
    reply_to: str | None = None  # "" removes it
    bounce_limit: int | None = None
    language: str | None = None
    icebreakers: str | None = None  # the list's text; "default" goes back to the default list
    reminder_hours: int | None = None
    reminder_below: str | None = None  # a percentage, or "median" to go back to the median


def check_new_program(name: str, *, changes: ProgramChanges) -> ProgramChanges:
    """Validate what ``program add`` was given, before a database is opened or created."""
    validation.program_name(name)
    return _validated(changes)


def add_program(
    db: Database, name: str, *, changes: ProgramChanges, now: datetime, default_zone: str
) -> ProgramInfo:
    from sessionctl.store.models import Program

    values = check_new_program(name, changes=changes)
    with db.session(write=True) as s:
        if _find(s, name) is not None:
            raise _exists(name)
        program = Program(
            name=name,
            title=values.title or name,
            timezone=values.timezone or load_zone(default_zone).key,
            opt_in=True if values.opt_in is None else values.opt_in,
            group_size=values.group_size or 2,
            sender=values.sender,
            link_base=values.link_base,
            grace_hours=values.grace_hours or 24,
            lookback=_lookback(values.lookback),
            reply_to=values.reply_to or None,
            bounce_limit=values.bounce_limit or 3,
            language=values.language or "en",
            icebreakers=_icebreakers(values.icebreakers),
            reminder_hours=24 if values.reminder_hours is None else values.reminder_hours,
            reminder_below=_reminder_below(values.reminder_below),
            created_at=now,
        )
        s.add(program)
        try:
            s.flush()
        except IntegrityError:  # added by another process since _find looked
            raise _exists(name) from None
        return _info(s, program)


def set_program(db: Database, name: str, *, changes: ProgramChanges) -> ProgramInfo:
    values = _validated(changes)
    with db.session(write=True) as s:
        program = get_program(s, name)
        for field in _SETTINGS:
            value = getattr(values, field)
            if value is not None:
                setattr(program, field, value or None if field in _CLEARABLE else value)
        if values.grace_hours is not None:
            program.grace_hours = values.grace_hours
        if values.lookback is not None:
            program.lookback = _lookback(values.lookback)
        if values.icebreakers is not None:
            program.icebreakers = _icebreakers(values.icebreakers)
        if values.reminder_hours is not None:
            program.reminder_hours = values.reminder_hours
        if values.reminder_below is not None:
            program.reminder_below = _reminder_below(values.reminder_below)
        s.add(program)
        s.flush()
        return _info(s, program)


_SETTINGS = (
    "timezone",
    "opt_in",
    "group_size",
    "title",
    "sender",
    "link_base",
    "reply_to",
    "bounce_limit",
    "language",
)
_CLEARABLE = ("sender", "link_base", "reply_to")  # given as "", they go back to none


def sender_note(names: Sequence[str], *, went: bool = False) -> str:
    """How to set a sender, for programs whose mail goes (``went``: went) out from the default
    address: one line for stderr, naming the command that fixes it."""
    name = names[0] if len(names) == 1 else "NAME"
    verb = "went" if went else "will go"
    which = f" for {noun_for(len(names), 'program')} {', '.join(names)}" if went else ""
    return (
        f"messages {verb} out from {DEFAULT_SENDER}{which}; "
        f"set a sender with: sessionctl program set {name} --sender EMAIL"
    )


def list_programs(db: Database) -> list[ProgramInfo]:
    """Every program, by name."""
    with db.connection() as conn:
        rows = conn.execute(_select_infos().order_by(tables.program.c.name)).all()
    return [ProgramInfo(**row._mapping) for row in rows]


def show_program(db: Database, name: str) -> ProgramInfo:
    with db.connection() as conn:
        row = conn.execute(_select_infos().where(tables.program.c.name == name)).first()
    if row is None:
        raise no_program(name)
    return ProgramInfo(**row._mapping)


def get_program(s: Session, name: str, *, lock: bool = False) -> Program:
    """The program of that name, or a NotFoundError that says how to see the names. With
    ``lock``, other transactions that lock it wait until this one ends: writes to a program's
    members take turns, so two imports of one new address cannot both insert it."""
    program = _find(s, name, lock=lock)
    if program is None:
        raise no_program(name)
    return program


def _exists(name: str) -> InputError:
    return InputError(
        f"program {name!r} already exists: change it with 'sessionctl program set {name}'"
    )


def _find(s: Session, name: str, *, lock: bool = False) -> Program | None:
    from sqlmodel import col

    from sessionctl.store.models import Program

    query = select(Program).where(col(Program.name) == name)
    return s.scalars(query.with_for_update() if lock else query).first()


def _zone_name(tz: str | None) -> str | None:
    if tz is None:
        return None
    with naming("--tz"):
        return load_zone(tz).key


def _validated(changes: ProgramChanges) -> ProgramChanges:
    if changes.group_size is not None:
        validation.group_size(changes.group_size)
    if changes.title is not None:
        validation.single_line(changes.title, what="title")
    if changes.grace_hours is not None:
        validation.grace_hours(changes.grace_hours)
    if changes.lookback is not None:
        _lookback(changes.lookback)
    if changes.bounce_limit is not None:
        validation.bounce_limit(changes.bounce_limit)
    if changes.language is not None:
        validation.language(changes.language)
    if changes.icebreakers is not None:
        _icebreakers(changes.icebreakers)
    if changes.reminder_hours is not None:
        validation.reminder_hours(changes.reminder_hours)
    _reminder_below(changes.reminder_below)
    return ProgramChanges(
        reminder_hours=changes.reminder_hours,
        reminder_below=changes.reminder_below,
        language=changes.language,
        icebreakers=changes.icebreakers,
        reply_to=validation.email(changes.reply_to) if changes.reply_to else changes.reply_to,
        bounce_limit=changes.bounce_limit,
        grace_hours=changes.grace_hours,
        lookback=changes.lookback,
        timezone=_zone_name(changes.timezone),
        opt_in=changes.opt_in,
        group_size=changes.group_size,
        title=changes.title,
        sender=validation.email(changes.sender) if changes.sender else changes.sender,
        link_base=validation.link_base(changes.link_base)
        if changes.link_base
        else changes.link_base,
    )


def _icebreakers(text: str | None) -> str | None:
    """The program's own starters, one per line, checked; None for the default list."""
    if text is None or text.strip() == "default":
        return None
    return "\n".join(parse_list(text, source="--icebreakers"))


def _reminder_below(text: str | None) -> int | None:
    """The percentage under which rounds get a reminder; None (the median) when not given."""
    return None if text is None else validation.reminder_below(text)


def _lookback(text: str | None) -> int | None:
    """How many past rounds matching counts: a number, or all of them (None)."""
    return None if text is None else validation.lookback(text)


def _select_infos() -> Select[Any]:
    """The fields of a ProgramInfo, labelled by name; ``members`` counts the active ones."""
    p, m = tables.program, tables.member
    members = select(func.count()).where(m.c.program_id == p.c.id, m.c.active)
    return select(
        p.c.name,
        p.c.title,
        p.c.timezone,
        p.c.opt_in,
        p.c.group_size,
        p.c.sender,
        p.c.link_base,
        members.correlate(p).scalar_subquery().label("members"),
        p.c.grace_hours,
        p.c.lookback,
        p.c.reply_to,
        p.c.bounce_limit,
        p.c.language,
        _count_lines(p.c.icebreakers).label("icebreakers"),
        p.c.archived,
        p.c.reminder_hours,
        p.c.reminder_below,
    )


def _count_lines(column: Any) -> Any:
    """How many lines a stored list holds (None stays None): newlines plus one."""
    newline = func.length(column) - func.length(func.replace(column, "\n", ""))
    return newline + 1


def _info(s: Session, p: Program) -> ProgramInfo:
    """The program as just written in ``s``, read back as ``program show`` reads it."""
    s.flush()
    row = s.execute(_select_infos().where(tables.program.c.id == p.id)).one()
    return ProgramInfo(**row._mapping)


# --- lifecycle: rename, archive, delete ----------------------------------------------------------


@dataclass(frozen=True)
class Footprint:
    """What deleting a program removes: every member row (those who left too) and round."""

    name: str
    members: int
    rounds: int
    open_rounds: list[int]

    def to_json(self) -> dict[str, Any]:
        return {"deleted": self.name, "members": self.members, "rounds": self.rounds}


def rename_program(db: Database, old: str, new: str) -> ProgramInfo:
    """Give the program a new name. Message-IDs, tokens and links name ids, never the program's
    name, so mail already sent and links already given keep working."""
    validation.program_name(new)
    with db.session(write=True) as s:
        program = get_program(s, old, lock=True)
        if new != old and _find(s, new) is not None:
            raise _taken(new)
        program.name = new
        s.add(program)
        try:
            s.flush()
        except IntegrityError:  # taken by another process since _find looked
            raise _taken(new) from None
        return _info(s, program)


def set_archived(db: Database, name: str, *, archived: bool) -> ProgramInfo:
    """Archive the program (no new rounds; run-due leaves its rounds as they are) or bring it
    back. Its members, rounds and messages are kept either way."""
    with db.session(write=True) as s:
        program = get_program(s, name, lock=True)
        program.archived = archived
        s.add(program)
        return _info(s, program)


def program_footprint(db: Database, name: str, *, force: bool = False) -> Footprint:
    """What ``delete_program`` would remove; refused while a round is open, unless ``force``."""
    with db.session() as s:
        found = _footprint(s, get_program(s, name))
    _check_closed(found, force=force)
    return found


def delete_program(db: Database, name: str, *, force: bool = False) -> Footprint:
    """Delete the program and every row of it, in one transaction: its inbox rows, groups,
    answers, messages, pairing rules, rounds, series, members and the program itself."""
    from sqlmodel import col

    from sessionctl.store import models as m

    with db.session(write=True) as s:
        program = get_program(s, name, lock=True)  # run-due and schedule wait for us
        found = _footprint(s, program)
        _check_closed(found, force=force)
        pid = program.id
        rounds = select(col(m.Round.id)).where(col(m.Round.program_id) == pid)
        members = select(col(m.Member.id)).where(col(m.Member.program_id) == pid)
        inbound = m.Inbound
        ours = (col(inbound.program_id) == pid) | col(inbound.round_id).in_(rounds)
        _delete(s, inbound, ours | col(inbound.member_id).in_(members))
        for by_round in (m.GroupMember, m.Response, m.Message):
            ids = col(by_round.round_id).in_(rounds) | col(by_round.member_id).in_(members)
            _delete(s, by_round, ids)
        # In this order: rounds name their series, pairing rules their members.
        for owned in (m.Avoid, m.Round, m.Series, m.Member):
            _delete(s, owned, col(owned.program_id) == pid)
        s.delete(program)
        return found


def _delete(s: Session, model: Any, where: Any) -> None:
    from sqlalchemy import delete

    s.execute(delete(model).where(where).execution_options(synchronize_session=False))


def _footprint(s: Session, program: Program) -> Footprint:
    from sqlmodel import col

    from sessionctl.store.models import Member, Round

    pid = program.id
    members = s.execute(select(func.count()).where(col(Member.program_id) == pid)).scalar_one()
    query = select(col(Round.id), col(Round.status)).where(col(Round.program_id) == pid)
    rounds = s.execute(query).all()
    opened = sorted(i for i, status in rounds if status == Status.OPEN)
    return Footprint(program.name, int(members), len(rounds), opened)


def _check_closed(found: Footprint, *, force: bool) -> None:
    if found.open_rounds and not force:
        ids = ", ".join(map(str, found.open_rounds))
        noun = "round" if len(found.open_rounds) == 1 else "rounds"
        raise InputError(
            f"program {found.name!r} has open {noun} {ids}: cancel or finish them first, "
            "or pass --force to delete it anyway"
        )


def _taken(name: str) -> InputError:
    return InputError(f"program {name!r} already exists: choose another name")
