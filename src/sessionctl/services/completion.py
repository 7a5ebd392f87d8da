"""What shell completion offers for what has been typed so far, each value with a description.

Values from the database come through ``store.peek`` (read-only, never creating anything);
every other value list comes from the module that defines it, so completion cannot drift from
what the commands accept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sessionctl.config import Settings
from sessionctl.store import peek


@dataclass(frozen=True)
class Candidate:
    value: str
    help: str | None = None  # user text (titles, names) as stored: the shell layer cleans it


def programs(settings: Settings, *, typed: str) -> list[Candidate]:
    prefix = typed.lower()  # names are lowercase slugs
    return [
        Candidate(row.name, row.title if row.title != row.name else None)
        for row in peek.programs(settings)
        if row.name.startswith(prefix)
    ]


def rounds(
    settings: Settings, *, typed: str, statuses: frozenset[str] | None = None
) -> list[Candidate]:
    """Round ids starting with ``typed``, described by program, match time and status."""
    if typed and not typed.isdigit():
        return []
    return [
        Candidate(str(row.id), f"{row.program}, {_match_time(row)}, {row.status}")
        for row in peek.rounds(settings, id_prefix=typed, statuses=statuses)
    ]


def members(
    settings: Settings, *, program: str, typed: str, active: bool | None = None
) -> list[Candidate]:
    """Emails of the program's members (only active or only removed ones when ``active`` says)."""
    return _emails(peek.members(settings, program=program), typed=typed, active=active)


def round_members(settings: Settings, *, round_id: int, typed: str) -> list[Candidate]:
    """Emails of the active members of the round's program: the ones who may answer."""
    return _emails(peek.round_members(settings, round_id=round_id), typed=typed, active=True)


def zones(*, typed: str) -> list[Candidate]:
    """IANA zone names starting with ``typed``, whatever its letter case."""
    from zoneinfo import available_timezones

    return values(sorted(available_timezones()), typed=typed)


def values(choices: Iterable[str], *, typed: str) -> list[Candidate]:
    prefix = typed.casefold()
    return [Candidate(choice) for choice in choices if choice.casefold().startswith(prefix)]


def _emails(rows: list[peek.MemberRow], *, typed: str, active: bool | None) -> list[Candidate]:
    prefix = typed.casefold()
    return [
        Candidate(row.email, _describe_member(row))
        for row in rows
        if (active is None or row.active == active) and row.email.casefold().startswith(prefix)
    ]


def _describe_member(row: peek.MemberRow) -> str | None:
    """``Ana Lima (design)``; ``Ana Lima (design), removed`` for a removed member."""
    who = " ".join(part for part in (row.name, f"({row.team})" if row.team else "") if part)
    if row.active:
        return who or None
    return f"{who}, removed" if who else "removed"


def _match_time(row: peek.RoundRow) -> str:
    from sessionctl.domain.times import format_local, load_zone
    from sessionctl.errors import InputError

    try:
        zone = load_zone(row.timezone)
    except InputError:  # a zone this machine's tzdata lacks: still show the instant
        zone = load_zone("UTC")
    return format_local(row.match_at, zone)
