"""run-due end to end: programs, members and rounds made through the real CLI, delivered to a
real SMTP server (aiosmtpd on 127.0.0.1) or to the default Maildir.

The SMTP server reuses the scripted handler of ``tests/delivery/conftest.py`` and adds a delay per
message, so that runs last long enough to overlap or to be killed while they send.
"""

from __future__ import annotations

import asyncio
import email
import mailbox
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Invoke, Result
from tests.delivery.conftest import (
    PASSWORD,
    USER,
    Received,
    ScriptedHandler,
    SmtpServer,
    _BoundController,
    _check_login,
)
from tests.imapserver import dovecot, imap_account  # noqa: F401 - fixtures

__all__ = ["PASSWORD", "USER", "Received", "SmtpServer"]


@dataclass
class SlowHandler(ScriptedHandler):
    """The scripted handler, taking ``delay`` seconds to reply to DATA once it has the message.

    A client killed during that wait leaves the message received without hearing so, as with a
    real server that queued the message before it answered: the case that may send it twice.
    """

    delay: float = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        if self.delay:
            await asyncio.sleep(self.delay)
        return reply

    def message_ids(self) -> Counter[str]:
        """How many times the server accepted each Message-ID."""
        return Counter(str(parse(r.content)["Message-ID"]) for r in self.received)


StartSmtp = Callable[..., SmtpServer]


@pytest.fixture
def start_server() -> Iterator[StartSmtp]:
    """``start_server(delay=0.0, auth=False)``: a plain SMTP server on 127.0.0.1 (AUTH, when
    asked, is offered without TLS, as ``smtp://USER@127.0.0.1`` allows on loopback)."""
    started: list[SmtpServer] = []

    def start(*, delay: float = 0.0, auth: bool = False) -> SmtpServer:
        handler = SlowHandler(delay=delay)
        kwargs: dict[str, Any] = {"server_hostname": "mx.test", "timeout": 300}
        if auth:
            kwargs.update(authenticator=_check_login, auth_require_tls=False)
        controller = _BoundController(handler, **kwargs)
        controller.start()
        server = SmtpServer(handler, controller, "127.0.0.1", controller.port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server: StartSmtp, monkeypatch: pytest.MonkeyPatch) -> SmtpServer:
    """A plain server that in-process runs (the ``cli`` fixture) deliver to."""
    started = start_server()
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", smtp_url(started))
    return started


def handler_of(server: SmtpServer) -> SlowHandler:
    assert isinstance(server.handler, SlowHandler)
    return server.handler


def smtp_url(server: SmtpServer, *, user: str | None = None) -> str:
    who = f"{user.replace('@', '%40')}@" if user else ""
    return f"smtp://{who}{server.host}:{server.port}"


# --- building programs and rounds through the CLI ----------------------------------------------


# A sender of its own, as a real program has: without one, program add and run-due add a note.
SENDER = "team@example.com"


def ok(result: Result) -> Result:
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    return result


def refused(result: Result, *fragments: str) -> str:
    """Assert exit 2 with exactly one ``error:`` line and nothing on stdout; return that line."""
    assert result.code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def emails_of(program: str, count: int, *, start: int = 0) -> list[str]:
    return [f"{program}.{i:03d}@example.com" for i in range(start, start + count)]


def add_program(
    cli: Invoke,
    name: str,
    *,
    members: int | Iterable[str] = 0,
    opt_in: bool = True,
    group_size: int = 2,
    sender: str = SENDER,
) -> list[str]:
    """Add a program (UTC) and its members; return the members' emails in import order."""
    flags = ["--opt-in" if opt_in else "--no-opt-in", "--group-size", str(group_size)]
    flags += ["--sender", sender]
    ok(cli("program", "add", name, "--tz", "UTC", *flags))
    emails = emails_of(name, members) if isinstance(members, int) else list(members)
    if emails:
        import_members(cli, name, [(e, f"Member {e.split('@')[0]}") for e in emails])
    return emails


def import_members(cli: Invoke, program: str, rows: Iterable[tuple[str, str]]) -> None:
    text = "email,name\r\n" + "".join(f"{_csv(e)},{_csv(n)}\r\n" for e, n in rows)
    ok(cli("member", "import", program, "-", input=text))


def _csv(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\r\n') else value


def schedule(cli: Invoke, program: str, *args: str) -> int:
    """Schedule one round and return its number."""
    [created] = ok(cli("schedule", program, *args, "--json")).json()
    return int(created["id"])


def show(cli: Invoke, round_id: int) -> dict[str, Any]:
    shown: dict[str, Any] = ok(cli("show", str(round_id), "--json")).json()
    return shown


def figures(cli: Invoke, round_id: int) -> tuple[int, int, int, int]:
    r = show(cli, round_id)
    return r["invited"], r["opted_in"], r["declined"], r["no_answer"]


def messages(cli: Invoke, *args: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = ok(cli("messages", *args, "--json")).json()
    return listed


def groups(cli: Invoke, round_id: int) -> dict[str, Any]:
    shown: dict[str, Any] = ok(cli("groups", str(round_id), "--json")).json()
    return shown


def kinds(cli: Invoke, round_id: int) -> Counter[str]:
    return Counter(m["kind"] for m in messages(cli, str(round_id)))


# --- reading what was delivered -------------------------------------------------------------------


def parse(content: bytes) -> EmailMessage:
    msg = email.message_from_bytes(content, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def outbox_path(isolated: Path) -> Path:
    """The default Maildir: ``$XDG_DATA_HOME/sessionctl/outbox``."""
    return isolated / "home" / "data" / "sessionctl" / "outbox"


def outbox(isolated: Path) -> list[EmailMessage]:
    """Every message in the default Maildir, parsed."""
    path = outbox_path(isolated)
    if not path.exists():
        return []
    box = mailbox.Maildir(path, create=False)
    return [parse(box.get_bytes(key)) for key in box.iterkeys()]


def outbox_count(isolated: Path) -> int:
    path = outbox_path(isolated)
    return sum(len(os.listdir(path / sub)) for sub in ("new", "cur")) if path.exists() else 0


# --- run-due as separate processes ----------------------------------------------------------------

SESSIONCTL = [sys.executable, "-m", "sessionctl"]


def spawn(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start ``sessionctl ARGS`` in the background with the test's environment plus ``env``."""
    return subprocess.Popen(
        [*SESSIONCTL, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def finish(proc: subprocess.Popen[str], *, timeout: float = 60) -> Result:
    out, err = proc.communicate(timeout=timeout)
    return Result(proc.returncode, out, err)
