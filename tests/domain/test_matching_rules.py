"""Pairing rules: two people kept apart whenever any grouping allows it, above repeats.

The brute force tries every split of a small pool into groups of the round's sizes, so these
tests stay exact up to nine or ten people.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from itertools import combinations

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionctl.domain._blossom import max_matching
from sessionctl.domain._oddpool import fewer_repeats
from sessionctl.domain.matching import Participant, PastRound, Result, form_groups
from tests.domain.test_matching import (
    expected_sizes,
    met_pairs,
    pairs_of,
    partitions,
    people,
    random_rounds,
)

Rules = list[frozenset[str]]


def best_split(
    keys: list[str], history: Sequence[PastRound], group_size: int, rules: Rules
) -> tuple[int, int]:
    """The fewest broken rules any split allows, then the fewest repeats among those splits."""
    met, kept_apart = met_pairs(history), set(rules)
    sizes = tuple(expected_sizes(len(keys), group_size))
    return min(
        (len(pairs_of(split) & kept_apart), len(pairs_of(split) & met))
        for split in partitions(keys, sizes)
    )


@st.composite
def pools(draw: st.DrawFn, max_n: int = 9) -> tuple[list[Participant], list[PastRound], Rules, int]:
    """A small pool, a history of random pairings and trios, random rules, a group size."""
    n = draw(st.integers(2, max_n))
    keys = [f"m{i}" for i in range(n)]
    teams = draw(st.lists(st.sampled_from([None, "red", "blue"]), min_size=n, max_size=n))
    history = []
    for order in range(draw(st.integers(0, 5))):
        shuffled = draw(st.permutations(keys))
        size = draw(st.sampled_from([2, 3]))
        groups = [shuffled[i : i + size] for i in range(0, n, size)]
        extras = frozenset(draw(st.lists(st.sampled_from(keys), max_size=2)))
        history.append(PastRound(order=order, groups=groups, extras=extras))
    every_pair = [frozenset(pair) for pair in combinations(keys, 2)]
    rules = draw(st.lists(st.sampled_from(every_pair), max_size=n, unique=True))
    group_size = draw(st.sampled_from([2, 2, 3, 4]))
    participants = [Participant(k, t) for k, t in zip(keys, teams, strict=True)]
    return participants, history, rules, group_size


def broken(result: Result, rules: Rules) -> list[tuple[str, str]]:
    """The rules the groups break, as ``gave_way`` lists them."""
    return sorted((min(rule), max(rule)) for rule in set(rules) & pairs_of(result.groups))


@settings(max_examples=150, deadline=None)
@given(pool=pools(), seed=st.integers(0, 2**32))
def test_rules_are_kept_whenever_some_grouping_keeps_them(
    pool: tuple[list[Participant], list[PastRound], Rules, int], seed: int
) -> None:
    participants, history, rules, group_size = pool
    keys = [p.key for p in participants]
    result = form_groups(
        participants, history=history, group_size=group_size, seed=seed, avoid=rules
    )
    fewest_broken, fewest_repeats = best_split(keys, history, group_size, rules)
    assert result.gave_way == broken(result, rules)
    assert len(result.gave_way) == fewest_broken
    if group_size == 2:
        assert result.repeated_pairs == fewest_repeats


@settings(max_examples=60, deadline=None)
@given(pool=pools(), seed=st.integers(0, 2**32))
def test_rules_keep_the_groups_independent_of_input_order(
    pool: tuple[list[Participant], list[PastRound], Rules, int], seed: int
) -> None:
    participants, history, rules, group_size = pool
    first = form_groups(
        participants, history=history, group_size=group_size, seed=seed, avoid=rules
    )
    rng = random.Random(seed)
    again = form_groups(
        rng.sample(participants, len(participants)),
        history=rng.sample(history, len(history)),
        group_size=group_size,
        seed=seed,
        avoid=[frozenset(rng.sample(sorted(rule), 2)) for rule in rng.sample(rules, len(rules))],
    )
    assert again == first


def test_a_rule_is_kept_at_the_price_of_a_repeat() -> None:
    # a-b and c-d is the only split without a repeat; the rule rules it out, and of the two
    # splits left, the older repeats win.
    history = [
        PastRound(order=1, groups=[["a", "c"], ["b", "d"]]),
        PastRound(order=2, groups=[["a", "d"], ["b", "c"]]),
    ]
    for seed in range(10):
        result = form_groups(
            people(*"abcd"), history=history, group_size=2, seed=seed, avoid=[frozenset("ab")]
        )
        assert result.groups == [["a", "c"], ["b", "d"]]
        assert result.repeated_pairs == 2
        assert result.gave_way == []
    free = form_groups(people(*"abcd"), history=history, group_size=2, seed=1)
    assert free.groups == [["a", "b"], ["c", "d"]]


def test_three_people_in_pairs_make_a_trio_that_breaks_the_rule() -> None:
    result = form_groups(people(*"cab"), history=[], group_size=2, seed=1, avoid=[frozenset("ca")])
    assert result.groups == [["a", "b", "c"]]
    assert result.gave_way == [("a", "c")]


def test_fewer_people_than_the_group_size_make_one_group_and_the_rules_give_way() -> None:
    rules = [frozenset("ab"), frozenset("cb")]
    result = form_groups(people(*"abc"), history=[], group_size=4, seed=1, avoid=rules)
    assert result.groups == [["a", "b", "c"]]
    assert result.gave_way == [("a", "b"), ("b", "c")]


def test_rules_naming_someone_absent_are_ignored() -> None:
    rules = [frozenset(("a", "gone")), frozenset(("gone", "left")), frozenset("ab")]
    result = form_groups(people(*"abcd"), history=[], group_size=2, seed=1, avoid=rules)
    assert result.gave_way == []
    assert ["a", "b"] not in result.groups


def test_the_fewest_rules_give_way_when_not_all_can_be_kept() -> None:
    # a is kept apart from b, c and d: with four people in pairs, one rule must give way.
    rules = [frozenset("ab"), frozenset("ac"), frozenset("ad")]
    for seed in range(10):
        result = form_groups(people(*"abcd"), history=[], group_size=2, seed=seed, avoid=rules)
        assert len(result.gave_way) == 1
        assert result.gave_way == broken(result, rules)


def test_a_rule_beats_mixing_teams_and_avoiding_repeats_together() -> None:
    participants = people("a1", "a2", team="A") + people("b1", "b2", team="B")
    history = [PastRound(order=1, groups=[["a1", "a2"], ["b1", "b2"]])]
    rules = [frozenset(("a1", "b1")), frozenset(("a1", "b2"))]
    result = form_groups(participants, history=history, group_size=2, seed=1, avoid=rules)
    assert result.groups == [["a1", "a2"], ["b1", "b2"]]
    assert result.repeated_pairs == 2
    assert result.gave_way == []


def test_rules_hold_in_larger_rounds_of_every_group_size() -> None:
    # 5% of 600 people in one or two rules each, over eight rounds formed by form_groups.
    rng = random.Random(3)
    keys = [f"m{i:03d}@example.org" for i in range(600)]
    ruled = rng.sample(keys, 30)
    rules = [
        frozenset((a, rng.choice([b for b in keys if b != a])))
        for a in ruled
        for _ in range(rng.randint(1, 2))
    ]
    for group_size in (2, 3, 5):
        history: list[PastRound] = []
        for order in range(8):
            present = [Participant(k) for k in keys if rng.random() < 0.9]
            result = form_groups(
                present, history=history, group_size=group_size, seed=order, avoid=rules
            )
            assert result.gave_way == [], (group_size, order)
            assert result.repeated_pairs == 0, (group_size, order)
            history.append(PastRound(order, result.groups, result.extras))


def test_the_trio_search_puts_a_repeat_in_the_trio_rather_than_a_rule() -> None:
    # Nine people in a maximum "never met" matching of 4 pairs; p8 is alone and met everyone
    # but p0 and p2. Trio p8 + p0 + p1 holds p8-p1 (a rule), trio p8 + p2 + p3 holds p8-p3 (a
    # repeat): both repeat as few pairs, whichever the search meets first.
    n, rule, repeat = 9, 1000, 1
    met: list[dict[int, int]] = [{} for _ in range(n)]
    for a, b in combinations(range(n), 2):
        if {a, b} not in ({0, 1}, {2, 3}, {4, 5}, {6, 7}, {0, 8}, {2, 8}):
            met[a][b] = met[b][a] = rule if {a, b} == {1, 8} else repeat
    mate = max_matching([-1] * n, met)
    assert mate.count(-1) == 1
    for seed in range(20):
        groups = fewer_repeats(mate, met, repeats=4, work=10**6, rng=random.Random(seed))
        assert groups is not None
        assert sorted(groups[0]) == [2, 3, 8], seed


@pytest.mark.parametrize("instance", range(4))
def test_pairs_keep_the_rules_at_the_fewest_repeats_on_mid_size_programs(instance: int) -> None:
    # The exact optimum: a maximum weight matching where a rule costs more than every repeat.
    rng = random.Random(instance)
    keys = [f"p{i:02d}" for i in range(rng.randrange(20, 41, 2))]
    history = random_rounds(keys, rng.randint(len(keys) // 2, 2 * len(keys)), rng)
    rules = {frozenset(rng.sample(keys, 2)) for _ in range(6)}
    met = met_pairs(history)
    graph = nx.Graph()
    for a, b in combinations(keys, 2):
        pair = frozenset((a, b))
        graph.add_edge(a, b, weight=len(keys) ** 2 - (pair in met) - len(keys) * (pair in rules))
    optimum = pairs_of(sorted(pair) for pair in nx.max_weight_matching(graph, maxcardinality=True))
    result = form_groups(people(*keys), history=history, group_size=2, seed=instance, avoid=rules)
    assert not optimum & rules
    assert result.gave_way == []
    assert result.repeated_pairs == len(optimum & met)
