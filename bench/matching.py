"""Benchmark sessionctl's matching: quality against the exact optimum, then speed and memory.

Usage: python bench/matching.py [--instances N] [--quick] [--no-groups]

Quality: random program histories (1..4n past rounds of random pairings of ~90% of the members,
half of the programs with teams), each run without and then with pairing rules (5% of the
members in one or two rules each). Even sizes 10..60: the optimum is networkx's
max_weight_matching with weights making "fewest broken rules, then fewest repeats, then fewest
same-team pairs" the objective. Odd sizes 11..21 (one trio): every trio plus the best matching
of the rest. The baseline is a uniformly random pairing. Speed: pairs at 1,000 and 10,000
participants with 50 rounds of history, without and with rules. Extras: over consecutive
rounds of programs of each group size 2..6 whose counts leave leftovers, how often someone was
an extra two rounds running when someone else could have been. Groups of 3 and 4: against the
proven optimum of OR-Tools CP-SAT (bench/matching_groups.py, run with its defaults; it needs
the ``bench`` extra: ``pip install -e '.[bench]'``). Speed also for groups of 4.
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass, field

import networkx as nx

from sessionctl.domain.matching import (
    Participant,
    PastRound,
    Result,
    form_groups,
    pair_history,
)


@dataclass
class Instance:
    people: list[Participant]
    history: list[PastRound]
    rules: list[frozenset[str]] = field(default_factory=list)


@dataclass
class Score:
    broken: int  # rules the groups break
    repeats: int
    ages: int  # summed over repeated pairs: how many rounds ago they last met (1: last round)
    mixed: int  # pairs of two members with different teams
    teamed: int  # pairs of two members who both have a team


def _random_pairing(keys: list[str], rng: random.Random) -> list[list[str]]:
    shuffled = keys[:]
    rng.shuffle(shuffled)
    groups = [shuffled[i : i + 2] for i in range(0, len(shuffled) - 1, 2)]
    if len(shuffled) % 2:
        groups[-1].append(shuffled[-1])
    return groups


def _some_rules(keys: list[str], rng: random.Random) -> list[frozenset[str]]:
    """5% of the people (at least one) in one or two rules each."""
    rules = set()
    for a in rng.sample(keys, max(1, len(keys) // 20)):
        for _ in range(rng.randint(1, 2)):
            rules.add(frozenset((a, rng.choice([b for b in keys if b != a]))))
    return sorted(rules, key=sorted)


def _make_instance(rng: random.Random, sizes: range) -> Instance:
    n = rng.choice(sizes)
    keys = [f"m{i:03d}@example.org" for i in range(n)]
    teams: list[str | None] = [None] * n
    if rng.random() < 0.5:
        count = rng.randint(2, 5)
        teams = [f"team{rng.randrange(count)}" for _ in range(n)]
    people = [Participant(key, team) for key, team in zip(keys, teams, strict=True)]
    history = []
    for order in range(rng.randint(1, 4 * n)):
        present = [k for k in keys if rng.random() < 0.9]
        if len(present) >= 2:
            history.append(PastRound(order=order, groups=_random_pairing(present, rng)))
    return Instance(people, history)


def _met_pairs(history: list[PastRound]) -> set[frozenset[str]]:
    return {
        frozenset(pair)
        for past in history
        for group in past.groups
        for pair in itertools.combinations(group, 2)
    }


def _score(instance: Instance, groups: list[list[str]]) -> Score:
    last_met = pair_history(instance.history)
    latest = max(past.order for past in instance.history)
    team = {p.key: p.team for p in instance.people}
    rules = set(instance.rules)
    score = Score(0, 0, 0, 0, 0)
    for group in groups:
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                score.broken += frozenset((a, b)) in rules
                if (order := last_met.get(frozenset((a, b)))) is not None:
                    score.repeats += 1
                    score.ages += latest - order + 1
                if team[a] is not None and team[b] is not None:
                    score.teamed += 1
                    score.mixed += team[a] != team[b]
    return score


def _optimum(instance: Instance) -> list[list[str]]:
    """Fewest broken rules, then fewest repeats, then fewest same-team pairs: a rule's weight
    outweighs every repeat, a repeat's every same-team pair."""
    met, rules = _met_pairs(instance.history), set(instance.rules)
    people = instance.people
    w = len(people) + 1
    graph = nx.Graph()
    for i, a in enumerate(people):
        for b in people[i + 1 :]:
            pair = frozenset((a.key, b.key))
            same = a.team is not None and a.team == b.team
            cost = (pair in rules) * w * w + (pair in met) * w + same
            graph.add_edge(a.key, b.key, weight=w**3 - cost)
    matching = nx.max_weight_matching(graph, maxcardinality=True)
    return [sorted(pair) for pair in matching]


