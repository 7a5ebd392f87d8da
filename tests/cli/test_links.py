"""Personal join/skip links: signed tokens in opt-in emails, respond --token, and serve."""

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
from email import policy
from pathlib import Path

import pytest

from tests.conftest import Invoke

LINK = re.compile(r"https://coffee\.example\.com/answer/(\S+)")


def _links(isolated: Path) -> dict[str, str]:
    """Join and skip tokens from the one opt-in email in the outbox."""
    box = mailbox.Maildir(isolated / "home" / "data" / "sessionctl" / "outbox", create=False)
    [raw] = [m.as_bytes() for m in box]
    msg = email.message_from_bytes(raw, policy=policy.default)
    text = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    join, skip = LINK.findall(text)
    return {"join": join, "skip": skip}


@pytest.fixture
def opened(cli: Invoke, isolated: Path) -> dict[str, str]:
    assert cli("program", "add", "coffee", "--tz", "UTC", "--title", "Coffee <Paris>",
               "--link-base", "https://coffee.example.com/").code == 0  # fmt: skip
    assert cli("member", "add", "coffee", "ana@example.com", "--name", "Ana").code == 0
    assert cli("schedule", "coffee", "--opt-in", "now", "--match", "2099-01-01 09:00").code == 0
    assert cli("run-due").code == 0
    return _links(isolated)


def _figures(cli: Invoke) -> tuple[int, int]:
    shown = cli("show", "1", "--json").json()
    return shown["opted_in"], shown["declined"]


def test_the_opt_in_email_carries_two_different_signed_links(opened: dict[str, str]) -> None:
    assert opened["join"] != opened["skip"]


def test_respond_token_records_the_answer_it_carries(cli: Invoke, opened: dict[str, str]) -> None:
    joined = cli("respond", "--token", opened["join"], "--json")
    assert (joined.code, joined.stderr) == (0, "")
    assert joined.json() == {"round": 1, "recorded": 1, "yes": 1, "no": 0}
    assert _figures(cli) == (1, 0)
    assert cli("respond", "--token", opened["skip"]).code == 0
    assert _figures(cli) == (0, 1)


@pytest.mark.parametrize("change", ["flip-last", "swap-payload", "garbage"])
def test_a_tampered_token_is_refused_and_records_nothing(
    cli: Invoke, opened: dict[str, str], change: str
) -> None:
    token = opened["join"]
    payload = token.partition(".")[0]
    skip_signature = opened["skip"].partition(".")[2]
    forged = {
        "flip-last": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "swap-payload": f"{payload}.{skip_signature}",
        "garbage": "not-a-token",
    }[change]
    result = cli("respond", "--token", forged)
    assert (result.code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: invalid answer token: use the link from your latest opt-in email\n"
    )
    assert _figures(cli) == (0, 0)


def test_a_token_is_refused_once_the_round_is_done(cli: Invoke, opened: dict[str, str]) -> None:
    assert cli("update", "1", "--match", "now").code == 0
    assert cli("run-due").code == 0
    result = cli("respond", "--token", opened["join"])
    assert result.code == 2
    assert result.stderr == "error: round 1 is done: answers are taken only while a round is open\n"


def test_token_goes_alone(cli: Invoke, opened: dict[str, str]) -> None:
    result = cli("respond", "1", "--token", opened["join"])
    assert result.code == 2
    assert "--token goes alone" in result.stderr


def test_the_secret_is_private(opened: dict[str, str], isolated: Path) -> None:
    secret = isolated / "home" / "data" / "sessionctl" / "link-secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert (secret.parent.stat().st_mode & 0o777) == 0o700


def _request(url: str, *, method: str = "GET") -> tuple[int, str]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_serve_confirms_on_get_and_records_on_post(cli: Invoke, opened: dict[str, str]) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "sessionctl", "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        assert server.stderr is not None
        first = server.stderr.readline()
        base = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert base, first
        url = f"{base.group()}/answer/{opened['join']}"
        assert _request(f"{base.group()}/health")[0] == 200
        status, page = _request(url)
        assert status == 200
        assert "<h1>Coffee &lt;Paris&gt;</h1>" in page  # the title shown as typed, never as HTML
        assert "Round 1 is matched on <strong>Thu 2099-01-01 09:00 UTC</strong>" in page
        assert 'name="choice" value="join" class="primary">Join this round' in page
        assert _figures(cli) == (0, 0)  # a GET (a link preview, a mail scanner) records nothing
        status, page = _request(url, method="POST")
        assert status == 200
        assert "You are in for round 1" in page
        assert _figures(cli) == (1, 0)
        assert _request(f"{base.group()}/answer/forged.{'A' * 43}")[0] == 400
        assert _request(f"{base.group()}/elsewhere")[0] == 404
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=10) == 0
        assert server.stderr is not None
        logged = server.stderr.read()
    assert opened["join"] not in logged  # the personal token never reaches the log


def test_a_token_from_another_database_is_refused(
    cli: Invoke, opened: dict[str, str], isolated: Path
) -> None:
    # Same data folder (same secret), another database where round 1 and member 1 exist too.
    other = ["--db", str(isolated / "other.db")]
    assert cli(*other, "program", "add", "coffee", "--tz", "UTC").code == 0
    assert cli(*other, "member", "add", "coffee", "zed@example.com").code == 0
    assert (
        cli(*other, "schedule", "coffee", "--opt-in", "now", "--match", "2099-01-01 09:00").code
        == 0
    )
    assert cli(*other, "run-due").code == 0
    result = cli(*other, "respond", "--token", opened["join"])
    assert (result.code, result.stdout) == (2, "")
    assert "invalid answer token" in result.stderr
    assert cli(*other, "show", "1", "--json").json()["opted_in"] == 0
