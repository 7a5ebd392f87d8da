"""Tests for forming groups: the size rules, determinism, repeats, recency, teams and extras."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
from collections.abc import Iterator, Sequence
from itertools import combinations

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionctl.domain.matching import (
    Participant,
    PastRound,
    Result,
    form_groups,
    pair_history,
)


def people(*keys: str, team: str | None = None) -> list[Participant]:
    return [Participant(key, team) for key in keys]


def pairs_of(groups: Sequence[Sequence[str]]) -> set[frozenset[str]]:
    return {frozenset(pair) for group in groups for pair in combinations(group, 2)}


def met_pairs(history: Sequence[PastRound]) -> set[frozenset[str]]:
    return pairs_of([group for past in history for group in past.groups])


def expected_sizes(n: int, group_size: int) -> list[int]:
    if n < 2:
        return []
    if n < group_size:
        return [n]
    count, left = divmod(n, group_size)
    return sorted(group_size + left // count + (i < left % count) for i in range(count))


def partitions(items: list[str], sizes: tuple[int, ...]) -> Iterator[list[list[str]]]:
    """Every split of ``items`` into groups of the given sizes (each split once)."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for size in sorted(set(sizes)):
        left_sizes = list(sizes)
        left_sizes.remove(size)
        for mates in combinations(rest, size - 1):
            others = [x for x in rest if x not in mates]
            for split in partitions(others, tuple(left_sizes)):
                yield [[first, *mates], *split]


def fewest_repeats(keys: list[str], history: Sequence[PastRound], group_size: int) -> int:
    met = met_pairs(history)
    sizes = tuple(expected_sizes(len(keys), group_size))
    return min(len(pairs_of(split) & met) for split in partitions(keys, sizes))


def random_rounds(keys: list[str], rounds: int, rng: random.Random) -> list[PastRound]:
    history = []
    for order in range(rounds):
        present = [k for k in keys if rng.random() < 0.9]
        rng.shuffle(present)
        groups = [present[i : i + 2] for i in range(0, len(present) - 1, 2)]
        history.append(PastRound(order=order, groups=groups))
    return history


@st.composite
def programs(draw: st.DrawFn, max_n: int = 40) -> tuple[list[Participant], list[PastRound]]:
    """Participants (some with teams) and a history of random pairings and trios."""
    n = draw(st.integers(0, max_n))
    keys = [f"m{i:02d}@example.org" for i in range(n)]
    teams = draw(st.lists(st.sampled_from([None, "red", "blue", "green"]), min_size=n, max_size=n))
    history = []
    for order in range(draw(st.integers(0, 6))):
        shuffled = draw(st.permutations(keys))
        size = draw(st.sampled_from([2, 3]))
        groups = [shuffled[i : i + size] for i in range(0, len(shuffled), size)]
        extras = draw(st.lists(st.sampled_from(keys), max_size=2)) if keys else []
        history.append(PastRound(order=order * 10, groups=groups, extras=frozenset(extras)))
    return [Participant(k, t) for k, t in zip(keys, teams, strict=True)], history


# -- sizes and edge cases ---------------------------------------------------------------------


@pytest.mark.parametrize("group_size", [0, 1, 7])
def test_group_size_outside_2_to_6_is_a_programming_error(group_size: int) -> None:
    with pytest.raises(ValueError, match="group_size"):
        form_groups(people("a", "b"), history=[], group_size=group_size, seed=1)


def test_duplicate_keys_and_negative_lookback_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="unique"):
        form_groups(people("a", "a"), history=[], group_size=2, seed=1)
    with pytest.raises(ValueError, match="lookback"):
        form_groups(people("a", "b"), history=[], group_size=2, seed=1, lookback=-1)


def test_nobody_gives_no_groups() -> None:
    assert form_groups([], history=[], group_size=2, seed=1) == Result([], [], frozenset(), 0)


def test_a_lone_participant_is_no_match() -> None:
    result = form_groups(people("a"), history=[], group_size=3, seed=1)
    assert result == Result(groups=[], no_match=["a"], extras=frozenset(), repeated_pairs=0)