def _odd_optimum(instance: Instance) -> tuple[int, int]:
    """Fewest broken rules, then fewest repeats, with one trio: every trio, cheapest first,
    plus the best pairing of the rest (a rule outweighs every repeat)."""
    met, rules = _met_pairs(instance.history), set(instance.rules)
    keys = [p.key for p in instance.people]
    w = len(keys) + 1

    def cost(group: tuple[str, ...]) -> int:
        pairs = [frozenset(pair) for pair in itertools.combinations(group, 2)]
        return sum((pair in rules) * w + (pair in met) for pair in pairs)

    best = w * w
    for trio in sorted(itertools.combinations(keys, 3), key=cost):
        if cost(trio) >= best:
            break
        rest = [k for k in keys if k not in trio]
        graph = nx.Graph()
        for e in itertools.combinations(rest, 2):
            graph.add_edge(*e, weight=w * w - cost(e))
        matching = nx.max_weight_matching(graph, maxcardinality=True)
        best = min(best, cost(trio) + sum(cost(e) for e in matching))
    return divmod(best, w)


def _with_rules(instance: Instance, rules: bool, seed: int) -> Instance:
    if rules:
        keys = [p.key for p in instance.people]
        instance.rules = _some_rules(keys, random.Random(seed))
    return instance


def _form(instance: Instance, group_size: int, seed: int) -> Result:
    return form_groups(
        instance.people,
        history=instance.history,
        group_size=group_size,
        seed=seed,
        avoid=instance.rules,
    )


def _quality_odd(count: int, seed: int, *, rules: bool) -> None:
    rng = random.Random(seed)
    at_optimum, worst_gap, kept, keepable = 0, 0, 0, 0
    totals = [0, 0, 0]
    for i in range(count):
        instance = _with_rules(_make_instance(rng, range(11, 22, 2)), rules, seed + i)
        result = _form(instance, 2, i)
        keys = [p.key for p in instance.people]
        broken, repeats = _odd_optimum(instance)
        scores = (
            result.repeated_pairs,
            repeats,
            _score(instance, _random_pairing(keys, rng)).repeats,
        )
        totals = [t + s for t, s in zip(totals, scores, strict=True)]
        ours = (len(result.gave_way), result.repeated_pairs)
        at_optimum += ours <= (broken, repeats)
        worst_gap = max(worst_gap, scores[0] - scores[1])
        keepable += broken == 0
        kept += broken == 0 and not result.gave_way
    label = "with rules" if rules else "no rules"
    print(f"quality over {count} instances (pairs and one trio, 11..21 people, odd, {label})")
    print(f"  at the optimum (rules, repeats): {at_optimum}/{count} = {at_optimum / count:.1%}")
    if rules:
        print(f"  every rule kept where the optimum keeps them: {kept}/{keepable}")
    print(f"  worst gap (repeated pairs):     {worst_gap}")
    mean = " / ".join(f"{t / count:.3f}" for t in totals)
    print(f"  mean repeats ours/optimum/random: {mean}")


