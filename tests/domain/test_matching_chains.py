"""Groups of three and more reach the optimum of every cost level on small pools.

The brute force tries every split into groups of the round's sizes and prices each with the
search's own group cost, so it minimises exactly what form_groups minimises.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from itertools import combinations

import pytest

from sessionctl.domain._search import _Search
from sessionctl.domain.matching import Participant, PastRound, form_groups
from tests.domain.test_matching import expected_sizes, partitions


def cheapest(search: _Search, keys: list[str], group_size: int) -> int:
    index = {key: i for i, key in enumerate(keys)}
    sizes = tuple(expected_sizes(len(keys), group_size))
    return min(
        sum(search.group_cost([index[k] for k in group]) for group in split)
        for split in partitions(keys, sizes)
    )


def program(n: int, group_size: int, seed: int) -> tuple[list[Participant], list[PastRound]]:
    """Teams on odd seeds; a history of random groups and their extras on even seeds, of
    rounds formed by form_groups itself on odd ones."""
    rng = random.Random(seed)
    keys = [f"m{i:02d}" for i in range(n)]
    people = [Participant(k, rng.choice(["red", "blue", None]) if seed % 2 else None) for k in keys]
    history: list[PastRound] = []
    for order in range(rng.randint(2, 6)):
        present = [p for p in people if rng.random() < 0.9]
        if seed % 2:
            result = form_groups(present, history=history, group_size=group_size, seed=order)
            groups, extras = result.groups, result.extras
        else:
            shuffled = rng.sample([p.key for p in present], len(present))
            groups = [shuffled[i : i + group_size] for i in range(0, len(shuffled), group_size)]
            extras = frozenset(rng.sample(shuffled, 2))
        history.append(PastRound(order, groups, extras))
    return people, history


def total(search: _Search, keys: Sequence[str], groups: list[list[str]]) -> int:
    index = {key: i for i, key in enumerate(keys)}
    return sum(search.group_cost([index[k] for k in group]) for group in groups)


# The first four: seeds where swaps and kicks alone stop above the optimum.
@pytest.mark.parametrize(
    ("n", "group_size", "seed"),
    [
        *[(11, 3, 18), (11, 3, 30), (11, 3, 39), (11, 4, 29)],
        *[(12, 3, 1), (12, 4, 2), (10, 3, 3), (9, 3, 0), (10, 4, 1), (11, 5, 2), (12, 6, 3)],
    ],
)
def test_small_pools_get_the_cheapest_groups(n: int, group_size: int, seed: int) -> None:
    people, history = program(n, group_size, seed)
    rules = [frozenset(pair) for pair in combinations([p.key for p in people[:4]], 2)][:2]
    keys = sorted(p.key for p in people)
    search = _Search(
        sorted(people, key=lambda p: p.key),
        history=history,
        group_size=group_size,
        lookback=None,
        avoid=rules,
    )
    result = form_groups(people, history=history, group_size=group_size, seed=seed, avoid=rules)
    assert total(search, keys, result.groups) == cheapest(search, keys, group_size)