def test_fewer_than_group_size_makes_one_group_of_everyone() -> None:
    result = form_groups(people("c", "a", "b"), history=[], group_size=4, seed=1)
    assert result == Result(
        groups=[["a", "b", "c"]], no_match=[], extras=frozenset(), repeated_pairs=0
    )


def test_leftover_joins_a_pair_as_the_extra() -> None:
    result = form_groups(people(*"abcde"), history=[], group_size=2, seed=3)
    assert sorted(len(g) for g in result.groups) == [2, 3]
    trio = next(g for g in result.groups if len(g) == 3)
    assert len(result.extras) == 1
    assert result.extras <= set(trio)


def test_group_sizes_for_every_count_up_to_40() -> None:
    for group_size in range(2, 7):
        for n in range(41):
            result = form_groups(
                people(*(f"p{i:02d}" for i in range(n))), history=[], group_size=group_size, seed=n
            )
            sizes = sorted(len(g) for g in result.groups)
            assert sizes == expected_sizes(n, group_size), (n, group_size)
            if n >= group_size:
                assert min(sizes) >= group_size
                assert max(sizes) - min(sizes) <= 1 or len(sizes) == 1
                assert len(result.extras) == n - group_size * len(sizes)


@settings(max_examples=150, deadline=None)
@given(program=programs(), group_size=st.integers(2, 6), seed=st.integers(0, 2**32))
def test_everyone_is_placed_once_in_groups_of_the_right_sizes(
    program: tuple[list[Participant], list[PastRound]], group_size: int, seed: int
) -> None:
    participants, history = program
    result = form_groups(participants, history=history, group_size=group_size, seed=seed)
    placed = [k for g in result.groups for k in g] + result.no_match
    assert sorted(placed) == sorted(p.key for p in participants)
    assert result.no_match == ([participants[0].key] if len(participants) == 1 else [])
    assert sorted(len(g) for g in result.groups) == expected_sizes(len(participants), group_size)
    n = len(participants)
    if n >= group_size:
        count = n // group_size
        biggest = group_size + math.ceil((n % group_size) / count)
        assert all(group_size <= len(g) <= biggest for g in result.groups)
    assert all(g == sorted(g) for g in result.groups)
    assert result.groups == sorted(result.groups)
    for group in result.groups:
        expected = max(0, len(group) - group_size) if n >= group_size else 0
        assert len(result.extras & set(group)) == expected
    assert result.repeated_pairs == len(pairs_of(result.groups) & met_pairs(history))


# -- determinism ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(program=programs(), group_size=st.integers(2, 6), seed=st.integers(0, 2**32))
def test_same_seed_same_groups_whatever_the_input_order(
    program: tuple[list[Participant], list[PastRound]], group_size: int, seed: int
) -> None:
    participants, history = program
    first = form_groups(participants, history=history, group_size=group_size, seed=seed)
    rng = random.Random(seed)
    shuffled_people = rng.sample(participants, len(participants))
    shuffled_history = [
        PastRound(
            p.order, rng.sample([rng.sample(g, len(g)) for g in p.groups], len(p.groups)), p.extras
        )
        for p in rng.sample(history, len(history))
    ]
    again = form_groups(shuffled_people, history=shuffled_history, group_size=group_size, seed=seed)
    assert again == first


_RECOMPUTE = """
import random
from sessionctl.domain.matching import Participant, PastRound, form_groups
rng = random.Random(7)
keys = [f"m{i}@example.org" for i in range(31)]
people = [Participant(k, rng.choice([None, "ops", "dev"])) for k in keys]
history = []
for order in range(12):
    rng.shuffle(keys)
    groups = [keys[i : i + 2] for i in range(0, 31, 2)]
    history.append(PastRound(order, groups, frozenset(rng.sample(keys, 2))))
r = form_groups(people, history=history, group_size=2, seed=42)
print(r.groups, sorted(r.extras), r.repeated_pairs)
"""


