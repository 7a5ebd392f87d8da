"""The answer page as members meet it: the real ``sessionctl serve`` on a free port, a database
made with the real CLI, and a real headless Chromium driven through chromedriver."""

from __future__ import annotations

import email
import mailbox
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium
from tests.conftest import Invoke, ok

LINK = re.compile(r"https://coffee\.example\.com/answer/(\S+)")
# Whatever members and admins type shows as typed: none of it may become markup.
NAME = 'Ana "><img src=x> <script>alert(1)</script>'
TITLE = "Coffee <Paris>"


@dataclass(frozen=True)
class Links:
    join: str
    skip: str
    leave: str  # the one-click unsubscribe token


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    page: str


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module; the date input takes MM/DD/YYYY as typed."""
    with chromium("--lang=en-US", console_log=True) as driver:
        yield driver


@pytest.fixture
def page(browser: Any) -> Any:
    """The module's browser, as a phone sees it, with its console log emptied."""
    browser.set_window_size(375, 800)
    browser.get_log("browser")
    return browser


@pytest.fixture
def links(cli: Invoke, isolated: Path) -> Links:
    """Program ``coffee`` (Europe/Paris) with one member and round 1 open, its opt-in sent."""
    ok(cli("program", "add", "coffee", "--tz", "Europe/Paris", "--title", TITLE,
           "--link-base", "https://coffee.example.com/"))  # fmt: skip
    ok(cli("member", "add", "coffee", "ana@example.com", "--name", NAME))
    ok(cli("schedule", "coffee", "--opt-in", "now", "--match", "2099-01-01 09:00"))
    ok(cli("run-due"))
    join, skip = _join_and_skip(isolated)
    return Links(join, skip, _leave_token(isolated))


def _join_and_skip(isolated: Path) -> tuple[str, str]:
    box = mailbox.Maildir(isolated / "home" / "data" / "sessionctl" / "outbox", create=False)
    [raw] = [m.as_bytes() for m in box]
    msg = email.message_from_bytes(raw, policy=policy.default)
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    join, skip = LINK.findall(text)
    return join, skip


def _leave_token(isolated: Path) -> str:
    """The member's unsubscribe token, from the one-click link of the email's List-Unsubscribe
    header (RFC 8058), which also offers the mailto and asks for one-click posts."""
    box = mailbox.Maildir(isolated / "home" / "data" / "sessionctl" / "outbox", create=False)
    [raw] = [m.as_bytes() for m in box]
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    mailto, web = re.findall(r"<([^>]+)>", str(msg["List-Unsubscribe"]))
    assert mailto.startswith("mailto:") and "?subject=unsubscribe%20sessionctl." in mailto
    found = re.fullmatch(r"https?://[^/]+/leave/([A-Za-z0-9_.-]+)", web)
    assert found, web
    return found[1]


@pytest.fixture
def server(links: Links) -> Iterator[str]:
    """``sessionctl serve --port 0`` as a real process; yields its base URL. Its log, read at
    the end, must hold none of the member's tokens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sessionctl", "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert process.stderr is not None
    first = process.stderr.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+", first)
    try:
        assert found, first
        yield found.group()
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=20)
        logged = process.stderr.read()
    assert code == 0, logged
    for token in (links.join, links.skip, links.leave):
        assert token not in logged


def fetch(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
    """GET, or POST ``data``, with urllib: no browser headers unless given."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return _reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as err:
        return _reply(err.code, err.headers, err.read())


def _reply(status: int, headers: Any, body: bytes) -> Reply:
    return Reply(status, {k.lower(): v for k, v in headers.items()}, body.decode())


def figures(cli: Invoke) -> tuple[int, int]:
    """Round 1's (opted in, declined), as ``sessionctl show`` counts them."""
    shown = ok(cli("show", "1", "--json")).json()
    return shown["opted_in"], shown["declined"]


def member(cli: Invoke) -> dict[str, Any]:
    """The member as ``sessionctl member list --all --json`` shows them."""
    [found] = ok(cli("member", "list", "coffee", "--all", "--json")).json()
    return dict(found)


def is_png(path: Path) -> bool:
    data = path.read_bytes()
    return data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000
