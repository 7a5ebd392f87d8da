"""Benchmark ``stats`` against ``list`` over the same thousand matched rounds.

Usage: python bench/stats.py [--rounds N] [--warmups N] [--members N] [--check]

Seeds a temporary SQLite database: through the real CLI, 10 programs each with one weekly series
of 100 rounds (``seed_rounds``, as bench/views.py) and ``--members`` members each (20 by
default); then, with SQL in this benchmark only (matching a thousand rounds through run-due
would take minutes), makes every round matched as run-due leaves it: an opt-in message per
member (one in fifty failed), answers from four in five (one in eight of them no), the yes
answers in pairs (a trio for an odd one out, its extra member flagged) and a match message each.

Then times, as fresh subprocesses alternating in one run (COLUMNS=160), ``sessionctl list``,
``sessionctl stats`` and ``sessionctl stats --json``, and prints their medians and the ratio of
each stats to list, measured in the same run: the target is within 1.25x (wall clock). CPU time
(user + system) is printed beside it, which a busy machine disturbs less.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from common import compile_sessionctl, run_cli, seed_rounds, time_run

PROGRAMS = 10
ROUNDS = 100
TARGET = 1.25
SESSIONCTL = [sys.executable, "-m", "sessionctl"]
COMMANDS = {
    "list": [*SESSIONCTL, "list"],
    "stats": [*SESSIONCTL, "stats"],
    "stats --json": [*SESSIONCTL, "stats", "--json"],
}


def seed(db: Path, *, members: int) -> None:
    seed_rounds(db, programs=PROGRAMS, rounds=ROUNDS)
    for index in range(PROGRAMS):
        rows = "".join(f"m{i:03d}@p{index}.example.com,Member {i}\n" for i in range(members))
        _import(f"program-{index:02d}", "email,name\n" + rows)
    with closing(sqlite3.connect(db)) as conn, conn:
        _match_all(conn)


def _import(program: str, text: str) -> None:
    """``member import PROGRAM -`` with ``text`` on standard input."""
    import io

    stdin = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        run_cli([["member", "import", program, "-"]])
    finally:
        sys.stdin = stdin


def _match_all(conn: sqlite3.Connection) -> None:
    """Every round done, with the rows run-due would have written."""
    conn.execute("UPDATE round SET status = 'done', opened_at = opt_in_at, matched_at = match_at")
    invited = conn.execute(
        "SELECT r.id, m.id, r.opt_in_at, r.match_at FROM round r "
        "JOIN member m ON m.program_id = r.program_id ORDER BY r.id, m.id"
    ).fetchall()
    chance = random.Random(12)
    messages, answers, places = [], [], []
    yes: dict[int, list[int]] = {}
    for round_id, member_id, opened, _ in invited:
        failed = chance.random() < 0.02
        status = "failed" if failed else "sent"
        messages.append((round_id, member_id, "opt_in", status, opened, f"o{round_id}.{member_id}"))
        if failed or chance.random() >= 0.8:
            continue
        answer = chance.random() >= 0.125
        answers.append((round_id, member_id, answer, opened))
        if answer:
            yes.setdefault(round_id, []).append(member_id)
    match_at = {round_id: matched for round_id, _, _, matched in invited}
    for round_id, people in yes.items():
        chance.shuffle(people)
        for position, member_id in enumerate(people):
            group_no, extra = position // 2 + 1, False
            if len(people) % 2 and position == len(people) - 1:  # the odd one joins the last pair
                group_no, extra = max(1, position // 2), position > 0
            places.append((round_id, group_no, member_id, extra))
            sent = match_at[round_id]
            messages.append(
                (round_id, member_id, "match", "sent", sent, f"g{round_id}.{member_id}")
            )
    conn.executemany(
        "INSERT INTO message (round_id, member_id, kind, status, attempts, next_attempt_at, "
        "message_id, created_at) VALUES (?, ?, ?, ?, 1, ?5, '<' || ?6 || '@bench>', ?5)",
        messages,
    )
    conn.executemany(
        "INSERT INTO response (round_id, member_id, answer, answered_at) VALUES (?, ?, ?, ?)",
        answers,
    )
    conn.executemany(
        "INSERT INTO group_member (round_id, group_no, member_id, extra) VALUES (?, ?, ?, ?)",
        places,
    )


def _measure(
    env: dict[str, str], *, rounds: int, warmups: int
) -> dict[str, list[tuple[float, float]]]:
    """Alternate the commands, rotating their order each round so none always runs first."""
    names = list(COMMANDS)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for index in range(warmups + rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            timed = time_run(COMMANDS[name], env)
            if index >= warmups:
                samples[name].append(timed)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (default 15)")
    parser.add_argument("--warmups", type=int, default=2, help="untimed rounds first (default 2)")
    parser.add_argument("--members", type=int, default=20, help="members per program (20)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()
    compile_sessionctl()
    with tempfile.TemporaryDirectory(prefix="sessionctl-bench-") as folder:
        db = Path(folder) / "bench.db"
        started = time.perf_counter()
        seed(db, members=args.members)
        seeded = time.perf_counter() - started
        with closing(sqlite3.connect(db)) as conn:
            counts = {
                table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("round", "message", "response", "group_member")
            }
        print(f"seeded in {seeded:.1f} s: " + ", ".join(f"{n} {t}" for t, n in counts.items()))
        print(f"load average at start {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
        env = {**os.environ, "SESSIONCTL_DB": str(db), "COLUMNS": "160"}
        samples = _measure(env, rounds=args.rounds, warmups=args.warmups)
    wall = {name: statistics.median(t[0] for t in timed) for name, timed in samples.items()}
    cpu = {name: statistics.median(t[1] for t in timed) for name, timed in samples.items()}
    print(f"{args.rounds} rounds after {args.warmups} warm-ups, medians (wall, CPU):")
    met = True
    for name in COMMANDS:
        line = f"  {'sessionctl ' + name:24} {wall[name] * 1000:7.1f} ms {cpu[name] * 1000:7.1f} ms"
        if name != "list":
            ratio, cpu_ratio = wall[name] / wall["list"], cpu[name] / cpu["list"]
            met = met and ratio <= TARGET
            verdict = "ok" if ratio <= TARGET else "over target"
            line += f"  {ratio:.2f}x wall {cpu_ratio:.2f}x CPU of list ({verdict})"
        print(line)
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    print(f"target: stats within {TARGET:.2f}x of list over the same rounds (wall clock)")
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
