"""What the start-up benchmarks share: bytecode first, the same seeded rounds, one timed run.

Imported by ``startup.py``, ``views.py`` and ``completion.py`` (run as ``python bench/X.py``,
so this folder is on the path).
"""

from __future__ import annotations

import compileall
import contextlib
import io
import os
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path


def compile_sessionctl() -> None:
    """Compile sessionctl to bytecode, as ``pip install`` does: the baselines' libraries are,
    and with PYTHONDONTWRITEBYTECODE each run would otherwise pay for compiling our sources."""
    import sessionctl

    folder = Path(sessionctl.__file__).parent
    if not compileall.compile_dir(folder, quiet=1):
        raise SystemExit(f"cannot compile {folder}")


def seed_rounds(db: Path, *, programs: int, rounds: int) -> None:
    """``programs`` programs, each with one weekly series of ``rounds`` rounds, through the CLI
    entry point in this process, output discarded."""
    os.environ["SESSIONCTL_DB"] = str(db)
    monday = date.today() + timedelta(days=7 - date.today().weekday())
    commands: list[list[str]] = []
    for index in range(programs):
        name = f"program-{index:02d}"
        day = monday + timedelta(days=index % 5)
        sender = ["--sender", f"{name}@example.com"]  # without one, a note on stderr
        commands.append(["program", "add", name, "--tz", "Europe/Paris", *sender])
        window = ["--opt-in", f"{day} 09:00", "--match", f"{day + timedelta(days=2)} 10:00"]
        commands.append(["schedule", name, *window, "--repeat", "weekly", "--count", str(rounds)])
    run_cli(commands)


def run_cli(commands: list[list[str]]) -> None:
    """Each command through the CLI entry point in this process; stop at the first failure."""
    from sessionctl.cli import run

    with contextlib.redirect_stdout(io.StringIO()):
        for args in commands:
            code = run(args)
            if code != 0:
                raise SystemExit(f"seeding failed: sessionctl {' '.join(args)} exited {code}")


def time_run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system, from ``wait4``) of one run of ``argv``."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    errors = process.stderr.read()  # to its end before waiting: a full pipe would block it
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = code = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({code}): {errors.decode()}")
    return elapsed, usage.ru_utime + usage.ru_stime
