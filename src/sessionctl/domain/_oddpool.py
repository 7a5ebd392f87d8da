"""Pairs and one trio, for an odd number of people: the fewest repeats, exactly.

G is the graph "never met", M a maximum matching of it with v pairs, k = n // 2 the number of
groups. A grouping whose trio is T repeats at best r(T) + (k - 1) - v(G - T) pairs, where r(T)
counts the pairs of T who met. That is never below k - v: the groups holding a pair who never
met form a matching of G. Nor need it be above k - v + 2: M's pairs, the people M leaves alone
paired with each other (they all met), one of those joining a pair of M. Which of the three
values is reached depends on T alone (a pair kept apart by a rule counts as a pair who met:
``met`` holds it, at a cost above any repeat's):

- k - v needs r(T) = 0 and v(G - T) = v - 1 (a T holding an edge of G leaves G - T at most
  v - 1 pairs, and one without repeats three pairs). With an edge of T added, the matching of
  G - T is a maximum matching of G that leaves T's third person alone: so T lies within D, the
  people some maximum matching leaves alone, found by one search from each person M leaves
  alone.
- k - v + 1 needs r(T) = 1 and v(G - T) = v - 1, or r(T) = 0 and v(G - T) = v - 2. The first
  exists as soon as someone M leaves alone has a neighbour u in G: T = that person, u and u's
  mate (of all such T, the one whose pair who met costs least: a repeat rather than a pair
  kept apart by a rule, whenever one of these T allows it). If none has one, D is just these
  people, none with a neighbour, while the first kind of T has its two ends in D with a
  neighbour each: only the second kind can remain.

Whether v(G - T) reaches a number needs no new matching: drop from M the pairs touching T, and
only a path ending at a former mate of T can augment the rest (any other would augment M), so
one search from each of these (at most three) decides it. The search is bounded by ``work``
(scans of a person's neighbours), so that a large pool keeps its time: deterministic, never
timed. Only past the bound can it miss the fewest repeats.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from sessionctl.domain._blossom import search

Trio = tuple[int, int, int]


def fewer_repeats(
    mate: list[int],
    met: Sequence[dict[int, int]],
    *,
    repeats: int,
    work: int,
    rng: random.Random,
) -> list[list[int]] | None:
    """Pairs and one trio with fewer than ``repeats`` repeated pairs, the fewest possible; or
    None when there is none (or ``work`` ran out first).

    ``mate`` is a maximum matching of the graph "never met" (``met[a]`` holds whom ``a`` met)
    on an odd number of people, at least five; ``repeats``, those of the current groups, is at
    most k - v + 2 (see above). ``rng`` orders the search: which of several equally good trios
    is chosen depends on it, not on the order of the people.
    """
    n = len(mate)
    least = n // 2 - (n - mate.count(-1)) // 2
    if repeats <= least:
        return None
    trios = _Trios(mate, met, work=work)
    order = rng.sample(range(n), n)
    alone = [p for p in order if mate[p] < 0]
    left_alone: set[int] = set()  # D: whom some maximum matching leaves alone
    for p in alone:
        left_alone.update(trios.reach(p))
    found = trios.triangle([p for p in order if p in left_alone], extra=1)
    if found is not None or repeats <= least + 1:
        return found
    # The trio's one pair who are not free costs least: a repeat, not a rule, when it can.
    cheapest = min(
        (
            (met[p].get(mate[u], 0), i, j, p, u)
            for i, p in enumerate(alone)
            for j, u in enumerate(order)
            if u != p and u not in met[p] and mate[u] >= 0
        ),
        default=None,
    )
    if cheapest is not None:
        *_, p, u = cheapest
        rest = mate[:]  # M less u's pair: v - 1, as many as such a trio allows
        rest[u] = rest[mate[u]] = -1
        return trios.groups((p, u, mate[u]), rest)
    return trios.triangle(order, extra=2)


class _Trios:
    """Tests trios against a maximum matching ``mate``, counting the work done."""

    def __init__(self, mate: list[int], met: Sequence[dict[int, int]], *, work: int) -> None:
        self.mate, self.met, self.work = mate, met, work
        self.pairs = (len(mate) - mate.count(-1)) // 2

    def reach(self, root: int) -> list[int]:
        """Who a maximum matching can leave alone in place of ``root``, who is alone in it."""
        if self.work < 0:
            return []
        reached = search(root, self.mate[:], self.met, range(len(self.mate)))
        self.work -= len(reached) * len(self.mate)
        return reached

    def triangle(self, people: list[int], *, extra: int) -> list[list[int]] | None:
        """The groups around the first trio of ``people`` who never met each other whose
        others can still form ``self.pairs - extra`` pairs who never met, if any."""
        met = self.met
        later = [[b for b in people[i + 1 :] if b not in met[a]] for i, a in enumerate(people)]
        self.work -= len(people) ** 2 // 2
        for x, mates in zip(people, later, strict=True):
            for j, a in enumerate(mates):
                if self.work < 0:
                    return None
                self.work -= len(mates) - j
                met_a = met[a]
                for b in mates[j + 1 :]:
                    if b not in met_a and (mate := self.without((x, a, b), extra)) is not None:
                        return self.groups((x, a, b), mate)
        return None

    def without(self, trio: Trio, extra: int) -> list[int] | None:
        """A matching of everyone outside ``trio`` with at least ``self.pairs - extra`` pairs,
        grown from ``self.mate`` less the pairs touching the trio; None if there is none."""
        mate, loose, pairs = self.mate[:], [], self.pairs
        for p in trio:
            if (q := mate[p]) >= 0:
                mate[p] = mate[q] = -1
                pairs -= 1
                if q not in trio:
                    loose.append(q)
        need = self.pairs - extra
        alive = [p for p in range(len(mate)) if p not in trio]
        for i, root in enumerate(loose):
            if pairs >= need or pairs + len(loose) - i < need or self.work < 0:
                break
            if mate[root] < 0:
                self.work -= len(search(root, mate, self.met, alive)) * len(alive)
                pairs += mate[root] >= 0
        return mate if pairs >= need else None

    def groups(self, trio: Trio, mate: list[int]) -> list[list[int]]:
        """The trio, the pairs of ``mate``, and whoever is left paired in turn (a maximum
        ``mate`` leaves only people who met each other)."""
        groups = [list(trio)] + [[a, b] for a, b in enumerate(mate) if a < b]
        alone = [a for a, b in enumerate(mate) if b < 0 and a not in trio]
        return groups + [alone[i : i + 2] for i in range(0, len(alone), 2)]