def test_groups_do_not_depend_on_string_hashing() -> None:
    # The seed is stored so that the groups can be recomputed later, in another process.
    runs = {
        subprocess.run(
            [sys.executable, "-c", _RECOMPUTE],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2", "3")
    }
    assert len(runs) == 1


def test_different_seeds_can_give_different_groups() -> None:
    participants = people(*(f"p{i}" for i in range(20)))
    results = {
        str(form_groups(participants, history=[], group_size=2, seed=s).groups) for s in range(5)
    }
    assert len(results) > 1


# -- repeats ----------------------------------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(n=st.integers(2, 10), rounds=st.integers(0, 12), seed=st.integers(0, 2**32))
def test_pairs_have_the_fewest_repeats_possible_on_small_programs(
    n: int, rounds: int, seed: int
) -> None:
    keys = [f"p{i}" for i in range(n)]
    history = random_rounds(keys, rounds, random.Random(seed))
    result = form_groups(people(*keys), history=history, group_size=2, seed=seed)
    assert result.repeated_pairs == fewest_repeats(keys, history, 2)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 9), rounds=st.integers(0, 6), seed=st.integers(0, 2**32))
def test_trios_avoid_repeats_when_they_can(n: int, rounds: int, seed: int) -> None:
    keys = [f"p{i}" for i in range(n)]
    history = random_rounds(keys, rounds, random.Random(seed))
    result = form_groups(people(*keys), history=history, group_size=3, seed=seed)
    if fewest_repeats(keys, history, 3) == 0:
        assert result.repeated_pairs == 0


@pytest.mark.parametrize("instance", range(6))
def test_pairs_match_the_exact_optimum_on_mid_size_programs(instance: int) -> None:
    rng = random.Random(instance)
    keys = [f"p{i:02d}" for i in range(rng.randrange(20, 41, 2))]
    history = random_rounds(keys, rng.randint(len(keys), 3 * len(keys)), rng)
    met = met_pairs(history)
    graph = nx.Graph()
    for a, b in combinations(keys, 2):
        graph.add_edge(a, b, weight=0 if frozenset((a, b)) in met else 1)
    optimum = len(keys) // 2 - int(
        sum(graph.edges[e]["weight"] for e in nx.max_weight_matching(graph, maxcardinality=True))
    )
    result = form_groups(people(*keys), history=history, group_size=2, seed=instance)
    assert result.repeated_pairs == optimum


def test_forty_people_over_twelve_rounds_never_repeat() -> None:
    participants = people(*(f"member{i:02d}@example.org" for i in range(40)))
    history: list[PastRound] = []
    for order in range(12):
        result = form_groups(participants, history=history, group_size=2, seed=order)
        assert result.repeated_pairs == 0, f"round {order}"
        history.append(PastRound(order=order, groups=result.groups, extras=result.extras))
    assert len(met_pairs(history)) == 12 * 20


def test_when_everyone_met_the_least_recent_repeat_wins() -> None:
    history = [
        PastRound(order=100, groups=[["a", "b"], ["c", "d"]]),
        PastRound(order=200, groups=[["a", "c"], ["b", "d"]]),
        PastRound(order=300, groups=[["a", "d"], ["b", "c"]]),
    ]
    for seed in range(10):
        result = form_groups(people(*"abcd"), history=history, group_size=2, seed=seed)
        assert result.groups == [["a", "b"], ["c", "d"]]
        assert result.repeated_pairs == 2


def test_lookback_ignores_older_rounds() -> None:
    history = [
        PastRound(order=1, groups=[["a", "b"], ["c", "d"]]),
        PastRound(order=2, groups=[["a", "c"], ["b", "d"]]),
        PastRound(order=3, groups=[["a", "d"], ["b", "c"]]),
    ]
    counted = form_groups(people(*"abcd"), history=history, group_size=2, seed=1, lookback=2)
    assert counted.groups == [["a", "b"], ["c", "d"]]
    assert counted.repeated_pairs == 0
    none = form_groups(people(*"abcd"), history=history, group_size=2, seed=1, lookback=0)
    assert none.repeated_pairs == 0
    everything = form_groups(people(*"abcd"), history=history, group_size=2, seed=1)
    assert everything.repeated_pairs == 2


