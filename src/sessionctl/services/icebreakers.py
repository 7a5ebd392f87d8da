"""Conversation starters for match emails: the program's list, and each group's pick."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources

from sqlmodel import Session, col, select

from sessionctl.domain.icebreakers import choose, parse_list
from sessionctl.store.models import GroupMember, Program, Round


def starters(program: Program) -> list[str]:
    """The program's own starters, or the default list of its language."""
    if program.icebreakers:
        return program.icebreakers.splitlines()
    return list(_default(program.language))


def pick(s: Session, program: Program, r: Round, groups: Sequence[Sequence[int]]) -> list[str]:
    """One starter per group (member ids), none a member got in their previous match when
    the list allows it; drawn from the round's seed."""
    listed = starters(program)
    members = [m for group in groups for m in group]
    previous = _previous(s, program, r, members)
    return [
        choose(listed, members=group, previous=previous, seed=r.seed + number)
        for number, group in enumerate(groups, start=1)
    ]


def _previous(s: Session, program: Program, r: Round, members: list[int]) -> dict[int, str]:
    """Each member's starter in their latest match of the program before round ``r``."""
    found: dict[int, str] = {}
    for start in range(0, len(members), 500):
        rows = s.exec(
            select(GroupMember.member_id, GroupMember.icebreaker)
            .join(Round, col(GroupMember.round_id) == Round.id)
            .where(Round.program_id == program.id, Round.number < r.number)
            .where(col(GroupMember.member_id).in_(members[start : start + 500]))
            .where(col(GroupMember.icebreaker).is_not(None))
            .order_by(col(Round.number).desc())
        ).all()
        for member_id, icebreaker in rows:
            if icebreaker is not None:
                found.setdefault(member_id, icebreaker)
    return found


@cache
def _default(language: str) -> tuple[str, ...]:
    folder = resources.files("sessionctl.delivery").joinpath("icebreakers")
    text = folder.joinpath(f"{language}.txt").read_text(encoding="utf-8")
    return tuple(parse_list(text, source=f"the default {language} list"))
