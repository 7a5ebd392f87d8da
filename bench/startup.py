"""Benchmark sessionctl's start-up against the bare imports it cannot avoid.

Usage: python bench/startup.py [--rounds N] [--warmups N] [--check]

Two comparisons, each timed alternately in one run (A, B, A, B, ...) so that a busy machine
slows both sides alike, after a few warm-ups of each:

- ``sessionctl --help`` against ``python -c "import typer"`` (target: within 1.3x);
- ``sessionctl program list`` on a temporary database holding one program, against
  ``python -c "import typer, rich.table, sqlmodel"`` (target: within 1.2x).

Both sides start the same interpreter (``sys.executable``) the same way (``-c``): sessionctl
runs as its console script does, ``from sessionctl.cli import main; main()``. The medians of
wall-clock times are compared (the targets), and beside them those of CPU time (user + system,
from ``wait4``), which a busy machine disturbs less: read it next to the wall ratio when the
load average printed is high.

sessionctl's modules are compiled to bytecode first, as ``pip install`` does: the baseline's
libraries are, and an environment with PYTHONDONTWRITEBYTECODE would otherwise charge each run
of sessionctl for compiling its sources. With ``--check`` the exit status is 1 when a target is
missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from common import compile_sessionctl, time_run

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
    command_cpu: float
    baseline_cpu: float

    @property
    def ratio(self) -> float:
        return self.command_median / self.baseline_median

    @property
    def cpu_ratio(self) -> float:
        return self.command_cpu / self.baseline_cpu

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


def _measure(comparison: Comparison, env: dict[str, str], *, rounds: int, warmups: int) -> Outcome:
    for _ in range(warmups):
        time_run(comparison.command, env)
        time_run(comparison.baseline, env)
    command_times: list[tuple[float, float]] = []
    baseline_times: list[tuple[float, float]] = []
    for index in range(rounds):
        # Alternate which side goes first too, so neither always follows the other.
        pair = [(comparison.command, command_times), (comparison.baseline, baseline_times)]
        for argv, times in pair if index % 2 == 0 else reversed(pair):
            times.append(time_run(argv, env))
    return Outcome(
        comparison,
        statistics.median(t[0] for t in command_times),
        statistics.median(t[0] for t in baseline_times),
        statistics.median(t[1] for t in command_times),
        statistics.median(t[1] for t in baseline_times),
    )


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


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed runs of each side")
    parser.add_argument("--warmups", type=int, default=2, help="untimed runs of each side first")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    compile_sessionctl()

    with tempfile.TemporaryDirectory(prefix="sessionctl-bench-") as folder:
        env = _environment(Path(folder))
        _prepare_database(env)
        print(f"python {sys.version.split()[0]} at {sys.executable}")
        print(f"{args.rounds} alternating rounds per comparison after {args.warmups} warm-ups")
        print(f"load average at start {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs\n")
        outcomes = [
            _measure(c, env, rounds=args.rounds, warmups=args.warmups) for c in _comparisons()
        ]

    print(f"{'medians':<48} {'wall':>10} {'CPU':>10}")
    for o in outcomes:
        c = o.comparison
        verdict = "ok" if o.met else "MISSED"
        print(f"{c.label:<48} {_ms(o.command_median)} {_ms(o.command_cpu)}")
        print(f"{c.baseline_label:<48} {_ms(o.baseline_median)} {_ms(o.baseline_cpu)}")
        print(
            f"{'ratio':<48} {o.ratio:9.2f}x {o.cpu_ratio:9.2f}x   "
            f"target <= {c.target:.1f}x (wall)   {verdict}\n"
        )
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    return 1 if args.check and not all(o.met for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
