"""Conversation starters: a program's list, and the one a group gets.

A group's starter is one that none of its members got in their previous match, when the list
allows it; among those, the round's seed picks, so a run and its replay agree.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from sessionctl.domain import validation
from sessionctl.errors import InputError

LIMIT = 500  # starters in one list


def parse_list(text: str, *, source: str) -> list[str]:
    """One starter per line; blank lines and lines starting with ``#`` are skipped. Each is
    one plain line of at most 200 characters; duplicates are dropped."""
    starters: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            starters.append(validation.single_line(line, what="icebreaker"))
        except InputError as err:
            raise InputError(f"{source} line {number}: {err}") from None
    unique = list(dict.fromkeys(starters))
    if not unique:
        raise InputError(f"{source} holds no icebreaker: write one per line")
    if len(unique) > LIMIT:
        raise InputError(f"{source} holds {len(unique)} icebreakers: at most {LIMIT}")
    return unique


def choose(
    starters: Sequence[str],
    *,
    members: Sequence[int],
    previous: Mapping[int, str],
    seed: int,
) -> str:
    """The starter for a group of ``members``, given what each got last time (``previous``):
    one nobody in the group got last time when there is one, else one the fewest got."""
    if not starters:
        return ""
    had = [previous[m] for m in members if m in previous]
    fewest = min(had.count(s) for s in starters)
    candidates = [s for s in starters if had.count(s) == fewest]
    return random.Random(seed).choice(candidates)
