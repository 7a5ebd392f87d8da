"""Benchmark delivery: ``sessionctl run-due`` sending opt-in messages against a bare smtplib loop.

Usage: python bench/delivery.py [--members N] [--rounds N] [--quick] [--check]

One local SMTP server (aiosmtpd, in a child process; its handler only counts messages and drops
them) receives both sides, so both talk to the same server under the same load. For each size
(N/4, N/2 and N members; default N = 10,000) and each round, alternating which side goes first:

- run-due: a fresh temporary data folder and SQLite database get, through the real CLI
  (``python -m sessionctl`` subprocesses), one opt-in program, N members (``member import``, CSV
  on standard input) and a round with ``--opt-in now`` and its match three days ahead; untimed.
  Then ``python -m sessionctl run-due --json`` is timed: it opens the round, creates N opt-in
  messages and sends them over one SMTP connection.
- baseline: a subprocess that imports smtplib and sessionctl's ``compose``, then in one loop over
  one SMTP connection composes each of the same N opt-in messages (same sender, recipients,
  templates and header set, so the same size) and sends it with ``sendmail``. Composing is inside
  the clock, as it is for run-due; the baseline also reports its compose and SMTP times apart.

Both sides are timed as whole processes (start-up and imports included), and their peak RSS is
their own ``ru_maxrss`` from ``os.wait4``. On Linux a child's ``ru_maxrss`` starts at its
parent's, so this process imports nothing heavy; its own peak is printed as the floor. The table
also gives the ratio of the two sides' CPU times (user + system, from ``wait4`` too): a busy
machine disturbs it less than wall time, so read it when the load average printed with each
round is high. The time target applies to the medians of wall time.

Targets: run-due within 1.5x of the baseline (medians), run-due's peak RSS under 200 MB, and flat
as members grow (the peak at N at most 10% above the peak at N/4). ``--quick`` runs one round at
N/10 only; ``--check`` exits 1 when a target is missed.
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
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

TIME_TARGET = 1.5
RSS_TARGET_MB = 200.0
FLAT_TARGET = 1.10  # peak RSS at the largest size / at the smallest
PROGRAM = "bench"
TITLE = "Bench Coffee"
SENDER = "bench@example.com"
HERE = Path(__file__).resolve()


# --- child roles: the SMTP server and the baseline sender ---------------------------------------


def _serve() -> None:
    """Run the counting SMTP server on 127.0.0.1, a free port; print the port, then at the end
    (standard input closed) the number of messages received."""
    import asyncio
    import threading

    from aiosmtpd.smtp import SMTP

    class Counter:
        received = 0

        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            self.received += 1
            return "250 OK"

    async def main() -> int:
        loop = asyncio.get_running_loop()
        handler = Counter()
        # A fixed hostname: the default would look up this machine's FQDN on every connection.
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="bench.localhost"), "127.0.0.1", 0
        )
        print(server.sockets[0].getsockname()[1], flush=True)
        stop = asyncio.Event()
        # The parent closes our standard input to stop us (or dies, which closes it too).
        threading.Thread(
            target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stop.set)), daemon=True
        ).start()
        await stop.wait()
        server.close()
        return handler.received

    print(asyncio.run(main()), flush=True)


def _baseline(spec: dict[str, object]) -> None:
    """Compose and send ``spec["members"]`` opt-in messages over one connection; print JSON."""
    started = time.perf_counter()
    import secrets
    import smtplib
    from datetime import UTC, datetime

    from sessionctl.delivery.compose import Envelope, Kind, Person, compose

    port, members, round_id = (int(str(spec[key])) for key in ("port", "members", "round"))
    sender = Person(SENDER, TITLE)
    compose_s = send_s = 0.0
    ready = time.perf_counter()
    conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
    conn.ehlo()
    for index in range(1, members + 1):
        email, name = _member(index)
        a = time.perf_counter()
        msg = compose(
            Envelope(
                kind=Kind.OPT_IN,
                sender=sender,
                recipient=Person(email, name),
                message_id=f"<sessionctl.{round_id}.{index}.opt_in.{secrets.token_hex(6)}"
                "@example.com>",
                date=datetime.now(UTC),
                program_title=TITLE,
                round_id=round_id,
                opt_in_at=str(spec["opt_in_at"]),
                match_at=str(spec["match_at"]),
            )
        )
        data = msg.as_bytes()
        b = time.perf_counter()
        refused = conn.sendmail(SENDER, [email], data)
        send_s += time.perf_counter() - b
        compose_s += b - a
        if refused:
            raise SystemExit(f"baseline: refused {refused}")
    conn.quit()
    done = time.perf_counter()
    report = {
        "sent": members,
        "startup_s": ready - started,  # after the interpreter itself started: imports
        "compose_s": compose_s,
        "send_s": send_s,
        "loop_s": done - ready,
        "bytes": len(data) if members else 0,
    }
    print(json.dumps(report))


def _member(index: int) -> tuple[str, str]:
    return f"member{index:05d}@example.com", f"Member {index:05d}"


# --- the parent: set up, run, time ----------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_s: float  # user + system time of the process itself
    rss_mb: float
    output: str


@dataclass
class Size:
    members: int
    rundue: list[Run] = field(default_factory=list)
    baseline: list[Run] = field(default_factory=list)

    @property
    def rundue_s(self) -> float:
        return statistics.median(r.seconds for r in self.rundue)

    @property
    def baseline_s(self) -> float:
        return statistics.median(r.seconds for r in self.baseline)

    @property
    def ratio(self) -> float:
        return self.rundue_s / self.baseline_s

    @property
    def cpu_ratio(self) -> float:
        rundue = statistics.median(r.cpu_s for r in self.rundue)
        return rundue / statistics.median(r.cpu_s for r in self.baseline)

    @property
    def rundue_rss(self) -> float:
        return max(r.rss_mb for r in self.rundue)

    @property
    def baseline_rss(self) -> float:
        return max(r.rss_mb for r in self.baseline)

    def baseline_part(self, key: str) -> float:
        return statistics.median(float(json.loads(r.output)[key]) for r in self.baseline)


def _spawn(argv: list[str], env: dict[str, str]) -> Run:
    """Run ``argv`` to its end; wall time and its own peak RSS (``wait4``), stdout as text."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{stdout}{stderr}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(elapsed, cpu, usage.ru_maxrss / 1024, stdout)  # ru_maxrss is in KiB on Linux


