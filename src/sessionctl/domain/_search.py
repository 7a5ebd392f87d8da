"""The state of one search for groups (see matching.py for the cost it minimises): the costs
of every pair, the current groups, and the moves on them.

Index-based: people are numbered in the order of their sorted keys.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from itertools import combinations
from typing import TYPE_CHECKING

from sessionctl.domain._blossom import max_matching
from sessionctl.domain._chains import Chains
from sessionctl.domain._oddpool import fewer_repeats

if TYPE_CHECKING:
    from sessionctl.domain.matching import Participant, PastRound

_SAMPLE = 64  # candidates drawn per slot while building groups in large rounds
_EXHAUSTIVE = 400  # up to this many participants, every swap partner is tried
_SWAP_SAMPLE = 200  # swap partners drawn per costly person above that size
_GIVE_UP = 100  # above that size, stop after this many costly people in a row found no swap
_BUDGET = 800_000  # pair-cost lookups (swap evaluations x group size) allowed in one call
_MAX_STALL = 60  # iterated-local-search kicks without improvement before stopping
_TRIO_WORK = 1_000_000  # neighbour scans allowed to find the trio of an odd round of pairs
_POLISH = 100_000  # budget at least left to polish the groups around such a trio
_CHAINS = 120  # up to this many people, groups of three and more get ejection chains
_RESTARTS = 360  # ... and up to 12 greedy starts, fewer as rounds grow (360 // people)
_CHAIN_BUDGET = 1_600_000  # chain steps looked at, shared by the starts
_CHAIN_STALL = 8  # kicks without improvement before each start stops


def _nonfree(groups: list[list[int]], met: list[dict[int, int]]) -> int:
    """How many pairs within the groups met before or are kept apart by a rule."""
    return sum(1 for g in groups for a, b in combinations(g, 2) if b in met[a])


def _index_rules(avoid: Collection[frozenset[str]], index: dict[str, int]) -> set[tuple[int, int]]:
    """The rules as pairs of indices, each once; rules naming someone absent are dropped."""
    pairs = set()
    for rule in avoid:
        ends = sorted(index.get(key, -1) for key in rule)
        if len(ends) == 2 and ends[0] >= 0:
            pairs.add((ends[0], ends[1]))
    return pairs


def _count_rounds(history: Sequence[PastRound], lookback: int | None) -> list[PastRound]:
    if lookback is not None and lookback < 0:
        raise ValueError(f"lookback must be >= 0: {lookback}")
    rounds = sorted(history, key=lambda past: past.order)
    return rounds if lookback is None else rounds[max(0, len(rounds) - lookback) :]


def _latest_extras(history: Sequence[PastRound]) -> frozenset[str]:
    if not history:
        return frozenset()
    latest = max(past.order for past in history)
    return frozenset().union(*(past.extras for past in history if past.order == latest))


def _group_sizes(n: int, group_size: int) -> list[int]:
    if n < group_size:
        return [n]
    count, left = divmod(n, group_size)
    return [group_size + left // count + (i < left % count) for i in range(count)]


class _Search:
    """Index-based state of one search: costs, current groups, and the moves on them."""

    def __init__(
        self,
        people: Sequence[Participant],
        *,
        history: Sequence[PastRound],
        group_size: int,
        lookback: int | None,
        avoid: Collection[frozenset[str]] = (),
    ) -> None:
        n = len(people)
        self.n = n
        self.group_size = group_size
        self.sizes = sorted(_group_sizes(n, group_size))
        index = {person.key: i for i, person in enumerate(people)}
        teams: dict[str, int] = {}
        self.team = [-1 if p.team is None else teams.setdefault(p.team, len(teams)) for p in people]
        last = _latest_extras(history)
        self.prev = [person.key in last for person in people]
        counted = _count_rounds(history, lookback)
        ranks = {order: r for r, order in enumerate(sorted({p.order for p in counted}), 1)}
        pairs = sum(s * (s - 1) // 2 for s in self.sizes)
        rounds = len(ranks)
        self.team_unit = rounds * pairs + 1  # outweighs all level-5 costs together
        self.extra_unit = self.team_unit * ((rounds + 1) * pairs + 1)  # outweighs levels 4-5
        self.repeat_unit = repeat_unit = self.extra_unit * (n + 1)  # outweighs all extras
        # A pair's lower levels cost under 2 repeat units, extras under 1 in all.
        self.rule_unit = repeat_unit * (2 * pairs + 2)
        # met[a][b]: the cost of a and b together (a repeat, a rule or both); absent when free.
        self.met: list[dict[int, int]] = [{} for _ in range(n)]
        for past in counted:
            rank = ranks[past.order]
            cost = repeat_unit + -(-rounds // (rounds + 1 - rank)) * self.team_unit + rank
            for group in past.groups:
                members = [i for k in group if (i := index.get(k)) is not None]
                if len(members) == 2 and members[0] != members[1]:  # fast path for pairs
                    a, b = members
                    self.met[a][b] = self.met[b][a] = cost
                    continue
                costs = dict.fromkeys(members, cost)
                for a in costs:
                    self.met[a].update(costs)
                    del self.met[a][a]
        for a, b in _index_rules(avoid, index):
            self.met[a][b] = self.met[b][a] = self.met[a].get(b, 0) + self.rule_unit
        self.groups: list[list[int]] = []
        self.where = [0] * n
        self.prev_count: list[int] = []
        self.changed: set[int] = set()
        self.chains: Chains | None = None

    def rule(self, a: int, b: int) -> bool:
        """Whether a rule keeps ``a`` and ``b`` apart."""
        return self.met[a].get(b, 0) >= self.rule_unit

    def repeat(self, a: int, b: int) -> bool:
        """Whether ``a`` and ``b`` met in the counted history."""
        return self.met[a].get(b, 0) % self.rule_unit >= self.repeat_unit

    def solve(self, rng: random.Random) -> list[list[int]]:
        if len(self.sizes) == 1:
            return [list(range(self.n))]
        if self.group_size > 2 and self.n <= _CHAINS:
            return self._restart(rng)
        self._place(self._build(rng))
        budget = self._improve(_BUDGET, rng)
        if self.n > _EXHAUSTIVE:
            return [g[:] for g in self.groups]
        grown = None
        if self.group_size == 2:
            # Swaps can miss a long chain of re-pairings that saves a repeat: Edmonds can't.
            mate = self._mates()
            grown = max_matching(mate, self.met)
            if grown.count(-1) < mate.count(-1):
                self._place(self._regroup(grown, rng))
                budget = self._improve(budget, rng)
        best, budget = self._iterate(budget, rng)
        if grown is not None and self.n % 2:
            # The fewest repeats may need a trio of three who never met, and another matching
            # than Edmonds' for the rest: swaps can miss that too. The search draws on a copy
            # of the random state so that, when it finds nothing better, nothing changes.
            fork = random.Random()
            fork.setstate(rng.getstate())
            trio = fewer_repeats(
                grown, self.met, repeats=_nonfree(best, self.met), work=_TRIO_WORK, rng=fork
            )
            if trio is not None:
                # Fewer pairs that are not free can still break more rules: keep the better.
                self._place(best)
                best_cost = self._total()
                self._place(trio)
                found, budget = self._iterate(self._improve(max(budget, _POLISH), rng), rng)
                self._place(found)
                if self._total() < best_cost:
                    best = found
        return best

    def _restart(self, rng: random.Random) -> list[list[int]]:
        """Groups of three and more in small rounds: iterated local search with ejection
        chains from several greedy starts, each with its share of the budget; the best wins
        (several short searches escape a poor start better than one long one)."""
        starts = max(1, min(12, _RESTARTS // self.n))
        best: list[list[int]] = []
        best_cost = -1
        for _ in range(starts):
            self._place(self._build(rng))
            if self.chains is None:
                self.chains = Chains(self)
            found, _ = self._iterate(self._local(_CHAIN_BUDGET // starts, rng), rng)
            self._place(found)
            cost = self._total()
            if best_cost < 0 or cost < best_cost:
                best, best_cost = found, cost
            if best_cost == 0:
                break
        return best

    def _iterate(self, budget: int, rng: random.Random) -> tuple[list[list[int]], int]:
        """Iterated local search from the current groups: the best groups seen, budget left."""
        best_cost, best = self._total(), [g[:] for g in self.groups]
        stall = 0
        max_stall = _MAX_STALL if self.chains is None else _CHAIN_STALL
        while best_cost > 0 and budget > 0 and stall < max_stall:
            self._kick(rng)
            budget = self._local(budget, rng)
            cost = self._total()
            if cost < best_cost:
                best_cost, best, stall = cost, [g[:] for g in self.groups], 0
                continue
            stall += 1
            if cost > best_cost:
                self._place(best)
        return best, budget

    def _local(self, budget: int, rng: random.Random) -> int:
        """Swaps until none helps or, for groups of three and more in rounds of up to _CHAINS
        people, ejection chains (_chains); returns the budget left."""
        if self.chains is not None:
            return self.chains.improve(budget, rng)  # swaps are its shortest chains
        return self._improve(budget, rng)

    def _build(self, rng: random.Random) -> list[list[int]]:
        """Greedy: who met the most others seeds a group, then each slot takes the cheapest
        candidate (ties: who met the most others), among all or, in large rounds, a sample."""
        n, met, team, team_unit = self.n, self.met, self.team, self.team_unit
        tiebreak = [rng.random() for _ in range(n)]
        order = sorted(range(n), key=lambda p: (-len(met[p]), tiebreak[p]))
        avail = order[:]
        rng.shuffle(avail)
        pos = {p: i for i, p in enumerate(avail)}
        left = Counter(team)  # who is still available, by team (-1: no team)
        seeds = iter(order)
        groups: list[list[int]] = []

        def take(p: int) -> None:
            i, last = pos.pop(p), avail.pop()
            if last != p:
                avail[i], pos[last] = last, i
            left[team[p]] -= 1

        for size in self.sizes:
            group = [next(p for p in seeds if p in pos)]
            take(group[0])
            in_group = Counter(team[p] for p in group if team[p] >= 0)
            while len(group) < size:
                sampled = len(avail) > 2 * _SAMPLE
                pool: Iterable[int] = (
                    (avail[int(rng.random() * len(avail))] for _ in range(_SAMPLE))
                    if sampled
                    else avail
                )
                floor = 0  # the fewest same-team mates this slot can get: stop sampling there
                if left[-1] == 0 and len(left) <= _SAMPLE:
                    floor = min((in_group[t] for t, c in left.items() if c > 0), default=0)
                best, best_key = -1, (0, 0)
                for c in pool:
                    mc = met[c]
                    cost = sum(mc.get(m, 0) for m in group)
                    if team[c] >= 0:
                        cost += in_group[team[c]] * team_unit
                    if best < 0 or (cost, -len(mc)) < best_key:
                        best, best_key = c, (cost, -len(mc))
                        if sampled and cost <= floor * team_unit:
                            break
                take(best)
                group.append(best)
                if team[best] >= 0:
                    in_group[team[best]] += 1
            groups.append(group)
        return groups

    def _mates(self) -> list[int]:
        """The current pairs that are no repeat, as a matching: mate of each person or -1."""
        mate = [-1] * self.n
        for group in self.groups:
            for a, b in combinations(group, 2):
                if mate[a] < 0 and mate[b] < 0 and b not in self.met[a]:
                    mate[a], mate[b] = b, a
        return mate

    def _regroup(self, mate: list[int], rng: random.Random) -> list[list[int]]:
        """Pairs from a matching of people who never met; the unmatched (who all met each
        other) pair up at random, and an odd one out joins the cheapest pair."""
        groups = [[a, b] for a, b in enumerate(mate) if a < b]
        alone = [a for a, b in enumerate(mate) if b < 0]
        rng.shuffle(alone)
        groups += [alone[i : i + 2] for i in range(0, len(alone) - 1, 2)]
        if len(alone) % 2:
            odd = alone[-1]
            min(groups, key=lambda g: sum(self._cost(odd, x) for x in g)).append(odd)
        return groups

    def _place(self, groups: list[list[int]]) -> None:
        self.groups = [g[:] for g in groups]
        for gi, group in enumerate(self.groups):
            for p in group:
                self.where[p] = gi
        self.prev_count = [sum(self.prev[p] for p in g) for g in self.groups]
        self.changed = set(range(len(self.groups)))

    def _violations(self, gi: int, prev_count: int) -> int:
        if len(self.groups[gi]) <= self.group_size:
            return 0
        return max(0, prev_count - self.group_size)

    def _person_cost(self, p: int) -> int:
        gi = self.where[p]
        cost = sum(self._cost(p, x) for x in self.groups[gi] if x != p)
        if self.prev[p] and self._violations(gi, self.prev_count[gi]):
            cost += self.extra_unit
        return cost

    def _total(self) -> int:
        return sum(self.group_cost(group) for group in self.groups)

    def group_cost(self, group: Sequence[int]) -> int:
        """One group's part of a grouping's cost, whatever the other groups: its pairs, and
        the extras it must take from last round's extras (indices into the sorted people)."""
        cost = sum(self._cost(a, b) for a, b in combinations(group, 2))
        if len(group) > self.group_size:
            cost += max(0, sum(self.prev[p] for p in group) - self.group_size) * self.extra_unit
        return cost

    def _cost(self, a: int, b: int) -> int:
        team = self.team[a]
        return self.met[a].get(b, 0) + (team >= 0 and team == self.team[b]) * self.team_unit

    def _delta(self, a: int, b: int) -> int:
        """Change of the total cost if ``a`` and ``b`` (in different groups) swap places."""
        ga, gb = self.where[a], self.where[b]
        ma, mb, ta, tb, team = self.met[a], self.met[b], self.team[a], self.team[b], self.team
        delta = 0
        for x in self.groups[ga]:
            if x != a:
                delta += mb.get(x, 0) - ma.get(x, 0)
                if (tx := team[x]) >= 0:
                    delta += ((tx == tb) - (tx == ta)) * self.team_unit
        for y in self.groups[gb]:
            if y != b:
                delta += ma.get(y, 0) - mb.get(y, 0)
                if (ty := team[y]) >= 0:
                    delta += ((ty == ta) - (ty == tb)) * self.team_unit
        if self.prev[a] != self.prev[b]:
            shift = 1 if self.prev[b] else -1
            ca, cb = self.prev_count[ga], self.prev_count[gb]
            delta += self.extra_unit * (
                self._violations(ga, ca + shift)
                - self._violations(ga, ca)
                + self._violations(gb, cb - shift)
                - self._violations(gb, cb)
            )
        return delta

    def _swap(self, a: int, b: int) -> None:
        ga, gb = self.where[a], self.where[b]
        self.groups[ga][self.groups[ga].index(a)] = b
        self.groups[gb][self.groups[gb].index(b)] = a
        self.where[a], self.where[b] = gb, ga
        self.changed.update((ga, gb))
        shift = self.prev[b] - self.prev[a]
        self.prev_count[ga] += shift
        self.prev_count[gb] -= shift

    def _improve(self, budget: int, rng: random.Random) -> int:
        """Swap costly people with the best partner found until no swap helps; returns the
        budget left. A swap's effect depends only on the two groups, so after the first pass
        only swaps touching a group changed since the previous pass are tried again."""
        misses = 0  # sampled rounds: consecutive costly people for whom no swap was found
        while budget > 0 and self.changed and misses < _GIVE_UP:
            dirty, self.changed = self.changed, set()
            costly = [p for p in range(self.n) if self._person_cost(p) > 0]
            rng.shuffle(costly)
            for a in costly:
                if budget <= 0 or misses >= _GIVE_UP:
                    break
                if self._person_cost(a) == 0:
                    continue
                pool = self._partners(a, dirty, rng)
                budget -= len(pool) * self.group_size
                best, best_delta, home = -1, 0, self.where[a]
                for b in pool:
                    if self.where[b] != home and (delta := self._delta(a, b)) < best_delta:
                        best, best_delta = b, delta
                if best >= 0:
                    self._swap(a, best)
                    misses = 0
                elif self.n > _EXHAUSTIVE:
                    misses += 1
        return budget

    def _partners(self, a: int, dirty: set[int], rng: random.Random) -> Sequence[int]:
        n = self.n
        if n > _EXHAUSTIVE:
            return [int(rng.random() * n) for _ in range(_SWAP_SAMPLE)]
        dirty = dirty | self.changed
        if self.where[a] in dirty:
            start = rng.randrange(n)
            return (*range(start, n), *range(start))
        return [b for g in dirty for b in self.groups[g]]

    def _kick(self, rng: random.Random) -> None:
        """Perturb: swap a few people, at least one of them costly, with random others."""
        costly = [p for p in range(self.n) if self._person_cost(p) > 0]
        for _ in range(rng.randint(1, 3)):
            a = rng.choice(costly) if costly else rng.randrange(self.n)
            b = rng.randrange(self.n)
            if self.where[a] != self.where[b]:
                self._swap(a, b)