def _quality(count: int, seed: int, *, rules: bool) -> None:
    rng = random.Random(seed)
    at_optimum, worst_gap, kept, keepable = 0, 0, 0, 0
    ours, best, chance = [], [], []
    for i in range(count):
        instance = _with_rules(_make_instance(rng, range(10, 61, 2)), rules, seed + i)
        result = _form(instance, 2, i)
        ours.append(_score(instance, result.groups))
        best.append(_score(instance, _optimum(instance)))
        keys = [p.key for p in instance.people]
        chance.append(_score(instance, _random_pairing(keys, rng)))
        gap = ours[-1].repeats - best[-1].repeats
        at_optimum += (ours[-1].broken, ours[-1].repeats) <= (best[-1].broken, best[-1].repeats)
        worst_gap = max(worst_gap, gap)
        keepable += best[-1].broken == 0
        kept += best[-1].broken == 0 and ours[-1].broken == 0

    def mean_repeats(scores: list[Score]) -> float:
        return statistics.mean(s.repeats for s in scores)

    def mixing(scores: list[Score]) -> float:
        return sum(s.mixed for s in scores) / max(1, sum(s.teamed for s in scores))

    label = "with rules" if rules else "no rules"
    print(f"quality over {count} instances (pairs, 10..60 participants, even, {label})")
    print(f"  at the optimum (rules, repeats): {at_optimum}/{count} = {at_optimum / count:.1%}")
    if rules:
        print(f"  every rule kept where the optimum keeps them: {kept}/{keepable}")
    print(f"  worst gap (repeated pairs):     {worst_gap}")
    print(
        f"  mean repeats ours/optimum/random: {mean_repeats(ours):.3f} / "
        f"{mean_repeats(best):.3f} / {mean_repeats(chance):.3f}"
    )

    def age(scores: list[Score]) -> float:
        return sum(s.ages for s in scores) / max(1, sum(s.repeats for s in scores))

    print(
        f"  mean rounds since a repeated pair last met ours/optimum/random: {age(ours):.1f} / "
        f"{age(best):.1f} / {age(chance):.1f}"
    )
    print(
        f"  team-mixing share ours/optimum/random: {mixing(ours):.1%} / "
        f"{mixing(best):.1%} / {mixing(chance):.1%}"
    )
    # Ours ranks recency of repeats above team mixing; the optimum here ignores recency.
    free = [i for i, s in enumerate(best) if s.repeats == 0]
    print(
        f"  same, on the {len(free)} instances with a repeat-free optimum: "
        f"{mixing([ours[i] for i in free]):.1%} / {mixing([best[i] for i in free]):.1%} / "
        f"{mixing([chance[i] for i in free]):.1%}"
    )


def _rotation(seed: int, rounds: int = 10) -> None:
    """Extras over consecutive rounds: programs of each group size with counts that leave
    leftovers, ~90% of the members present each round, history formed by form_groups."""
    print(f"extras over {rounds} consecutive rounds (counts with leftovers, ~90% present)")
    for group_size in range(2, 7):
        again = chances = programs = 0
        for n in range(group_size + 1, 8 * group_size, 2):
            if n % group_size == 0:
                continue
            programs += 1
            rng = random.Random(seed + 100 * n + group_size)
            keys = [f"m{i:03d}@example.org" for i in range(n)]
            people = [Participant(k, rng.choice([None, "ops", "dev", "sales"])) for k in keys]
            history: list[PastRound] = []
            last: frozenset[str] = frozenset()
            for order in range(rounds):
                present = [p for p in people if rng.random() < 0.9]
                result = form_groups(present, history=history, group_size=group_size, seed=order)
                # Another choice exists when enough people present were not last round's extras.
                stay = last & {p.key for p in present}
                if result.extras and len(present) - len(stay) >= len(result.extras):
                    chances += 1
                    again += len(result.extras & last)
                history.append(PastRound(order, result.groups, result.extras))
                last = result.extras
        print(
            f"  group size {group_size}: {programs} programs, {chances} rounds with extras; "
            f"an extra two rounds running when another choice existed: {again} (target 0)"
        )


