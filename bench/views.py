"""Benchmark the read-only views against the cost of importing their libraries.

Usage: python bench/views.py [--rounds N] [--warmups N] [--check]

Seeds a temporary SQLite database through the real CLI (in this process): 10 programs, each with
one weekly series of 100 rounds. Then times, as fresh subprocesses and alternating in one run,
``python -m sessionctl list``, ``python -m sessionctl planning --weeks 12`` (with COLUMNS=160, and
without COLUMNS, where output to a pipe has no width limit and planning works out the narrowest
days that show every label whole) and the baseline
``python -c "import typer, rich.table, sqlmodel"``, and prints the medians and the ratios of each
view to the baseline: of wall-clock time (the target: each view within 1.2x), and of CPU time
(user + system, from ``wait4``), which a busy machine disturbs less; read it beside the wall
ratio when the load average printed is high.

sessionctl's modules are compiled to bytecode first, as ``pip install`` does: the baseline's
libraries are, and an environment with PYTHONDONTWRITEBYTECODE would otherwise charge each run
of sessionctl for compiling its sources. With ``--check`` the exit status is 1 when a view
misses the target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import compile_sessionctl, seed_rounds, time_run

PROGRAMS = 10
ROUNDS = 100
TARGET = 1.2
BASELINE = [sys.executable, "-c", "import typer, rich.table, sqlmodel"]
PLANNING = [sys.executable, "-m", "sessionctl", "planning", "--weeks", "12"]
# Each view's command and its COLUMNS (None: unset, so output to a pipe is unlimited in width).
VIEWS: dict[str, tuple[list[str], str | None]] = {
    "list": ([sys.executable, "-m", "sessionctl", "list"], "160"),
    "planning --weeks 12": (PLANNING, "160"),
    "planning --weeks 12, no COLUMNS": (PLANNING, None),
}


def _measure(
    env: dict[str, str], *, rounds: int, warmups: int
) -> dict[str, list[tuple[float, float]]]:
    """Alternate the commands, rotating their order each round so none always runs first."""
    commands = {"baseline": (BASELINE, None), **VIEWS}
    names = list(commands)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for index in range(warmups + rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            command, columns = commands[name]
            timed = time_run(command, _with_columns(env, columns))
            if index >= warmups:
                samples[name].append(timed)
    return samples


def _with_columns(env: dict[str, str], columns: str | None) -> dict[str, str]:
    rest = {key: value for key, value in env.items() if key != "COLUMNS"}
    return rest if columns is None else {**rest, "COLUMNS": columns}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (default 15)")
    parser.add_argument("--warmups", type=int, default=2, help="untimed rounds first (default 2)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    compile_sessionctl()
    with tempfile.TemporaryDirectory(prefix="sessionctl-bench-") as folder:
        db = Path(folder) / "bench.db"
        started = time.perf_counter()
        seed_rounds(db, programs=PROGRAMS, rounds=ROUNDS)
        seeded = time.perf_counter() - started
        print(f"seeded {PROGRAMS} programs x {ROUNDS} weekly rounds in {seeded:.1f} s")
        print(f"load average at start {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
        env = {**os.environ, "SESSIONCTL_DB": str(db)}
        samples = _measure(env, rounds=args.rounds, warmups=args.warmups)
    wall = {name: statistics.median(t[0] for t in timed) for name, timed in samples.items()}
    cpu = {name: statistics.median(t[1] for t in timed) for name, timed in samples.items()}
    print(f"{args.rounds} rounds after {args.warmups} warm-ups, medians (wall, CPU):")
    label = "baseline (import typer, rich.table, sqlmodel)"
    print(f"  {label:48} {wall['baseline'] * 1000:7.1f} ms {cpu['baseline'] * 1000:7.1f} ms")
    met = True
    for name in VIEWS:
        ratio, cpu_ratio = wall[name] / wall["baseline"], cpu[name] / cpu["baseline"]
        met = met and ratio <= TARGET
        verdict = "ok" if ratio <= TARGET else "over target"
        print(
            f"  {'sessionctl ' + name:48} {wall[name] * 1000:7.1f} ms {cpu[name] * 1000:7.1f} ms"
            f"  {ratio:.2f}x wall {cpu_ratio:.2f}x CPU  ({verdict})"
        )
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    print(f"target: each view within {TARGET:.2f}x of the baseline (wall clock)")
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
