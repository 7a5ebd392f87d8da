"""Groups of 3 and 4 (and pairs) against the proven optimum of the very cost matching minimises.

Usage: python bench/matching_groups.py [--seeds N] [--limit S] [--baseline REV] [--cache FILE]

Instances: for each configuration (group size, people, teams, rules) and each history style,
``--seeds`` instances (5). People: 20 to 30, with 4 teams or none, with pairing rules or none.
History: 6 rounds formed by form_groups itself, or 10 random rounds (groups of the program's
size, the leftovers joining them as extras); ~90% of the members present in each round.

The exact reference is set partitioning over every possible group, solved by OR-Tools CP-SAT:
each candidate group costs what ``_Search.group_cost`` says (every level of
domain/matching.py, the same weights), the chosen groups cover everyone once with the round's
sizes, and their summed cost is minimised. Costs are never negative, so a group that cannot be
part of a grouping as cheap as ours is left out: first one costing more than ours less a
lower bound of everyone else's share, then one whose LP reduced cost (GLOP) exceeds ours less
the LP bound. Each time CP-SAT finds a cheaper grouping the candidates are pruned again with
it; "proven" means CP-SAT proved the optimum within ``--limit`` seconds.

The table, per configuration: at optimum (our whole cost equals the best known), proven (the
best known is proven optimal), the worst gaps in repeated pairs, same-team pairs and broken
rules (ours less the optimum's; a lower level can be worse at the optimum only when a higher
one is better), and the CPU time per instance for ours. ``--baseline REV`` forms the groups of
the same instances with the matching code of git revision REV too (in a subprocess), for a
before/after table. ``--cache FILE`` keeps the instances as first made and their proven
optima, so that a rerun compares a changed search on the same instances in seconds.

Needs the ``bench`` extra: ``pip install -e '.[bench]'`` (OR-Tools, imported as
``ortools.sat.python.cp_model``).
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sessionctl.domain.matching import Participant, PastRound, form_groups

if TYPE_CHECKING:
    from sessionctl.domain._search import _Search

# (group size, people, teams, rules): pairs stay exact; odd pools leave leftovers.
CONFIGS = [
    (2, 20, 0, False),
    (2, 25, 4, True),
    (3, 21, 0, False),
    (3, 25, 4, False),
    (3, 30, 0, True),
    (4, 24, 0, False),
    (4, 26, 4, False),
    (4, 30, 0, False),
    (4, 30, 4, True),
]
STYLES = ("own 6", "random 10")


@dataclass
class Instance:
    group_size: int
    people: list[Participant]
    history: list[PastRound]
    rules: list[frozenset[str]]
    seed: int


@dataclass
class Outcome:
    cost: int
    repeats: int
    same_team: int
    broken: int
    seconds: float = 0.0


@dataclass
class Row:
    label: str
    optimum: list[Outcome] = field(default_factory=list)
    proven: list[bool] = field(default_factory=list)
    ours: dict[str, list[Outcome]] = field(default_factory=dict)


def _partition(
    keys: list[str], group_size: int, rng: random.Random
) -> tuple[list[list[str]], set[str]]:
    """Random groups of ``group_size``; leftovers join groups round-robin as their extras."""
    keys = rng.sample(keys, len(keys))
    count = max(1, len(keys) // group_size)
    groups = [keys[i * group_size : (i + 1) * group_size] for i in range(count)]
    extras = set()
    for i, key in enumerate(keys[count * group_size :]):
        groups[i % count].append(key)
        extras.add(key)
    return groups, extras


def make_instance(config: tuple[int, int, int, bool], style: str, seed: int) -> Instance:
    group_size, n, teams, ruled = config
    rng = random.Random(f"{config} {style} {seed}")
    keys = [f"m{i:02d}@example.org" for i in range(n)]
    people = [Participant(k, f"team{rng.randrange(teams)}" if teams else None) for k in keys]
    rules: list[frozenset[str]] = []
    if ruled:
        for a in rng.sample(keys, max(1, n // 20) + 1):
            rules.append(frozenset((a, rng.choice([b for b in keys if b != a]))))
    history: list[PastRound] = []
    for order in range(6 if style.startswith("own") else 10):
        present = [p for p in people if rng.random() < 0.9]
        if style.startswith("own"):
            result = form_groups(
                present, history=history, group_size=group_size, seed=order, avoid=rules
            )
            groups, extras = result.groups, set(result.extras)
        else:
            groups, extras = _partition([p.key for p in present], group_size, rng)
        history.append(PastRound(order, groups, frozenset(extras)))
    return Instance(group_size, people, history, rules, seed)


def _search(instance: Instance) -> tuple[_Search, dict[str, int]]:
    # Imported here: the baseline side (--solve-stdin) may run older code without it.
    from sessionctl.domain._search import _Search

    people = sorted(instance.people, key=lambda p: p.key)
    search = _Search(
        people, history=instance.history, group_size=instance.group_size, lookback=None,
        avoid=instance.rules,
    )  # fmt: skip
    return search, {p.key: i for i, p in enumerate(people)}


def score(instance: Instance, groups: list[list[str]], seconds: float = 0.0) -> Outcome:
    search, index = _search(instance)
    team = {p.key: p.team for p in instance.people}
    outcome = Outcome(0, 0, 0, 0, seconds)
    for group in groups:
        members = [index[k] for k in group]
        outcome.cost += search.group_cost(members)
        for a, b in itertools.combinations(members, 2):
            outcome.repeats += search.repeat(a, b)
            outcome.broken += search.rule(a, b)
        for a, b in itertools.combinations(group, 2):
            outcome.same_team += team[a] is not None and team[a] == team[b]
    return outcome


def form(instance: Instance) -> tuple[list[list[str]], float]:
    started = time.process_time()
    result = form_groups(
        instance.people,
        history=instance.history,
        group_size=instance.group_size,
        seed=instance.seed,
        avoid=instance.rules,
    )
    return result.groups, time.process_time() - started


def _candidates(
    search: _Search, sizes: Counter[int], bound: int
) -> list[tuple[tuple[int, ...], int]]:
    """Every group of a needed size that may belong to a grouping costing at most ``bound``."""
    n = search.n
    found: list[tuple[tuple[int, ...], int]] = []
    for size in sizes:
        for group in itertools.combinations(range(n), size):
            cost = search.group_cost(group)
            if cost <= bound:
                found.append((group, cost))
    # A grouping costs at least the sum, over people, of the cheapest share of a group they
    # can get (a group's cost split evenly among its members): drop what cannot fit.
    share = [bound] * n
    for group, cost in found:
        for p in group:
            share[p] = min(share[p], cost // len(group))
    floor = sum(share)
    return [
        (group, cost)
        for group, cost in found
        if cost + floor - sum(share[p] for p in group) <= bound
    ]


def optimum(instance: Instance, bound: int, limit: float) -> tuple[list[list[str]] | None, bool]:
    """The cheapest grouping if one costs less than ``bound`` (else None: nothing cheaper was
    found), and whether the answer is proven: CP-SAT over the candidate groups, pruned by
    their LP reduced costs (a group whose reduced cost exceeds ``bound`` less the LP bound is
    in no grouping costing at most ``bound``), again after each cheaper grouping found."""
    from ortools.sat.python import cp_model

    from sessionctl.domain._search import _group_sizes

    search, index = _search(instance)
    keys = sorted(index, key=index.__getitem__)
    sizes = Counter(_group_sizes(search.n, instance.group_size))
    candidates = _candidates(search, sizes, bound)
    floor, reduced = _lp(search.n, sizes, candidates)
    deadline = time.perf_counter() + limit
    best: list[list[str]] | None = None
    hint: set[tuple[int, ...]] = set()
    while (left := deadline - time.perf_counter()) > 0:
        slack = bound - floor + 1e-6 * abs(bound) + 1  # LP round-off
        kept = [c for c, r in zip(candidates, reduced, strict=True) if r <= slack]
        model = cp_model.CpModel()
        chosen = [model.new_bool_var(f"g{i}") for i in range(len(kept))]
        holding: list[list[Any]] = [[] for _ in range(search.n)]
        by_size: dict[int, list[Any]] = {size: [] for size in sizes}
        for var, (group, _) in zip(chosen, kept, strict=True):
            by_size[len(group)].append(var)
            for p in group:
                holding[p].append(var)
            if hint:
                model.add_hint(var, group in hint)
        for variables in holding:
            model.add_exactly_one(variables)
        for size, count in sizes.items():
            model.add(sum(by_size[size]) == count)
        total = sum(cost * var for var, (_, cost) in zip(chosen, kept, strict=True))
        model.add(total <= bound)
        model.minimize(total)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = left
        solver.parameters.num_workers = 2
        status = solver.solve(model, _stop_below(bound))
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return best, False
        cost = round(solver.objective_value)
        picked = [group for var, (group, _) in zip(chosen, kept, strict=True) if solver.value(var)]
        improved = cost < bound
        if improved:
            best = [sorted(keys[p] for p in group) for group in picked]
            bound, hint = cost, set(picked)
        if status == cp_model.OPTIMAL:
            return best, True
        if not improved:  # out of time
            return best, False
    return best, False


def _stop_below(bound: int) -> Any:
    """A CP-SAT callback that stops at the first grouping cheaper than ``bound``, so that the
    candidates are pruned again with the tighter bound."""
    from ortools.sat.python import cp_model

    class Callback(cp_model.CpSolverSolutionCallback):  # type: ignore[misc]
        def on_solution_callback(self) -> None:
            if self.objective_value < bound:
                self.stop_search()

    return Callback()


def _lp(
    n: int, sizes: Counter[int], candidates: list[tuple[tuple[int, ...], int]]
) -> tuple[float, list[float]]:
    """The LP relaxation's optimum and each candidate's reduced cost (GLOP)."""
    from ortools.linear_solver import pywraplp

    lp = pywraplp.Solver.CreateSolver("GLOP")
    shares = [lp.Constraint(1, 1) for _ in range(n)]
    counts = {size: lp.Constraint(count, count) for size, count in sizes.items()}
    objective = lp.Objective()
    for group, cost in candidates:
        var = lp.NumVar(0, 1, "")
        objective.SetCoefficient(var, cost)
        counts[len(group)].SetCoefficient(var, 1)
        for p in group:
            shares[p].SetCoefficient(var, 1)
    objective.SetMinimization()
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        raise SystemExit("the LP relaxation failed")
    duals = [row.dual_value() for row in shares]
    by_size = {size: row.dual_value() for size, row in counts.items()}
    reduced = [
        cost - sum(duals[p] for p in group) - by_size[len(group)] for group, cost in candidates
    ]
    return objective.Value(), reduced


def _to_json(instance: Instance) -> dict[str, Any]:
    return {
        "group_size": instance.group_size,
        "people": [[p.key, p.team] for p in instance.people],
        "history": [[p.order, p.groups, sorted(p.extras)] for p in instance.history],
        "rules": [sorted(rule) for rule in instance.rules],
        "seed": instance.seed,
    }


def _from_json(data: dict[str, Any]) -> Instance:
    return Instance(
        data["group_size"],
        [Participant(key, team) for key, team in data["people"]],
        [PastRound(order, groups, frozenset(extras)) for order, groups, extras in data["history"]],
        [frozenset(rule) for rule in data["rules"]],
        data["seed"],
    )


def _solve_stdin() -> None:
    """Baseline side: form the groups of the instances on stdin with whatever matching code is
    first on the path. Old code without ``avoid`` gets no rules."""
    out = []
    for data in json.load(sys.stdin):
        instance = _from_json(data)
        started = time.process_time()
        kwargs: dict[str, Any] = {"avoid": instance.rules} if instance.rules else {}
        result = form_groups(
            instance.people,
            history=instance.history,
            group_size=instance.group_size,
            seed=instance.seed,
            **kwargs,
        )
        out.append([result.groups, time.process_time() - started])
    json.dump(out, sys.stdout)


def _baseline(rev: str, instances: list[Instance]) -> list[tuple[list[list[str]], float]]:
    """Groups formed by the matching code of git revision ``rev``, in a subprocess."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", rev, "src"], check=True, capture_output=True
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        env = {**os.environ, "PYTHONPATH": str(Path(folder) / "src")}
        run = subprocess.run(
            [sys.executable, __file__, "--solve-stdin"],
            input=json.dumps([_to_json(i) for i in instances]),
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
    return [(groups, seconds) for groups, seconds in json.loads(run.stdout)]


def _report(rows: list[Row], sides: list[str]) -> None:
    head = (
        f"{'size pool':<22} {'side':<9} {'at optimum':>10} {'proven':>7} {'worst repeats gap':>17}"
    )
    print(head + f" {'worst team gap':>14} {'rules gap':>9} {'ms mean/max':>12}")
    for row in rows:
        count = len(row.optimum)
        proven = sum(row.proven)
        for side in sides:
            ours = row.ours[side]
            at = sum(o.cost <= b.cost for o, b in zip(ours, row.optimum, strict=True))
            repeats = max(o.repeats - b.repeats for o, b in zip(ours, row.optimum, strict=True))
            team = max(o.same_team - b.same_team for o, b in zip(ours, row.optimum, strict=True))
            rules = max(o.broken - b.broken for o, b in zip(ours, row.optimum, strict=True))
            ms = [o.seconds * 1000 for o in ours]
            print(
                f"{row.label:<22} {side:<9} {f'{at}/{count}':>10} {f'{proven}/{count}':>7} "
                f"{repeats:>17} {team:>14} {rules:>9} "
                f"{f'{statistics.mean(ms):.0f}/{max(ms):.0f}':>12}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="instances per configuration, style")
    parser.add_argument("--limit", type=float, default=60.0, help="CP-SAT seconds per instance")
    parser.add_argument("--baseline", help="also form groups with this git revision's code")
    parser.add_argument("--only", type=int, help="only this group size")
    parser.add_argument(
        "--cache", type=Path, help="keep the instances and their optima in this JSON file"
    )
    parser.add_argument("--solve-stdin", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.solve_stdin:
        _solve_stdin()
        return
    try:
        import ortools.sat.python.cp_model  # noqa: F401
    except ImportError:
        raise SystemExit(
            "this benchmark needs OR-Tools: pip install -e '.[bench]' (the package is ortools)"
        ) from None
    run(args.seeds, args.limit, baseline=args.baseline, only=args.only, cache_file=args.cache)


def run(
    seeds: int,
    limit: float,
    *,
    baseline: str | None = None,
    only: int | None = None,
    cache_file: Path | None = None,
) -> None:
    """Form the groups of every instance (and with ``baseline``'s code), solve each exactly,
    print the table."""
    started = time.perf_counter()
    configs = [c for c in CONFIGS if only in (None, c[0])]
    cache = json.loads(cache_file.read_text()) if cache_file and cache_file.exists() else {}
    labels, instances = [], []
    for config in configs:
        group_size, n, teams, rules = config
        label = f"{group_size} in {n}" + (" teams" if teams else "") + (" rules" if rules else "")
        for style in STYLES:
            for seed in range(seeds):
                key = f"{label}, {style}, {seed}"
                if key not in cache:  # the cache keeps the instances as first made
                    cache[key] = {"instance": _to_json(make_instance(config, style, seed))}
                labels.append((label, key))
                instances.append(_from_json(cache[key]["instance"]))
    sides = ["ours"] + (["baseline"] if baseline else [])
    formed = {"ours": [form(i) for i in instances]}
    if baseline:
        formed["baseline"] = _baseline(baseline, instances)
    rows: dict[str, Row] = {}
    for k, (instance, (label, key)) in enumerate(zip(instances, labels, strict=True)):
        row = rows.setdefault(label, Row(label, ours={side: [] for side in sides}))
        outcomes = {side: score(instance, *formed[side][k]) for side in sides}
        ours_best = min(outcomes.values(), key=lambda o: o.cost)
        if cache[key].get("proven"):
            best, proven = Outcome(**cache[key]["best"]), True
        else:
            groups, proven = optimum(instance, ours_best.cost, limit)
            best = ours_best if groups is None else score(instance, groups)
            cache[key].update(best=vars(best), proven=proven)
        row.optimum.append(best)
        row.proven.append(proven)
        for side in sides:
            row.ours[side].append(outcomes[side])
    if cache_file:
        cache_file.write_text(json.dumps(cache, indent=1))
    print(f"{len(instances)} instances; history: {' or '.join(STYLES)} rounds")
    _report(list(rows.values()), sides)
    print(f"total bench time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
