"""Benchmark the read-only views against the cost of importing their libraries.

Usage: python bench/views.py [--rounds N] [--warmups N]

Seeds a temporary SQLite database through the real CLI (in this process): 10 programs, each with
one weekly series of 100 rounds. Then times, as fresh subprocesses and alternating in one run,
``python -m sessionctl list``, ``python -m sessionctl planning --weeks 12`` and the baseline
``python -c "import typer, rich.table, sqlmodel"``, and prints the medians and the ratios of each
view to the baseline. Target: each view within 1.25x of the baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

PROGRAMS = 10
ROUNDS = 100
TARGET = 1.25
BASELINE = [sys.executable, "-c", "import typer, rich.table, sqlmodel"]
VIEWS = {
    "list": [sys.executable, "-m", "sessionctl", "list"],
    "planning --weeks 12": [sys.executable, "-m", "sessionctl", "planning", "--weeks", "12"],
}


def _seed(db: Path) -> None:
    """10 programs x 100 weekly rounds, through the CLI entry point, output discarded."""
    os.environ["SESSIONCTL_DB"] = str(db)
    from sessionctl.cli import run

    monday = date.today() + timedelta(days=7 - date.today().weekday())
    commands: list[list[str]] = []
    for index in range(PROGRAMS):
        name = f"program-{index:02d}"
        day = monday + timedelta(days=index % 5)
        sender = ["--sender", f"{name}@example.com"]  # without one, a note on stderr
        commands.append(["program", "add", name, "--tz", "Europe/Paris", *sender])
        match = day + timedelta(days=2)
        window = ["--opt-in", f"{day} 09:00", "--match", f"{match} 10:00"]
        commands.append(["schedule", name, *window, "--repeat", "weekly", "--count", str(ROUNDS)])
    with contextlib.redirect_stdout(io.StringIO()):
        for args in commands:
            code = run(args)
            if code != 0:
                raise SystemExit(f"seeding failed: sessionctl {' '.join(args)} exited {code}")


def _time(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _measure(env: dict[str, str], *, rounds: int, warmups: int) -> dict[str, list[float]]:
    """Alternate the commands, rotating their order each round so none always runs first."""
    commands = {"baseline": BASELINE, **VIEWS}
    names = list(commands)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(warmups + rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            elapsed = _time(commands[name], env)
            if index >= warmups:
                samples[name].append(elapsed)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (default 15)")
    parser.add_argument("--warmups", type=int, default=2, help="untimed rounds first (default 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sessionctl-bench-") as folder:
        db = Path(folder) / "bench.db"
        started = time.perf_counter()
        _seed(db)
        seeded = time.perf_counter() - started
        print(f"seeded {PROGRAMS} programs x {ROUNDS} weekly rounds in {seeded:.1f} s")
        env = {**os.environ, "SESSIONCTL_DB": str(db), "COLUMNS": "160"}
        samples = _measure(env, rounds=args.rounds, warmups=args.warmups)
    base = statistics.median(samples["baseline"])
    print(f"{args.rounds} rounds after {args.warmups} warm-ups, medians:")
    print(f"  {'baseline (import typer, rich.table, sqlmodel)':48} {base * 1000:7.1f} ms")
    for name in VIEWS:
        median = statistics.median(samples[name])
        ratio = median / base
        verdict = "ok" if ratio <= TARGET else "over target"
        label = f"sessionctl {name}"
        print(f"  {label:48} {median * 1000:7.1f} ms  {ratio:.2f}x  ({verdict})")
    print(f"target: each view within {TARGET:.2f}x of the baseline")


if __name__ == "__main__":
    main()