def _groups(*, quick: bool) -> None:
    """Groups of 3 and 4 against the proven optimum, when OR-Tools is installed."""
    try:
        import ortools.sat.python.cp_model  # noqa: F401
    except ImportError:
        print(
            "groups of 3 and 4 vs the exact optimum: skipped, OR-Tools is not installed.\n"
            "  Install the benchmark extra: pip install -e '.[bench]' (the package is ortools),\n"
            "  then run python bench/matching.py again or python bench/matching_groups.py."
        )
        return
    import matching_groups  # this folder is on the path: the script runs as bench/matching.py

    print("groups of 3 and 4 (and pairs) vs the proven optimum (bench/matching_groups.py)")
    matching_groups.run(seeds=1 if quick else 5, limit=60.0)


def _large(n: int, rounds: int = 50, *, rules: bool = False) -> Instance:
    rng = random.Random(n)
    keys = [f"member{i:05d}@example.org" for i in range(n)]
    people = [Participant(k, f"team{rng.randrange(12)}") for k in keys]
    history = [PastRound(order=o, groups=_random_pairing(keys, rng)) for o in range(rounds)]
    return _with_rules(Instance(people, history), rules, n)


def _run_large(instance: Instance, seed: int = 1, group_size: int = 2) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one call (CPU time is steadier on a busy machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    _form(instance, group_size, seed)
    return time.perf_counter() - wall, time.process_time() - cpu


def _child(n: int, call: bool) -> None:
    """Run in a subprocess: print peak RSS (MiB) after building the input and maybe matching."""
    instance = _large(n, rules=True)
    if call:
        _run_large(instance)
    print(_high_water_mib())


def _high_water_mib() -> float:
    """This process's peak RSS. ru_maxrss would also count the parent's memory at fork (Linux
    carries it across exec); /proc's VmHWM belongs to this program only."""
    try:
        with open("/proc/self/status") as status:
            line = next(x for x in status if x.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_rss(n: int, call: bool) -> float:
    args = [sys.executable, __file__, "--child", str(n)] + ([] if call else ["--no-call"])
    return float(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def _speed() -> None:
    print("speed (50 rounds of pairs as history, 12 teams; median of 3; memory: pairs, rules)")
    for n in (1_000, 10_000):
        for group_size, rules in ((2, False), (2, True), (4, True)):
            instance = _large(n, rules=rules)
            runs = [_run_large(instance, seed, group_size) for seed in range(3)]
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            label = f"{len(instance.rules)} rules" if rules else "no rules"
            target = 0.2 if n == 1_000 else 2.0
            print(
                f"  n={n:>6}, groups of {group_size}, {label}: {wall:.3f} s wall, {cpu:.3f} s CPU"
                f" ({wall / target:.0%} of the {target} s target)"
            )
        tracemalloc.start()
        _run_large(instance)
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        rss, base = _peak_rss(n, call=True), _peak_rss(n, call=False)
        print(
            f"  n={n:>6}: peak allocated by form_groups {traced:.1f} MiB; "
            f"process peak RSS {rss:.1f} MiB (input alone {base:.1f} MiB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="60 instances")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--no-groups", action="store_true", help="skip groups of 3 and 4 vs the exact optimum"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-call", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, call=not args.no_call)
        return
    started = time.perf_counter()
    for rules in (False, True):
        _quality(60 if args.quick else args.instances, args.seed, rules=rules)
        _quality_odd(30 if args.quick else args.instances // 2, args.seed, rules=rules)
    _rotation(args.seed, rounds=5 if args.quick else 10)
    if not args.no_groups:
        _groups(quick=args.quick)
    _speed()
    print(f"total bench time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
