"""Form the groups of a round: fewest repeats (recent ones weigh most), then mixed teams.

Pure and deterministic: the same participants, history, group size and seed give the same groups
whatever the input order. The clock and the global random state are never read.

A grouping's cost, by level (each level outweighs everything below it):

1. rules: pairs placed together whom a rule (``avoid``) keeps apart. A grouping that keeps
   every rule beats any that breaks one, even at the price of repeats; when none keeps them
   all, the fewest rules give way, and ``Result.gave_way`` names them;
2. repeats: pairs placed together who met in the counted history;
3. extras: last round's extra of an enlarged group is an extra again when someone else could be;
4. recency and teams, on one scale: a repeat whose latest meeting was the a-th most recent of the
   R counted rounds costs ceil(R / a) (R for last round's pairs, fading to 1); a same-team pair
   costs 1. Team mixing never costs a repeat, yields to avoiding a clearly more recent repeat and
   decides between repeats of long ago (ranking recency strictly above teams would let "met 39,
   not 40, rounds ago" outweigh any amount of mixing);
5. each repeat also costs its round's rank (1 oldest .. R newest): with nothing above to decide,
   the least recent repeat wins.

Search (_search): a randomized greedy build (most constrained people first), then a swap
local search. Up to _EXHAUSTIVE people, swaps try every partner, pairs also get a maximum
"never met" matching (Edmonds' blossoms: no chain of re-pairings that saves a repeat is missed;
a pair under a rule is no "never met" edge), and an iterated local search follows; larger
rounds sample partners. When pairs leave one person over (one trio), a last check finds the
trio that the fewest repeats need (_oddpool). So up to _EXHAUSTIVE people, pairs get the
fewest repeats possible (the check's work is bounded too; random programs stay far below the
bound). Groups of three and more in rounds of up to _CHAINS people instead get ejection chains
(_chains: people moving on among up to four groups at once, which swaps alone miss) in an
iterated local search from several greedy starts; on pools of 20 to 30 people this reaches
the proven optimum of the whole cost in nearly every case (bench/matching_groups.py). Effort
is counted, never timed: timing would break determinism.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from sessionctl.domain._search import _count_rounds, _latest_extras, _Search

MIN_GROUP_SIZE = 2
MAX_GROUP_SIZE = 6


@dataclass(frozen=True)
class Participant:
    """Someone to place. ``key`` is stable across rounds (e.g. the lowercased email)."""

    key: str
    team: str | None = None


@dataclass(frozen=True)
class PastRound:
    """A round whose groups count as history (match messages were created).

    ``order`` ranks rounds: larger is more recent; give distinct values. ``extras`` holds who
    was an extra member of an enlarged group (e.g. the third of a trio) in that round.
    """

    order: int
    groups: Sequence[Sequence[str]]
    extras: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Result:
    """Groups (each sorted, the list sorted), a lone participant, extras and repeats.

    ``gave_way`` lists the rules the groups break, each as its sorted pair of keys, the list
    sorted: empty when the search found a grouping that keeps every rule (for pairs and
    sparse rules, whenever one exists; very dense rules in larger groups may defeat it).
    """

    groups: list[list[str]]
    no_match: list[str]
    extras: frozenset[str]
    repeated_pairs: int
    gave_way: list[tuple[str, str]] = field(default_factory=list)


def pair_history(
    history: Sequence[PastRound], *, lookback: int | None = None
) -> dict[frozenset[str], int]:
    """Map each pair who met in the counted history to the ``order`` of their latest meeting.

    Only the ``lookback`` most recent rounds count (``None``: all of them; 0: none).
    """
    met: dict[frozenset[str], int] = {}
    for past in _count_rounds(history, lookback):
        for group in past.groups:
            for a, b in combinations(sorted(set(group)), 2):
                met[frozenset((a, b))] = past.order
    return met


def form_groups(
    participants: Sequence[Participant],
    *,
    history: Sequence[PastRound],
    group_size: int,
    seed: int,
    lookback: int | None = None,
    avoid: Collection[frozenset[str]] = (),
) -> Result:
    """Place every participant in exactly one group, or in ``no_match`` when alone.

    - 0 participants: no groups; 1: that person is ``no_match``.
    - 2 .. group_size - 1: one group of everyone (smaller than the group size, unavoidably;
      splitting would only make groups smaller still). No extras.
    - Otherwise ``n // group_size`` groups; the ``n % group_size`` leftovers join distinct groups
      round-robin (a pair becomes a trio), so sizes differ by at most one.
    - Repeats count only the ``lookback`` most recent rounds (``None``: all); the extras rule
      looks at the most recent round of ``history`` whatever ``lookback`` is.
    - ``avoid`` holds rules: pairs of keys not placed in the same group when the search
      finds a grouping that allows it (level 1 above: it outweighs everything else). A rule
      naming someone not taking part is ignored.

    Raises ``ValueError`` for a group size outside 2..6, a negative lookback or duplicate keys:
    programming errors, as the caller validates user input.
    """
    if not MIN_GROUP_SIZE <= group_size <= MAX_GROUP_SIZE:
        raise ValueError(f"group_size must be {MIN_GROUP_SIZE}..{MAX_GROUP_SIZE}: {group_size}")
    people = sorted(participants, key=lambda person: person.key)
    keys = [person.key for person in people]
    if len(set(keys)) != len(keys):
        raise ValueError("participant keys must be unique")
    if len(people) <= 1:
        return Result(groups=[], no_match=keys, extras=frozenset(), repeated_pairs=0)
    rng = random.Random(seed)
    search = _Search(people, history=history, group_size=group_size, lookback=lookback, avoid=avoid)
    groups = search.solve(rng)
    extras = _choose_extras(groups, people=people, history=history, group_size=group_size, rng=rng)
    pairs = [(a, b) for g in groups for a, b in combinations(sorted(g), 2)]
    return Result(
        groups=sorted(sorted(keys[p] for p in g) for g in groups),
        no_match=[],
        extras=frozenset(keys[p] for p in extras),
        repeated_pairs=sum(search.repeat(a, b) for a, b in pairs),
        gave_way=sorted((keys[a], keys[b]) for a, b in pairs if search.rule(a, b)),
    )


def _choose_extras(
    groups: list[list[int]],
    *,
    people: Sequence[Participant],
    history: Sequence[PastRound],
    group_size: int,
    rng: random.Random,
) -> set[int]:
    """Label the extras of each enlarged group: not last round's extras, then whoever was an
    extra least recently (never is best), then at random."""
    last = _latest_extras(history)
    when: dict[str, int] = {}
    for past in sorted(history, key=lambda past: past.order):
        when.update(dict.fromkeys(past.extras, past.order))
    chosen: set[int] = set()
    for group in groups:
        if (extra_count := len(group) - group_size) > 0:
            keys = [people[p].key for p in group]
            ranked = sorted(
                (key in last, key in when, when.get(key, 0), rng.random(), p)
                for key, p in zip(keys, group, strict=True)
            )
            chosen.update(p for *_, p in ranked[:extra_count])
    return chosen