def test_pair_history_gives_the_latest_meeting_within_the_lookback() -> None:
    history = [
        PastRound(order=5, groups=[["b", "a"], ["c", "d", "e"]]),
        PastRound(order=9, groups=[["a", "b"]]),
        PastRound(order=7, groups=[["a", "c"]]),
    ]
    assert pair_history(history) == {
        frozenset("ab"): 9,
        frozenset("cd"): 5,
        frozenset("ce"): 5,
        frozenset("de"): 5,
        frozenset("ac"): 7,
    }
    assert pair_history(history, lookback=2) == {frozenset("ab"): 9, frozenset("ac"): 7}
    assert pair_history(history, lookback=0) == {}
    assert pair_history(history, lookback=10) == pair_history(history)


def test_history_of_people_not_taking_part_is_ignored() -> None:
    history = [PastRound(order=1, groups=[["a", "gone"], ["b", "left"]])]
    result = form_groups(people("a", "b"), history=history, group_size=2, seed=1)
    assert result == Result([["a", "b"]], [], frozenset(), 0)


# -- teams ------------------------------------------------------------------------------------


def test_teams_are_mixed_when_it_costs_no_repeat() -> None:
    participants = people("a1", "a2", "a3", team="A") + people("b1", "b2", "b3", team="B")
    for seed in range(10):
        result = form_groups(participants, history=[], group_size=2, seed=seed)
        assert all(g[0][0] != g[1][0] for g in result.groups)


def test_avoiding_a_repeat_beats_mixing_teams() -> None:
    participants = people("a1", "a2", team="A") + people("b1", "b2", team="B")
    history = [PastRound(order=1, groups=[["a1", "b1"], ["a2", "b2"]])]
    history.append(PastRound(order=2, groups=[["a1", "b2"]]))
    result = form_groups(participants, history=history, group_size=2, seed=1)
    assert result.groups == [["a1", "a2"], ["b1", "b2"]]
    assert result.repeated_pairs == 0


def test_people_without_a_team_are_not_a_team() -> None:
    participants = people("a1", "a2", team="A") + people("x", "y")
    for seed in range(10):
        result = form_groups(participants, history=[], group_size=2, seed=seed)
        assert ["a1", "a2"] not in result.groups


# -- extras -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "group_size"), [(5, 2), (7, 2), (7, 3), (11, 4), (3, 2), (8, 6)])
def test_last_rounds_extra_is_not_the_extra_again(n: int, group_size: int) -> None:
    keys = [f"p{i}" for i in range(n)]
    for seed in range(20):
        last = frozenset(random.Random(seed).sample(keys, 1))
        history = [PastRound(order=seed, groups=[keys], extras=last)]
        result = form_groups(people(*keys), history=history, group_size=group_size, seed=seed)
        assert result.extras
        assert not result.extras & last


def test_only_the_most_recent_round_bars_extras() -> None:
    history = [
        PastRound(order=1, groups=[["a", "b", "c"]], extras=frozenset("a")),
        PastRound(order=2, groups=[["a", "b", "c"]], extras=frozenset("b")),
    ]
    extras = {
        next(iter(form_groups(people(*"abc"), history=history, group_size=2, seed=s).extras))
        for s in range(30)
    }
    assert "b" not in extras
    assert extras == {"c"}  # never an extra beats an extra of an older round


def test_extras_are_still_chosen_when_everyone_was_an_extra() -> None:
    history = [PastRound(order=1, groups=[["a", "b", "c"]], extras=frozenset("abc"))]
    result = form_groups(people(*"abc"), history=history, group_size=2, seed=1)
    assert result.groups == [["a", "b", "c"]]
    assert len(result.extras) == 1


def test_enlarged_groups_avoid_holding_only_last_rounds_extras() -> None:
    # Everyone met, so every split repeats as much: the trio must not hold only last round's
    # three extras (one of them would be an extra again).
    keys = ["a", "b", "c", "d", "e"]
    history = [PastRound(order=1, groups=[keys], extras=frozenset("abc"))]
    for seed in range(20):
        result = form_groups(people(*keys), history=history, group_size=2, seed=seed)
        trio = next(g for g in result.groups if len(g) == 3)
        assert not set(trio) <= {"a", "b", "c"}
        assert not result.extras & {"a", "b", "c"}
