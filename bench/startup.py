"""Benchmark sessionctl's start-up against the bare imports it cannot avoid.

Usage: python bench/startup.py [--rounds N] [--warmups N] [--check]

Two comparisons, each timed alternately in one run (A, B, A, B, ...) so that a busy machine
slows both sides alike, after a few warm-ups of each:

- ``sessionctl --help`` against ``python -c "import typer"`` (target: within 1.3x);
- ``sessionctl program list`` on a temporary database holding one program, against
  ``python -c "import typer, rich.table, sqlmodel"`` (target: within 1.2x).

Both sides start the same interpreter (``sys.executable``) the same way (``-c``): sessionctl
runs as its console script does, ``from sessionctl.cli import main; main()``. The medians of
wall-clock times are compared. With ``--check`` the exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SESSIONCTL = "from sessionctl.cli import main; main()"


@dataclass(frozen=True)
class Comparison:
    label: str
    command: list[str]
    baseline_label: str
    baseline: list[str]
    target: float


@dataclass(frozen=True)
class Outcome:
    comparison: Comparison
    command_median: float
    baseline_median: float

    @property
    def ratio(self) -> float:
        return self.command_median / self.baseline_median

    @property
    def met(self) -> bool:
        return self.ratio <= self.comparison.target


def _comparisons() -> list[Comparison]:
    python = sys.executable
    return [
        Comparison(
            label="sessionctl --help",
            command=[python, "-c", SESSIONCTL, "--help"],
            baseline_label='python -c "import typer"',
            baseline=[python, "-c", "import typer"],
            target=1.3,
        ),
        Comparison(
            label="sessionctl program list",
            command=[python, "-c", SESSIONCTL, "program", "list"],
            baseline_label='python -c "import typer, rich.table, sqlmodel"',
            baseline=[python, "-c", "import typer, rich.table, sqlmodel"],
            target=1.2,
        ),
    ]


def _time_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()}")
    return elapsed


def _measure(comparison: Comparison, env: dict[str, str], *, rounds: int, warmups: int) -> Outcome:
    for _ in range(warmups):
        _time_once(comparison.command, env)
        _time_once(comparison.baseline, env)
    command_times: list[float] = []
    baseline_times: list[float] = []
    for index in range(rounds):
        # Alternate which side goes first too, so neither always follows the other.
        pair = [(comparison.command, command_times), (comparison.baseline, baseline_times)]
        for argv, times in pair if index % 2 == 0 else reversed(pair):
            times.append(_time_once(argv, env))
    return Outcome(comparison, statistics.median(command_times), statistics.median(baseline_times))


def _environment(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SESSIONCTL_DB=str(folder / "bench.db"),
        XDG_DATA_HOME=str(folder / "data"),
        XDG_CONFIG_HOME=str(folder / "config"),
        TZ="UTC",
    )
    for name in ("FORCE_COLOR", "SESSIONCTL_TRANSPORT"):
        env.pop(name, None)
    return env


def _prepare_database(env: dict[str, str]) -> None:
    argv = [sys.executable, "-c", SESSIONCTL, "program", "add", "coffee-paris"]
    subprocess.run([*argv, "--tz", "Europe/Paris"], env=env, check=True, capture_output=True)
    for index in range(20):
        add = [sys.executable, "-c", SESSIONCTL, "member", "add", "coffee-paris"]
        subprocess.run([*add, f"m{index}@example.com"], env=env, check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed runs of each side")
    parser.add_argument("--warmups", type=int, default=2, help="untimed runs of each side first")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sessionctl-bench-") as folder:
        env = _environment(Path(folder))
        _prepare_database(env)
        print(f"python {sys.version.split()[0]} at {sys.executable}")
        print(f"{args.rounds} alternating rounds per comparison after {args.warmups} warm-ups\n")
        outcomes = [
            _measure(c, env, rounds=args.rounds, warmups=args.warmups) for c in _comparisons()
        ]

    for o in outcomes:
        c = o.comparison
        verdict = "ok" if o.met else "MISSED"
        print(f"{c.label:<48} median {o.command_median * 1000:7.1f} ms")
        print(f"{c.baseline_label:<48} median {o.baseline_median * 1000:7.1f} ms")
        print(f"{'ratio':<48} {o.ratio:6.2f}x   target <= {c.target:.1f}x   {verdict}\n")
    return 1 if args.check and not all(o.met for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