def _environment(folder: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("FORCE_COLOR", "SESSIONCTL_SMTP_PASSWORD", "SESSIONCTL_RUN_LOCK"):
        env.pop(name, None)
    env.update(
        SESSIONCTL_DB=str(folder / "bench.db"),
        XDG_DATA_HOME=str(folder / "data"),
        XDG_CONFIG_HOME=str(folder / "config"),
        SESSIONCTL_TRANSPORT=f"smtp://127.0.0.1:{port}",
        TZ="UTC",
    )
    return env


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "sessionctl", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"sessionctl {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


def _prepare(env: dict[str, str], members: int) -> dict[str, object]:
    """Program, members and one round whose opt-in is due now; returns the round as JSON."""
    _cli(env, "program", "add", PROGRAM, "--tz", "UTC", "--opt-in")
    _cli(env, "program", "set", PROGRAM, "--title", TITLE, "--sender", SENDER)
    rows = ["email,name", *(",".join(_member(i)) for i in range(1, members + 1))]
    _cli(env, "member", "import", PROGRAM, "-", stdin="\n".join(rows) + "\n")
    match = date.today() + timedelta(days=3)
    out = _cli(env, "schedule", PROGRAM, "--opt-in", "now", "--match", f"{match} 09:00", "--json")
    rounds = json.loads(out)
    return dict(rounds[0] if isinstance(rounds, list) else rounds)


def _time_rundue(port: int, members: int) -> Run:
    with tempfile.TemporaryDirectory(prefix="sessionctl-bench-") as folder:
        env = _environment(Path(folder), port)
        _prepare(env, members)
        run = _spawn([sys.executable, "-m", "sessionctl", "run-due", "--json"], env)
    report = json.loads(run.output)
    if report["sent"] != members or report["failed"] or report["retrying"]:
        raise SystemExit(f"run-due sent {report}, expected {members} sent")
    return run


def _time_baseline(port: int, members: int) -> Run:
    match = date.today() + timedelta(days=3)
    spec = {
        "port": port,
        "members": members,
        "round": 1,
        "opt_in_at": f"{date.today()} 09:00 UTC",  # as format_local writes them
        "match_at": f"{match} 09:00 UTC",
    }
    env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}
    run = _spawn([sys.executable, str(HERE), "--role", "baseline", json.dumps(spec)], env)
    if json.loads(run.output)["sent"] != members:
        raise SystemExit(f"baseline: {run.output}")
    return run


