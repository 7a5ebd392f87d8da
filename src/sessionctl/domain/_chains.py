"""Ejection chains for groups of three and more: moves among up to _DEPTH groups at once.

A swap moves two people between two groups. Groups of three and more often need more: a
repeat that only goes away when a moves into b's group, b into c's and c into a's (a cyclic
exchange), or, when the groups' sizes differ, when a leaves an enlarged group for b's place,
b moves on to c's, and c joins a group that is not enlarged (a path). Every group in a chain
gains one person and loses one (a path's ends: only one of the two), so the chain's effect on
the cost is the sum of its steps', each computed from one table: ``share[x][g]``, what ``x``
would cost with the people of group ``g`` (and a table of every pair's cost: the chains run
on rounds of up to 120 people only).

The search: from each person in turn (in random order), a depth-first walk over steps into
groups not yet in the chain, keeping only walks whose cost so far is a saving (any cycle that
saves has a starting point from which every part of it saves: none is missed for that reason;
beyond the first step only the _WIDTH best steps go on); the first chain that saves is
applied. Work is counted in steps looked at, never timed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Protocol

_DEPTH = 4  # groups in one chain at most (a path's last group aside)
_WIDTH = 8  # beyond a chain's first step, the most promising steps tried from each person


class Groups(Protocol):
    """What the chains need of the search state (_search._Search)."""

    n: int
    group_size: int
    extra_unit: int
    groups: list[list[int]]
    where: list[int]
    prev: list[bool]
    prev_count: list[int]
    changed: set[int]

    def _cost(self, a: int, b: int) -> int: ...


class Chains:
    """Finds and applies chains that lower the cost of ``state``'s groups."""

    def __init__(self, state: Groups) -> None:
        self.s = state
        sizes = {len(g) for g in state.groups}
        self.small, self.big = min(sizes), max(sizes)
        everyone = range(state.n)
        self.pair = [[state._cost(a, b) if a != b else 0 for b in everyone] for a in everyone]
        self.share = [[0] * len(state.groups) for _ in everyone]
        self.seen: list[list[int]] = [[] for _ in state.groups]  # the groups as last refreshed

    def improve(self, budget: int, rng: random.Random) -> int:
        """Apply saving chains until none is found; returns the budget left."""
        for g, members in enumerate(self.s.groups):
            if members != self.seen[g]:  # changed by a kick or a new start since the last call
                self._refresh(g)
        self._levels()
        while budget > 0:
            # Anyone can start a chain: its first step's saving comes from whom it ejects.
            starts = list(range(self.s.n))
            rng.shuffle(starts)
            found = None
            for start in starts:
                found, budget = self._find(start, budget)
                if found is not None or budget <= 0:
                    break
            if found is None:
                return budget
            self._apply(*found)
            self._levels()
        return budget

    def _refresh(self, g: int) -> None:
        members = self.s.groups[g]
        self.seen[g] = members[:]
        for x, row in enumerate(self.pair):
            self.share[x][g] = sum(row[z] for z in members)

    def _levels(self) -> None:
        """Each group's change of extras cost when one of last round's extras comes in for
        someone else (``up``) or the reverse (``down``), or when someone joins or leaves
        (indexed by whether that person was one of last round's extras)."""
        s = self.s
        unit, size = s.extra_unit, s.group_size

        def over(length: int, count: int) -> int:
            return max(0, count - size) * unit if length > size else 0

        self.own = [self.share[p][s.where[p]] for p in range(s.n)]  # each one's cost at home
        self.up, self.down, self.grow, self.shrink = [], [], [], []
        for g, members in enumerate(s.groups):
            k, c = len(members), s.prev_count[g]
            now = over(k, c)
            self.up.append(over(k, c + 1) - now)
            self.down.append(over(k, c - 1) - now)
            self.grow.append((over(k + 1, c) - now, over(k + 1, c + 1) - now))
            self.shrink.append((over(k - 1, c) - now, over(k - 1, c - 1) - now))

    def _find(self, start: int, budget: int) -> tuple[tuple[list[int], int] | None, int]:
        """A saving chain from ``start``: (its people, the group the last one joins, or -1 for
        a cycle), or None; and the budget left."""
        s = self.s
        groups, where = s.groups, s.where
        home = where[start]
        share, pair, prev = self.share, self.pair, s.prev
        up, down, grow, small = self.up, self.down, self.grow, self.small
        # A path starts by leaving an enlarged group; a cycle's first step is its own saving.
        opening = None
        if len(groups[home]) == self.big > small:
            opening = self.shrink[home][prev[start]] - share[start][home]
        chain, used = [start], {home}
        found: tuple[list[int], int] | None = None
        # back[y]: the cost change of y taking start's place, closing a cycle.
        back = [share[y][home] - pair[y][start] - share[start][home] for y in range(s.n)]
        for y in range(s.n):
            if prev[y] != prev[start]:
                back[y] += up[home] if prev[y] else down[home]

        own, extras = self.own, any(prev)

        def walk(x: int, so_far: int, path: int | None) -> bool:
            nonlocal budget, found
            steps = []
            share_x, pair_x, prev_x = share[x], pair[x], prev[x]
            close = -so_far  # a step closing the cycle must save more than this
            keep = close if path is None else max(close, -path)  # a step worth going on from
            for g, members in enumerate(groups):
                if g in used:
                    continue
                base = share_x[g]
                if path is not None and len(members) == small and path + base + grow[g][prev_x] < 0:
                    found = (chain[:], g)
                    return True
                budget -= len(members)
                for y in members:
                    step = base - pair_x[y] - own[y]
                    if extras and prev_x != prev[y]:
                        step += up[g] if prev_x else down[g]
                    if step + back[y] < close:
                        chain.append(y)
                        found = (chain[:], -1)
                        return True
                    if step < keep:
                        steps.append((step, y))
            if len(chain) >= _DEPTH or budget <= 0:
                return False
            steps.sort()
            for step, y in steps if len(chain) == 1 else steps[:_WIDTH]:
                chain.append(y)
                used.add(where[y])
                if walk(y, so_far + step, None if path is None else path + step):
                    return True
                used.discard(where[y])
                chain.pop()
            return False

        walk(start, 0, opening)
        return found, budget

    def _apply(self, chain: Sequence[int], join: int) -> None:
        """Move each person of ``chain`` into the next one's place (the last into the first's,
        or, for a path, into group ``join``)."""
        s = self.s
        homes = [s.where[p] for p in chain]
        if join >= 0:
            s.groups[homes[0]].remove(chain[0])
            targets = [*homes[1:], join]
        else:
            targets = [*homes[1:], homes[0]]
        for i, (p, old, new) in enumerate(zip(chain, homes, targets, strict=True)):
            group = s.groups[new]
            if join >= 0 and i == len(chain) - 1:
                group.append(p)
            else:
                group[group.index(chain[(i + 1) % len(chain)])] = p
            s.prev_count[new] += s.prev[p]
            s.prev_count[old] -= s.prev[p]
        for p, new in zip(chain, targets, strict=True):
            s.where[p] = new
        for g in {*homes, *targets}:
            s.changed.add(g)
            self._refresh(g)
