"""Benchmark delivery: ``sessionctl run-due`` sending opt-in messages against a bare smtplib loop.

Usage: python bench/delivery.py [--db URL] [--members N] [--rounds N] [--processes 1,4]
                                [--quick] [--check]

One local SMTP server (aiosmtpd, in a child process; its handler notes each message's Message-ID
and drops the message) receives both sides, so both talk to the same server under the same load.
For each size (N/4, N/2 and N members; default N = 10,000) and each round, rotating which side
goes first:

- run-due: once per size and untimed, a database gets through the real CLI (``python -m
  sessionctl`` subprocesses) one opt-in program, N members (``member import``, CSV on standard
  input) and a round with ``--opt-in now`` and its match three days ahead. Each timed run works on
  a fresh copy of it (a copied file, or ``CREATE DATABASE … TEMPLATE``) and its own data folder.
  Then ``python -m sessionctl run-due --json`` is timed: it opens the round, creates N opt-in
  messages and sends them over one SMTP connection. With P processes (``--processes``), P such
  processes start at once with ``SESSIONCTL_RUN_LOCK=0``, so that they share the work through
  claims as P hosts would, and the time runs until the last one ends. After every run, untimed,
  the Message-IDs the server received are checked against ``sessionctl messages --json``: every
  message recorded sent, each Message-ID received exactly once, exactly one process opened the
  round.
- baseline: a subprocess that imports smtplib and sessionctl's ``compose``, then in one loop over
  one SMTP connection composes each of the same N opt-in messages (same sender, recipients,
  templates and header set, so the same size) and sends it with ``sendmail``. Composing is inside
  the clock, as it is for run-due; the baseline also reports its compose and SMTP times apart.

Databases: SQLite files in a temporary folder by default. ``--db postgresql+psycopg://…`` uses
that PostgreSQL server instead: the bench creates databases of its own there
(``sessionctl_bench_<pid>_…``; the URL's database only serves to connect) and drops them at the
end; there it runs 1 and 4 processes unless ``--processes`` says otherwise.

Both sides are timed as whole processes (start-up and imports included), and their peak RSS is
their own ``ru_maxrss`` from ``os.wait4`` (the largest of P processes). On Linux a child's
``ru_maxrss`` starts at its parent's, so this process imports nothing heavy: the server, the
baseline, database administration and the checks are children (``bench/delivery_parts.py``). Its
own peak is printed as the floor. The table also gives the ratio of the two sides' CPU times (user
+ system, from ``wait4`` too, summed over P processes): a busy machine disturbs it less than wall
time, so read it when the load average printed with each round is high. On PostgreSQL the
server's own processes do part of run-due's work and are not counted: read wall time there. The
time target applies to the medians of wall time.

Targets: one run-due process within 1.5x of the baseline (medians), run-due's peak RSS under
200 MB, and flat as members grow (the peak at N at most 10% above the peak at N/4). Several
processes have no time target: they show what sharing the work costs or gains on this machine.
``--quick`` runs one round at N/10 only; ``--check`` exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from delivery_parts import HERE as PARTS
from delivery_parts import Databases, Seed, Server, check_delivery

TIME_TARGET = 1.5
RSS_TARGET_MB = 200.0
FLAT_TARGET = 1.10  # peak RSS at the largest size / at the smallest
WARM_UP = 50  # members of the untimed first run of each side


# --- runs and timing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    seconds: float  # from the first start to the last end
    cpu_s: float  # user + system time of the processes themselves
    rss_mb: float  # the largest peak of any of them
    outputs: tuple[str, ...]

    @property
    def output(self) -> str:
        return self.outputs[0]


@dataclass
class Size:
    members: int
    rundue: dict[int, list[Run]]  # by number of processes
    baseline: list[Run] = field(default_factory=list)

    def rundue_s(self, procs: int) -> float:
        return statistics.median(r.seconds for r in self.rundue[procs])

    @property
    def baseline_s(self) -> float:
        return statistics.median(r.seconds for r in self.baseline)

    def ratio(self, procs: int) -> float:
        return self.rundue_s(procs) / self.baseline_s

    def cpu_ratio(self, procs: int) -> float:
        rundue = statistics.median(r.cpu_s for r in self.rundue[procs])
        return rundue / statistics.median(r.cpu_s for r in self.baseline)

    def rundue_rss(self, procs: int) -> float:
        return max(r.rss_mb for r in self.rundue[procs])

    @property
    def baseline_rss(self) -> float:
        return max(r.rss_mb for r in self.baseline)

    def baseline_part(self, key: str) -> float:
        return statistics.median(float(json.loads(r.output)[key]) for r in self.baseline)


def _spawn(argv: list[str], env: dict[str, str], *, count: int = 1) -> Run:
    """Run ``count`` copies of ``argv`` at once, to their end: the wall time until the last one
    ends, their CPU time and the largest peak RSS (``wait4``), their stdout as text."""
    with ExitStack() as stack:
        files = [
            (
                stack.enter_context(tempfile.TemporaryFile()),
                stack.enter_context(tempfile.TemporaryFile()),
            )
            for _ in range(count)
        ]
        start = time.perf_counter()
        procs = [
            subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            for out, err in files
        ]
        cpu = rss = 0.0
        for proc in procs:
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            cpu += usage.ru_utime + usage.ru_stime
            rss = max(rss, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux
        elapsed = time.perf_counter() - start
        outputs = []
        for proc, (out, err) in zip(procs, files, strict=True):
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(), err.read().decode()
            if proc.returncode != 0:
                raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{stdout}{stderr}")
            outputs.append(stdout)
    return Run(elapsed, cpu, rss, tuple(outputs))


def _time_rundue(dbs: Databases, server: Server, seed: Seed, *, procs: int) -> Run:
    copy = dbs.copy(seed)
    env = dict(copy.env)
    if procs > 1:
        env["SESSIONCTL_RUN_LOCK"] = "0"  # as on several hosts: only claims keep them apart
    run = _spawn([sys.executable, "-m", "sessionctl", "run-due", "--json"], env, count=procs)
    reports = [json.loads(output) for output in run.outputs]
    sent = sum(r["sent"] for r in reports)
    opened = sum(len(r["opened"]) for r in reports)
    if sent != seed.members or opened != 1 or any(r["failed"] or r["retrying"] for r in reports):
        raise SystemExit(f"run-due reported {reports}, expected {seed.members} sent, 1 opening")
    check_delivery(server, copy, seed)
    dbs.discard(copy)
    return run


def _time_baseline(server: Server, members: int, *, folder: Path) -> Run:
    match = date.today() + timedelta(days=3)
    spec = {
        "port": server.port,
        "members": members,
        "round": 1,
        "opt_in_at": f"{date.today()} 09:00 UTC",  # as format_local writes them
        "match_at": f"{match} 09:00 UTC",
    }
    env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}
    run = _spawn([sys.executable, str(PARTS), "baseline", json.dumps(spec)], env)
    received = server.take(folder / "baseline.txt")
    if json.loads(run.output)["sent"] != members or received != (members, members):
        raise SystemExit(
            f"baseline: {run.output.strip()}, server received (all, distinct) {received}"
        )
    return run


def _measure(
    dbs: Databases, server: Server, sizes: list[int], *, rounds: int, processes: list[int]
) -> list[Size]:
    results = []
    for members in sizes:
        size = Size(members, {p: [] for p in processes})
        seed = dbs.seed(members)
        sides: list[int | None] = [*processes, None]  # None: the baseline
        for index in range(rounds):
            # Rotate which side goes first too, so that none always follows another.
            shift = index % len(sides)
            for side in sides[shift:] + sides[:shift]:
                if side is None:
                    size.baseline.append(_time_baseline(server, members, folder=dbs.folder))
                else:
                    size.rundue[side].append(_time_rundue(dbs, server, seed, procs=side))
            print(f"  {members:>6} members, round {index + 1}: {_round_line(size)}", flush=True)
        results.append(size)
    return results


def _round_line(size: Size) -> str:
    parts = []
    for procs, runs in size.rundue.items():
        last = runs[-1]
        shares = "/".join(str(json.loads(o)["sent"]) for o in last.outputs)
        parts.append(
            f"run-due x{procs} {last.seconds:6.2f} s {last.rss_mb:5.1f} MB"
            + (f" (sent {shares})" if procs > 1 else "")
        )
    parts.append(f"baseline {size.baseline[-1].seconds:6.2f} s")
    return ", ".join(parts) + f", load {os.getloadavg()[0]:.1f}"


def _report(results: list[Size], *, processes: list[int]) -> bool:
    print()
    head = (
        f"{'members':>8} {'procs':>5} {'run-due s':>10} {'baseline s':>11} {'ratio':>6} "
        f"{'CPU ratio':>9} {'run-due msg/s':>14} {'baseline msg/s':>15} {'run-due RSS':>12} "
        f"{'baseline RSS':>13}"
    )
    print(head)
    print("-" * len(head))
    for s in results:
        for p in processes:
            print(
                f"{s.members:>8,} {p:>5} {s.rundue_s(p):>10.2f} {s.baseline_s:>11.2f} "
                f"{s.ratio(p):>5.2f}x {s.cpu_ratio(p):>8.2f}x "
                f"{s.members / s.rundue_s(p):>14,.0f} {s.members / s.baseline_s:>15,.0f} "
                f"{s.rundue_rss(p):>9.1f} MB {s.baseline_rss:>10.1f} MB"
            )
    print()
    for s in results:
        startup, compose, send = (s.baseline_part(k) for k in ("startup_s", "compose_s", "send_s"))
        size = int(statistics.median(int(json.loads(r.output)["bytes"]) for r in s.baseline))
        print(
            f"baseline at {s.members:,}: imports {startup:.2f} s, compose {compose:.2f} s, "
            f"SMTP {send:.2f} s ({size:,} bytes per message)"
        )

    largest, smallest, first = results[-1], results[0], processes[0]
    time_ok = largest.ratio(first) <= TIME_TARGET
    rss = max(s.rundue_rss(p) for s in results for p in processes)
    rss_ok = rss < RSS_TARGET_MB
    print()
    print(
        f"time:   run-due x{first} / baseline at {largest.members:,} members = "
        f"{largest.ratio(first):.2f}x   target <= {TIME_TARGET}x   {'ok' if time_ok else 'MISSED'}"
    )
    for p in processes[1:]:
        print(
            f"        run-due x{p} / baseline at {largest.members:,} members = "
            f"{largest.ratio(p):.2f}x   x{p} / x{first} = "
            f"{largest.rundue_s(p) / largest.rundue_s(first):.2f}   (no target)"
        )
    print(
        f"memory: run-due peak RSS {rss:.1f} MB   target < {RSS_TARGET_MB:.0f} MB"
        f"   {'ok' if rss_ok else 'MISSED'}"
    )
    flat_ok = True
    if len(results) > 1:
        growth = largest.rundue_rss(first) / smallest.rundue_rss(first)
        per_k = (largest.rundue_rss(first) - smallest.rundue_rss(first)) / (
            (largest.members - smallest.members) / 1000
        )
        flat_ok = growth <= FLAT_TARGET
        print(
            f"flat:   {smallest.members:,} -> {largest.members:,} members: "
            f"{smallest.rundue_rss(first):.1f} -> {largest.rundue_rss(first):.1f} MB "
            f"({growth:.2f}x, {per_k:+.2f} MB per 1,000 members)   target <= {FLAT_TARGET:.2f}x"
            f"   {'ok' if flat_ok else 'MISSED'}"
        )
    return time_ok and rss_ok and flat_ok


def _processes(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",")]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("give process counts of 1 or more, e.g. 1,4")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", metavar="URL", help="a postgresql+psycopg:// URL (default SQLite)")
    parser.add_argument("--members", type=int, default=10_000, help="largest size (default 10000)")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each side per size")
    parser.add_argument(
        "--processes",
        type=_processes,
        metavar="P[,P…]",
        help="concurrent run-due processes to time (default 1; 1,4 on PostgreSQL)",
    )
    parser.add_argument("--quick", action="store_true", help="one round at members/10 only")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if args.db is not None and not args.db.startswith("postgresql"):
        parser.error("--db takes a PostgreSQL URL such as postgresql+psycopg://user@host/postgres")
    processes = args.processes or ([1] if args.db is None else [1, 4])
    if args.quick:
        sizes, rounds = [max(args.members // 10, 1)], 1
    else:
        sizes, rounds = sorted({max(args.members // d, 1) for d in (4, 2, 1)}), args.rounds
    server = Server()
    with tempfile.TemporaryDirectory(prefix="sessionctl-bench-") as folder:
        dbs = Databases(args.db, folder=Path(folder), port=server.port)
        try:
            print(f"python {sys.version.split()[0]} at {sys.executable}, {os.cpu_count()} CPUs")
            print(f"aiosmtpd recording server on 127.0.0.1:{server.port} (its own process)")
            print(f"database: {dbs.describe()}")
            print(f"load average at start {os.getloadavg()[0]:.1f}")
            print(
                f"sizes {', '.join(f'{n:,}' for n in sizes)}; run-due with "
                f"{' and '.join(map(str, processes))} process(es); "
                f"{rounds} rotating round(s) each"
            )
            warm = dbs.seed(WARM_UP)  # warm-ups: byte-code caches, page cache
            _time_rundue(dbs, server, warm, procs=processes[0])
            _time_baseline(server, WARM_UP, folder=dbs.folder)
            results = _measure(dbs, server, sizes, rounds=rounds, processes=processes)
        finally:
            received = server.close()
            dbs.close()
    expected = 2 * WARM_UP + rounds * sum(sizes) * (len(processes) + 1)
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    met = _report(results, processes=processes)
    print(
        f"\nserver received {received} messages (expected {expected:,}), each run's Message-IDs "
        f"once each and all recorded sent; RSS floor (this process's peak) {floor:.1f} MB"
    )
    if received != str(expected):
        print("error: the server did not receive every message", file=sys.stderr)
        return 1
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