def _measure(port: int, sizes: list[int], rounds: int) -> list[Size]:
    results = [Size(n) for n in sizes]
    for size in results:
        for index in range(rounds):
            # Alternate which side goes first too, so neither always follows the other.
            for side in ("run-due", "baseline") if index % 2 == 0 else ("baseline", "run-due"):
                if side == "run-due":
                    size.rundue.append(_time_rundue(port, size.members))
                else:
                    size.baseline.append(_time_baseline(port, size.members))
            print(
                f"  {size.members:>6} members, round {index + 1}: "
                f"run-due {size.rundue[-1].seconds:6.2f} s {size.rundue[-1].rss_mb:6.1f} MB, "
                f"baseline {size.baseline[-1].seconds:6.2f} s, load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    return results


def _report(results: list[Size]) -> bool:
    print()
    head = (
        f"{'members':>8} {'run-due s':>10} {'baseline s':>11} {'ratio':>6} {'CPU ratio':>9} "
        f"{'run-due msg/s':>14} {'baseline msg/s':>15} {'run-due RSS':>12} {'baseline RSS':>13}"
    )
    print(head)
    print("-" * len(head))
    for s in results:
        print(
            f"{s.members:>8,} {s.rundue_s:>10.2f} {s.baseline_s:>11.2f} {s.ratio:>5.2f}x "
            f"{s.cpu_ratio:>8.2f}x "
            f"{s.members / s.rundue_s:>14,.0f} {s.members / s.baseline_s:>15,.0f} "
            f"{s.rundue_rss:>9.1f} MB {s.baseline_rss:>10.1f} MB"
        )
    print()
    for s in results:
        startup, compose, send = (s.baseline_part(k) for k in ("startup_s", "compose_s", "send_s"))
        size = int(statistics.median(int(json.loads(r.output)["bytes"]) for r in s.baseline))
        print(
            f"baseline at {s.members:,}: imports {startup:.2f} s, compose {compose:.2f} s, "
            f"SMTP {send:.2f} s ({size:,} bytes per message)"
        )

    largest, smallest = results[-1], results[0]
    time_ok = largest.ratio <= TIME_TARGET
    rss = max(s.rundue_rss for s in results)
    rss_ok = rss < RSS_TARGET_MB
    print()
    print(
        f"time:   run-due / baseline at {largest.members:,} members = {largest.ratio:.2f}x"
        f"   target <= {TIME_TARGET}x   {'ok' if time_ok else 'MISSED'}"
    )
    print(
        f"memory: run-due peak RSS {rss:.1f} MB   target < {RSS_TARGET_MB:.0f} MB"
        f"   {'ok' if rss_ok else 'MISSED'}"
    )
    flat_ok = True
    if len(results) > 1:
        growth = largest.rundue_rss / smallest.rundue_rss
        per_k = (largest.rundue_rss - smallest.rundue_rss) / (
            (largest.members - smallest.members) / 1000
        )
        flat_ok = growth <= FLAT_TARGET
        print(
            f"flat:   {smallest.members:,} -> {largest.members:,} members: "
            f"{smallest.rundue_rss:.1f} -> {largest.rundue_rss:.1f} MB ({growth:.2f}x, "
            f"{per_k:+.2f} MB per 1,000 members)   target <= {FLAT_TARGET:.2f}x"
            f"   {'ok' if flat_ok else 'MISSED'}"
        )
    return time_ok and rss_ok and flat_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000, help="largest size (default 10000)")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each side per size")
    parser.add_argument("--quick", action="store_true", help="one round at members/10 only")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--role", choices=("server", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("spec", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "server":
        _serve()
        return 0
    if args.role == "baseline":
        _baseline(json.loads(args.spec))
        return 0

    if args.quick:
        sizes, rounds = [max(args.members // 10, 1)], 1
    else:
        sizes, rounds = [args.members // 4, args.members // 2, args.members], args.rounds
    server = subprocess.Popen(
        [sys.executable, str(HERE), "--role", "server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None and server.stdout is not None
    try:
        port = int(server.stdout.readline())
        print(f"python {sys.version.split()[0]} at {sys.executable}, {os.cpu_count()} CPUs")
        print(f"aiosmtpd counting server on 127.0.0.1:{port} (its own process)")
        print(f"load average at start {os.getloadavg()[0]:.1f}")
        print(f"sizes {', '.join(f'{n:,}' for n in sizes)}; {rounds} alternating round(s) each")
        _time_rundue(port, 50)  # warm-ups: byte-code caches, page cache
        _time_baseline(port, 50)
        results = _measure(port, sizes, rounds)
    finally:
        server.stdin.close()
        received = server.stdout.read().strip()
        server.wait(timeout=30)
    expected = 2 * 50 + 2 * rounds * sum(sizes)
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    met = _report(results)
    print(
        f"\nserver received {received} messages (expected {expected:,}); "
        f"RSS floor (this process's peak) {floor:.1f} MB"
    )
    if received != str(expected):
        print("error: the server did not receive every message", file=sys.stderr)
        return 1
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
