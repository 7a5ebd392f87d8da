"""The parts of ``bench/delivery.py`` that set up and check rather than measure.

Child processes, each started as ``python delivery_parts.py ROLE``, so that the measuring
process imports nothing heavy (on Linux a child's ``ru_maxrss`` starts at its parent's):

- ``server``: the SMTP server both sides send to; it notes each message's Message-ID.
- ``baseline``: the bare smtplib loop that run-due is compared with.
- ``admin``: creates and drops the bench's PostgreSQL databases.
- ``check``: compares the Message-IDs the server received with the database.

And their parent's side: ``Server`` controls the server, ``Databases`` prepares a database per
size through the real CLI and hands each timed run a fresh copy, ``check_delivery`` runs the check.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

TITLE = "Bench Coffee"
SENDER = "bench@example.com"
PROGRAM = "bench"
HERE = Path(__file__).resolve()


# --- the child processes -------------------------------------------------------------------------


def serve() -> None:
    """Run the recording SMTP server on 127.0.0.1, a free port; print the port.

    Each line ``take PATH`` on standard input writes the Message-IDs received since the last take
    to PATH, one a line, and answers ``count distinct``. When standard input closes, it prints the
    number of messages received in all and stops.
    """
    import asyncio
    import re
    import threading
    from concurrent.futures import Future

    from aiosmtpd.smtp import SMTP

    message_id = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)

    class Recorder:
        def __init__(self) -> None:
            self.ids: list[bytes] = []
            self.received = 0

        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            head = bytes(envelope.content).partition(b"\r\n\r\n")[0]  # type: ignore[attr-defined]
            found = message_id.search(head)
            self.ids.append(found.group(1) if found else b"(none)")
            self.received += 1
            return "250 OK"

        def take_into(self, taken: Future[list[bytes]]) -> None:
            ids, self.ids = self.ids, []
            taken.set_result(ids)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        handler = Recorder()
        # A fixed hostname: the default would look up this machine's FQDN on every connection.
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="bench.localhost"), "127.0.0.1", 0
        )
        print(server.sockets[0].getsockname()[1], flush=True)
        stop = asyncio.Event()

        def control() -> None:
            for line in sys.stdin:
                taken: Future[list[bytes]] = Future()
                # The list belongs to the event loop's thread: swap it there.
                loop.call_soon_threadsafe(handler.take_into, taken)
                ids = taken.result()
                Path(line.removeprefix("take ").strip()).write_bytes(b"\n".join(ids) + b"\n")
                print(len(ids), len(set(ids)), flush=True)
            # The parent closed our standard input to stop us (or died, which closes it too).
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=control, daemon=True).start()
        await stop.wait()
        server.close()
        return handler.received

    print(asyncio.run(main()), flush=True)


def baseline(spec: dict[str, object]) -> None:
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
        email, name = member(index)
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


def administer(spec: dict[str, str | list[str]]) -> None:
    """Drop the databases ``spec["drop"]``, then create ``spec["create"]`` (a copy of
    ``spec["template"]`` when given), on the server of ``spec["url"]``."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(str(spec["url"])).set(drivername="postgresql")
    try:
        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
            for name in spec.get("drop", []):
                conn.execute(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")
            if spec.get("create"):
                template = (
                    f" TEMPLATE {_quote(str(spec['template']))}" if "template" in spec else ""
                )
                conn.execute(f"CREATE DATABASE {_quote(str(spec['create']))}{template}")
    except psycopg.Error as err:
        why = str(err).strip().splitlines()[0]  # psycopg adds hints on lines of their own
        raise SystemExit(f"error: PostgreSQL at {url.host}:{url.port or 5432}: {why}") from None


def check(ids_file: str, round_id: str, members: str) -> None:
    """Compare the Message-IDs the server received with the round's messages in the database."""
    from collections import Counter

    received = Counter(Path(ids_file).read_text().split())
    done = subprocess.run(
        [sys.executable, "-m", "sessionctl", "messages", round_id, "--json"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"error: sessionctl messages exited {done.returncode}: {done.stderr}")
    stored = json.loads(done.stdout)
    recorded = {m["message_id"] for m in stored}
    twice = sorted(mid for mid, n in received.items() if n > 1)
    problems = [
        f"{label}: {len(items)} (e.g. {', '.join(sorted(items)[:3])})"
        for label, items in (
            ("received more than once", twice),
            ("recorded but never received", recorded - received.keys()),
            ("received but not recorded", received.keys() - recorded),
            ("not recorded sent", [m["message_id"] for m in stored if m["status"] != "sent"]),
        )
        if items
    ]
    if len(stored) != int(members):
        problems.append(f"{len(stored)} messages in the database, expected {members}")
    if problems:
        raise SystemExit("error: delivery check failed: " + "; ".join(problems))


def member(index: int) -> tuple[str, str]:
    return f"member{index:05d}@example.com", f"Member {index:05d}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- their parent's side -------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """A prepared database that timed runs copy: a SQLite file or a PostgreSQL database name."""

    db: str
    round_id: int
    members: int


@dataclass(frozen=True)
class Copy:
    env: dict[str, str]
    folder: Path
    name: str  # the PostgreSQL database, or ""


class Databases:
    """Where each run's fresh database comes from: SQLite files, or a PostgreSQL server."""

    def __init__(self, url: str | None, *, folder: Path, port: int) -> None:
        self.url, self.folder, self.port = url, folder, port
        self.prefix = f"sessionctl_bench_{os.getpid()}"
        self.made: list[str] = []  # PostgreSQL databases to drop at the end
        self.count = 0  # seeds and copies made: each gets a name of its own

    def describe(self) -> str:
        if self.url is None:
            return f"SQLite files under {self.folder}"
        where = urlsplit(self.url)
        return (
            f"PostgreSQL at {where.hostname}:{where.port or 5432}, databases {self.prefix}_* "
            "(dropped at the end)"
        )

    def seed(self, members: int) -> Seed:
        self.count += 1
        folder = self.folder / f"seed-{self.count}"
        if self.url is None:
            db = location = str(folder / "bench.db")
        else:
            db = f"{self.prefix}_seed_{self.count}"
            location = self._create(db)
        return Seed(db, _prepare(self._environment(folder, location), members), members)

    def copy(self, seed: Seed) -> Copy:
        self.count += 1
        folder = self.folder / f"run-{self.count}"
        folder.mkdir()
        if self.url is None:
            for suffix in ("", "-wal"):  # the log too, should a CLI run have left one
                if os.path.exists(seed.db + suffix):
                    shutil.copy(seed.db + suffix, folder / f"bench.db{suffix}")
            return Copy(self._environment(folder, str(folder / "bench.db")), folder, "")
        name = f"{self.prefix}_run_{self.count}"
        return Copy(self._environment(folder, self._create(name, template=seed.db)), folder, name)

    def discard(self, copy: Copy) -> None:
        if copy.name:
            self._administer(drop=[copy.name])
            self.made.remove(copy.name)
        shutil.rmtree(copy.folder)

    def close(self) -> None:
        if self.made:
            self._administer(drop=self.made)
            self.made.clear()

    def _create(self, name: str, *, template: str | None = None) -> str:
        self._administer(create=name, **({"template": template} if template else {}))
        self.made.append(name)
        assert self.url is not None
        return urlsplit(self.url)._replace(path=f"/{name}").geturl()

    def _administer(self, **spec: str | list[str]) -> None:
        # The URL goes on standard input: in the arguments, ps would show its password.
        done = subprocess.run(
            [sys.executable, str(HERE), "admin"],
            input=json.dumps({"url": self.url, **spec}),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(done.stderr.strip() or f"error: {HERE.name} admin failed")

    def _environment(self, folder: Path, db: str) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("FORCE_COLOR", "SESSIONCTL_SMTP_PASSWORD", "SESSIONCTL_RUN_LOCK"):
            env.pop(name, None)
        env.update(
            SESSIONCTL_DB=db,
            XDG_DATA_HOME=str(folder / "data"),
            XDG_CONFIG_HOME=str(folder / "config"),
            SESSIONCTL_TRANSPORT=f"smtp://127.0.0.1:{self.port}",
            TZ="UTC",
        )
        return env


class Server:
    """The recording SMTP server, in a child process of its own."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE), "server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        self.port = int(self.stdout.readline())

    def take(self, path: Path) -> tuple[int, int]:
        """Write the Message-IDs received since the last take to ``path``: (count, distinct)."""
        self.stdin.write(f"take {path}\n")
        self.stdin.flush()
        count, distinct = self.stdout.readline().split()
        return int(count), int(distinct)

    def close(self) -> str:
        """Stop the server; how many messages it received in all."""
        self.stdin.close()
        received = self.stdout.read().strip()
        self.proc.wait(timeout=30)
        return received


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


def _prepare(env: dict[str, str], members: int) -> int:
    """Program, members and one round whose opt-in is due now; returns the round's number."""
    _cli(env, "program", "add", PROGRAM, "--tz", "UTC", "--opt-in")
    _cli(env, "program", "set", PROGRAM, "--title", TITLE, "--sender", SENDER)
    rows = ["email,name", *(",".join(member(i)) for i in range(1, members + 1))]
    _cli(env, "member", "import", PROGRAM, "-", stdin="\n".join(rows) + "\n")
    match = date.today() + timedelta(days=3)
    out = _cli(env, "schedule", PROGRAM, "--opt-in", "now", "--match", f"{match} 09:00", "--json")
    rounds = json.loads(out)
    return int((rounds[0] if isinstance(rounds, list) else rounds)["id"])


def check_delivery(server: Server, copy: Copy, seed: Seed) -> None:
    """Check, in a child process, the Message-IDs the server received since the last take
    against the database of ``copy``: exit with the problems found, if any."""
    ids_file = copy.folder / "received.txt"
    server.take(ids_file)
    check = ("check", str(ids_file), str(seed.round_id), str(seed.members))
    done = subprocess.run(
        [sys.executable, str(HERE), *check], env=copy.env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr.strip())


def main(argv: list[str]) -> None:
    role, *args = argv
    if role == "server":
        serve()
    elif role == "baseline":
        baseline(json.loads(args[0]))
    elif role == "admin":  # the spec on standard input: its URL may hold a password
        administer(json.loads(sys.stdin.read()))
    elif role == "check":
        check(*args)
    else:
        raise SystemExit(f"error: unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
