"""Benchmark shell completion, a Tab press, against the cost of importing Typer.

Usage: python bench/completion.py [--rounds N] [--warmups N] [--check]

Seeds a temporary SQLite database through the real CLI (in this process): 10 programs, each with
one weekly series of 100 rounds, and 200 members in the first program. Then times, as fresh
subprocesses in the environment the shells' completion scripts set, and alternating in one run:
``show <Tab>`` for bash (1,000 round ids) and for zsh (the same with their descriptions),
``member remove PROGRAM <Tab>`` for fish (200 emails with names), ``list --tz <Tab>`` (every
zone), and the baseline ``python -c "import typer"``. Prints the medians of wall and CPU time
(on a busy machine, read the CPU times). Target: each completion under 0.5 s, the point where a
Tab press feels slow. sessionctl is compiled to bytecode first, as in the other benchmarks.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import compile_sessionctl, run_cli, seed_rounds

PROGRAMS = 10
ROUNDS = 100
MEMBERS = 200
TARGET_SECONDS = 0.5
BASELINE = [sys.executable, "-c", "import typer"]
PROGRAM = [sys.executable, "-m", "sessionctl"]
# name: (instruction, what the shell has typed)
COMPLETIONS = {
    "bash: show <Tab>": ("complete_bash", "sessionctl show "),
    "zsh: show <Tab>": ("complete_zsh", "sessionctl show "),
    "fish: member remove program-00 <Tab>": (
        "complete_fish",
        "sessionctl member remove program-00 ",
    ),
    "fish: list --tz <Tab>": ("complete_fish", "sessionctl list --tz "),
}


def _seed(db: Path) -> None:
    seed_rounds(db, programs=PROGRAMS, rounds=ROUNDS)
    rows = "\n".join(f"m{i:03d}@example.com,Member {i}" for i in range(MEMBERS))
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as csv:
        csv.write(f"email,name\n{rows}\n")
    run_cli([["member", "import", "program-00", csv.name]])
    os.unlink(csv.name)


def _environment(instruction: str, typed: str) -> dict[str, str]:
    words = typed.split(" ")
    return {
        **os.environ,
        "_SESSIONCTL_COMPLETE": instruction,
        "_TYPER_COMPLETE_ARGS": typed,  # zsh and fish
        "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        "COMP_WORDS": typed,  # bash
        "COMP_CWORD": str(len(words) - 1),
    }


def _time(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall time, CPU time (user + system, steadier on a busy machine) and lines printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done.stdout.count("\n") if done.stdout.strip() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (default 15)")
    parser.add_argument("--warmups", type=int, default=2, help="untimed rounds first (default 2)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    compile_sessionctl()
    runs = {"baseline": (BASELINE, dict(os.environ))}
    with tempfile.TemporaryDirectory(prefix="sessionctl-bench-") as folder:
        _seed(Path(folder) / "bench.db")
        for name, (instruction, typed) in COMPLETIONS.items():
            runs[name] = (PROGRAM, _environment(instruction, typed))
        names = list(runs)
        walls: dict[str, list[float]] = {name: [] for name in names}
        cpus: dict[str, list[float]] = {name: [] for name in names}
        lines: dict[str, int] = {}
        for index in range(args.warmups + args.rounds):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                wall, cpu, lines[name] = _time(*runs[name])
                if index >= args.warmups:
                    walls[name].append(wall)
                    cpus[name].append(cpu)
    print(f"{args.rounds} rounds after {args.warmups} warm-ups, medians (wall, CPU):")
    print(f"load average: {', '.join(f'{load:.1f}' for load in os.getloadavg())}")
    missed = False
    for name in names:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        missed |= name != "baseline" and wall >= TARGET_SECONDS
        detail = "" if name == "baseline" else f"  {lines[name]} lines"
        label = "baseline (import typer)" if name == "baseline" else name
        print(f"  {label:40} {wall * 1000:7.1f} ms  {cpu * 1000:7.1f} ms CPU{detail}")
    print(f"target: each completion under {TARGET_SECONDS * 1000:.0f} ms")
    if args.check and missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
