"""serve as a small public web service: whatever a client sends, it gets a page with the policy
headers, never internals; answers come from our own page only; slow or many clients cannot
starve it. Real servers on 127.0.0.1 and real sockets; every loop is bounded in count and time."""

from __future__ import annotations

import base64
import contextlib
import email
import hashlib
import hmac
import mailbox
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest

from sessionctl import clock, config, web
from sessionctl.domain import tokens
from sessionctl.render import page
from sessionctl.store.engine import open_database
from tests.conftest import Invoke, assert_error, copy_database, seed_database, sql

LINK = re.compile(r"https://coffee\.example\.com/answer/(\S+)")
# The pages' one stylesheet, allowed by its hash and nothing else.
STYLE_HASH = base64.b64encode(hashlib.sha256(page.STYLE.encode()).digest()).decode()
POLICY = {
    "cache-control": "no-store",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": (
        f"default-src 'none'; style-src 'sha256-{STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
PROBLEM = "Something went wrong on our side; please try again later."
INVALID = "This link is not valid: use the link from your latest opt-in email."


@dataclass(frozen=True)
class Seed:
    folder: Path
    join: str
    skip: str
    secret: bytes


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def page(self) -> str:
        return self.body.decode()


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    """One open round with one invited member, built once; each test copies it."""
    folder = tmp_path_factory.mktemp("seed")
    seed_database(
        folder,
        [
            [
                "program",
                "add",
                "coffee",
                "--tz",
                "UTC",
                "--link-base",
                "https://coffee.example.com/",
            ],
            ["member", "add", "coffee", "ana@example.com", "--name", "Ana"],
            ["schedule", "coffee", "--opt-in", "now", "--match", "2099-01-01 09:00"],
            ["run-due"],
        ],
        now=datetime(2025, 1, 6, 9, tzinfo=UTC),
    )
    box = mailbox.Maildir(folder / "data" / "sessionctl" / "outbox", create=False)
    [raw] = [m.as_bytes() for m in box]
    msg = email.message_from_bytes(raw, policy=policy.default)
    join, skip = LINK.findall(msg.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    secret = (folder / "data" / "sessionctl" / "link-secret").read_text().strip().encode()
    return Seed(folder, join, skip, secret)


@pytest.fixture
def data_dir(seed: Seed, isolated: Path) -> Path:
    """This test's own copy of the seed database and link secret."""
    copy_database(seed.folder / "seed.db", isolated / "sessionctl.db")
    folder = isolated / "home" / "data" / "sessionctl"
    folder.mkdir(mode=0o700, parents=True)
    shutil.copy(seed.folder / "data" / "sessionctl" / "link-secret", folder / "link-secret")
    return folder


@contextlib.contextmanager
def serving(*, request_deadline: float = 5.0, max_workers: int = 4) -> Iterator[int]:
    """``web.make_server`` answering in a thread; yields its port."""
    db = open_database(config.resolve())
    server = web.make_server(
        db,
        host="127.0.0.1",
        port=0,
        clock=clock.now,
        request_deadline=request_deadline,
        max_workers=max_workers,
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        db.dispose()


@pytest.fixture
def port(data_dir: Path) -> Iterator[int]:
    with serving() as bound:
        yield bound


def exchange(port: int, raw: bytes, *, timeout: float = 5.0) -> Reply:
    """Send raw bytes, read the reply to the end (the server closes after each request)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        data = _read_to_end(s)
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Reply(int(status_line.split()[1]), headers, body)


def _read_to_end(s: socket.socket) -> bytes:
    chunks = []
    for _ in range(1000):
        chunk = s.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def request(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Reply:
    fields = {"Host": f"127.0.0.1:{port}", "Connection": "close", **(headers or {})}
    if body is not None:
        fields["Content-Length"] = str(len(body))
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in fields.items())]
    return exchange(port, "\r\n".join([*lines, "", ""]).encode() + (body or b""))


def figures(cli: Invoke) -> tuple[int, int]:
    shown = cli("show", "1", "--json").json()
    return shown["opted_in"], shown["declined"]


def forge(payload: str, *, secret: bytes | None = None, binding: str = "") -> str:
    """A token of the right shape carrying ``payload``; signed as ours are when given the secret
    and binding, so that only the payload's own checks can refuse it."""
    encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    if secret is None:
        return f"{encoded}.{'A' * 43}"
    mac = hmac.new(secret, f"{encoded}|{binding}".encode(), hashlib.sha256).digest()
    return f"{encoded}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def _binding() -> str:
    """What genuine tokens' signatures cover besides the payload: round 1's seed and member 1's
    key, read from this test's copy of the seed database."""
    [(round_seed,)] = sql("SELECT seed FROM round WHERE id = 1")
    [(email_key,)] = sql("SELECT email_key FROM member WHERE id = 1")
    return f"{round_seed}:{email_key}"


def _signed(seed: Seed, payload: str) -> str:
    return forge(payload, secret=seed.secret, binding=_binding())


MALFORMED: dict[str, Callable[[Seed], str]] = {
    "round id 10**30": lambda s: _signed(s, f"1.{10**30}.1.y"),
    "member id 10**30": lambda s: _signed(s, f"1.1.{10**30}.y"),
    "round id 2**63": lambda s: _signed(s, f"1.{2**63}.1.y"),
    "round id 0": lambda s: _signed(s, "1.0.1.y"),
    "wrong version": lambda s: _signed(s, "2.1.1.y"),
    "answer maybe": lambda s: _signed(s, "1.1.1.m"),
    "five fields": lambda s: _signed(s, "1.1.1.y.x"),
    "bad base64": lambda s: f"A!B$.{'A' * 43}",
    "base64 of bad length": lambda s: f"AAAAA.{'A' * 43}",
    "base64 of binary": lambda s: (
        base64.urlsafe_b64encode(b"\xff\xfe\x00\x01\x80").decode() + f".{'A' * 43}"
    ),
    "non-ASCII": lambda s: s.join[:-1] + "é",
    "full-width digit": lambda s: _signed(s, "1.\uff11.1.y"),
    "percent-encoded junk": lambda s: "%00%0d%0aSet-Cookie:%20a=b%ff",
    "percent-encoded token": lambda s: s.join.replace(".", "%2E"),
    "over-long": lambda s: s.join + "A" * 20_000,
    "other secret": lambda s: tokens.sign(
        tokens.Claim(1, 1, True), secret=b"f" * 64, binding=_binding()
    ),
    "empty": lambda s: "",
    "trailing slash": lambda s: s.join + "/",
    "dot segments": lambda s: "../health",
    "NUL": lambda s: "\x00",
}


@pytest.mark.parametrize("vector", list(MALFORMED))
def test_a_malformed_token_gets_a_400_page_and_records_nothing(
    cli: Invoke, seed: Seed, port: int, vector: str
) -> None:
    path = f"/answer/{MALFORMED[vector](seed)}"
    for method in ("GET", "POST"):
        reply = request(port, method, path, body=b"" if method == "POST" else None)
        assert (reply.status, reply.headers["content-type"]) == (400, "text/html; charset=utf-8")
        assert INVALID in reply.page
        assert {k: reply.headers[k] for k in POLICY} == POLICY
    assert figures(cli) == (0, 0)


def test_a_huge_round_id_is_an_invalid_token_on_the_command_line(
    cli: Invoke, seed: Seed, data_dir: Path
) -> None:
    result = cli("respond", "--token", _signed(seed, f"1.{10**30}.1.y"))
    assert_error(result, "invalid answer token: use the link from your latest opt-in email")


EXPECTED = [
    (b"GET /health HTTP/1.1\r\nHost: h\r\n\r\n", 200),
    (b"GET /health?x=1 HTTP/1.0\r\n\r\n", 200),
    (b"GET /elsewhere HTTP/1.1\r\nHost: h\r\n\r\n", 404),
    (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", 404),
    (b"GET /answer/nope HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    (b"PUT /answer/x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", 405),
    (b"DELETE /health HTTP/1.1\r\nHost: h\r\n\r\n", 405),
    (b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 405),
    (b"TRACE / HTTP/1.1\r\nHost: h\r\n\r\n", 405),
    (b"BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n", 405),
    (b"POST /health HTTP/1.1\r\nHost: h\r\n\r\n", 405),
    (b"POST /answer/x HTTP/1.1\r\nHost: h\r\nOrigin: https://evil.test\r\n\r\n", 403),
    (b"POST /answer/x HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000000\r\n\r\n", 413),
    (b"POST /answer/x HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400),
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET / HTTP/x.y\r\n\r\n", 400),
    (b"GET / HTTP/1.1 extra\r\n\r\n", 400),
    (b"GET / HTTP/2.0\r\n\r\n", 505),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\n" + b"X: a\r\n" * 101 + b"\r\n", 431),
]


@pytest.mark.parametrize(("raw", "status"), EXPECTED, ids=[str(i) for i in range(len(EXPECTED))])
def test_every_response_carries_the_policy_headers(port: int, raw: bytes, status: int) -> None:
    reply = exchange(port, raw)
    assert reply.status == status
    assert {k: reply.headers.get(k) for k in POLICY} == POLICY
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert int(reply.headers["content-length"]) == len(reply.body) > 0
    if status == 405:
        assert reply.headers["allow"] in ("GET, HEAD, POST", "GET, HEAD")
    assert b"a" * 100 not in reply.body  # the request is never echoed back


def test_the_confirmation_page_carries_them_too(seed: Seed, port: int) -> None:
    reply = request(port, "GET", f"/answer/{seed.join}")
    assert reply.status == 200
    assert {k: reply.headers[k] for k in POLICY} == POLICY
    assert '<form method="post">' in reply.page  # form-action 'self' lets it post


@pytest.mark.parametrize("path", ["/health", "/answer/JOIN", "/answer/nope", "/elsewhere"])
def test_head_answers_like_get_without_a_body(seed: Seed, port: int, path: str) -> None:
    path = path.replace("JOIN", seed.join)
    got, head = request(port, "GET", path), request(port, "HEAD", path)
    assert head.status == got.status
    assert head.body == b""
    assert int(head.headers["content-length"]) == len(got.body)
    del got.headers["date"], head.headers["date"]  # the only header that may differ
    assert head.headers == got.headers


FOREIGN = {
    "another origin": {"Origin": "https://evil.test"},
    "null origin": {"Origin": "null"},
    "same host, other port": {"Origin": "http://127.0.0.1:1"},
    "host as a prefix": {"Origin": "http://127.0.0.1:PORT.evil.test"},
    "two origins": {"Origin": "http://127.0.0.1:PORT", "origin": "https://evil.test"},
    "cross-site fetch": {"Sec-Fetch-Site": "cross-site"},
    "same-site fetch": {"Sec-Fetch-Site": "same-site"},
    "own origin, cross-site fetch": {
        "Origin": "http://127.0.0.1:PORT",
        "Sec-Fetch-Site": "cross-site",
    },
}


@pytest.mark.parametrize("vector", list(FOREIGN))
def test_a_post_from_another_site_gets_403_and_records_nothing(
    cli: Invoke, seed: Seed, port: int, vector: str
) -> None:
    headers = {k: v.replace("PORT", str(port)) for k, v in FOREIGN[vector].items()}
    reply = request(port, "POST", f"/answer/{seed.join}", headers=headers, body=b"")
    assert reply.status == 403
    assert figures(cli) == (0, 0)


SAME = {
    "curl: no Origin, no Sec-Fetch-Site": {},
    "our own page": {"Origin": "http://127.0.0.1:PORT", "Sec-Fetch-Site": "same-origin"},
    "behind a TLS proxy": {"Host": "coffee.example.com", "Origin": "https://coffee.example.com"},
    "typed by hand": {"Sec-Fetch-Site": "none"},
}


@pytest.mark.parametrize("vector", list(SAME))
def test_a_post_from_our_own_page_or_curl_records(
    cli: Invoke, seed: Seed, port: int, vector: str
) -> None:
    headers = {k: v.replace("PORT", str(port)) for k, v in SAME[vector].items()}
    reply = request(port, "POST", f"/answer/{seed.join}", headers=headers, body=b"")
    assert (reply.status, figures(cli)) == (200, (1, 0))
    assert "You are in for round 1" in reply.page


def test_a_large_body_gets_413_without_being_read(cli: Invoke, seed: Seed, port: int) -> None:
    started = time.monotonic()
    head = f"POST /answer/{seed.join} HTTP/1.1\r\nHost: h\r\nContent-Length: {10**9}\r\n\r\n"
    assert exchange(port, head.encode()).status == 413  # the gigabyte never comes
    assert time.monotonic() - started < 2
    chunked = f"POST /answer/{seed.join} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert exchange(port, chunked.encode() + b"5\r\nhello\r\n0\r\n\r\n").status == 413
    assert figures(cli) == (0, 0)
    small = request(port, "POST", f"/answer/{seed.skip}", body=b"confirm=1")
    assert (small.status, figures(cli)) == (200, (0, 1))


def test_a_missing_link_secret_refuses_links_and_is_never_created(
    cli: Invoke, seed: Seed, data_dir: Path
) -> None:
    (data_dir / "link-secret").unlink()
    before = sorted(p.name for p in data_dir.iterdir())
    with serving() as port:
        assert request(port, "GET", f"/answer/{seed.join}").status == 400
        assert request(port, "POST", f"/answer/{seed.join}", body=b"").status == 400
    assert_error(
        cli("respond", "--token", seed.join),
        "invalid answer token: use the link from your latest opt-in email",
    )
    assert sorted(p.name for p in data_dir.iterdir()) == before
    assert figures(cli) == (0, 0)


def _serve() -> tuple[subprocess.Popen[str], int]:
    """``sessionctl serve --port 0`` as a real process; its port read from its first line."""
    server = subprocess.Popen(
        [sys.executable, "-m", "sessionctl", "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert server.stderr is not None
    first = server.stderr.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)", first)
    assert found, first
    return server, int(found.group(1))


def _stop(server: subprocess.Popen[str]) -> str:
    server.send_signal(signal.SIGINT)
    assert server.wait(timeout=20) == 0
    assert server.stderr is not None
    return server.stderr.read()


def test_internal_failures_show_a_generic_page_and_log_one_line(
    seed: Seed, data_dir: Path, isolated: Path
) -> None:
    server, port = _serve()
    try:
        (data_dir / "link-secret").write_text("short")
        for method in ("GET", "HEAD", "POST"):
            reply = request(
                port, method, f"/answer/{seed.join}", body=b"" if method == "POST" else None
            )
            assert reply.status == 503
            assert {k: reply.headers[k] for k in POLICY} == POLICY
            if method != "HEAD":
                assert PROBLEM in reply.page
                for internal in (str(isolated), "link secret", "damaged", "Error"):
                    assert internal not in reply.page
    finally:
        logged = _stop(server)
    secret = data_dir / "link-secret"
    failures = [line for line in logged.splitlines() if line.startswith("error:")]
    assert (
        failures == [f"error: the link secret {secret} is damaged: delete it to make a new one"] * 3
    )
    assert seed.join not in logged


def test_a_slow_client_is_cut_off_at_the_request_deadline(data_dir: Path) -> None:
    with serving(request_deadline=1.0) as port, socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(0.1)
        started = time.monotonic()
        closed_after = None
        for byte in b"GET /health HTTP/1.1\r\nX-Slow: " + b"a" * 100:  # one byte every 0.1 s
            try:
                s.sendall(bytes([byte]))
                if s.recv(1024) == b"":
                    closed_after = time.monotonic() - started
                    break
            except TimeoutError:
                continue
            except OSError:
                closed_after = time.monotonic() - started
                break
        assert closed_after is not None, "the slow client was never cut off"
        assert 0.8 < closed_after < 2.0  # the whole request's deadline, not a per-read timeout


@pytest.mark.slow
def test_serve_cuts_a_slow_client_off_after_its_default_deadline(data_dir: Path) -> None:
    server, port = _serve()
    try:
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.settimeout(0.5)
            started, closed_after = time.monotonic(), None
            for _ in range(int(web.REQUEST_DEADLINE * 2) + 10):  # a byte every 0.5 s
                try:
                    s.sendall(b"a")
                    if s.recv(1024) == b"":
                        closed_after = time.monotonic() - started
                        break
                except TimeoutError:
                    continue
                except OSError:
                    closed_after = time.monotonic() - started
                    break
        assert closed_after is not None
        assert web.REQUEST_DEADLINE - 1 < closed_after < web.REQUEST_DEADLINE + 2
        assert request(port, "GET", "/health").status == 200
    finally:
        _stop(server)


def test_busy_workers_get_an_immediate_503_then_the_server_recovers(data_dir: Path) -> None:
    with serving(request_deadline=10.0, max_workers=2) as port:
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
        for s in idle:  # each holds a worker, waiting for the rest of its headers
            s.sendall(b"GET /health HTTP/1.1\r\n")
        try:
            started = time.monotonic()
            busy = [request(port, "GET", "/health") for _ in range(5)]
            assert time.monotonic() - started < 2  # not the 10 s an idle client may take
            assert [r.status for r in busy] == [503] * 5
            assert {k: busy[0].headers[k] for k in POLICY} == POLICY
            assert busy[0].headers["retry-after"] == "5"
            assert b"try again in a moment" in busy[0].body
        finally:
            for s in idle:
                s.close()
        statuses = []
        for _ in range(40):  # the workers come back as soon as their clients left
            statuses.append(request(port, "GET", "/health").status)
            if statuses[-1] == 200:
                break
            time.sleep(0.05)
        assert statuses[-1] == 200


def test_a_hundred_quick_requests_all_succeed(seed: Seed, port: int) -> None:
    started = time.monotonic()
    statuses = [request(port, "GET", f"/answer/{seed.join}").status for _ in range(100)]
    assert statuses == [200] * 100
    assert time.monotonic() - started < 30


def test_the_listen_backlog_holds_64_waiting_connections(data_dir: Path) -> None:
    db = open_database(config.resolve())
    server = web.make_server(db, host="127.0.0.1", port=0, clock=clock.now)  # not accepting
    waiting: list[socket.socket] = []
    try:
        for _ in range(64):  # a backlog of 5 (the default) drops the 7th: its connect times out
            waiting.append(
                socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=2)
            )
    finally:
        for s in waiting:
            s.close()
        server.server_close()
        db.dispose()
    assert len(waiting) == 64


def test_ctrl_c_stops_serve_while_workers_answer(data_dir: Path) -> None:
    """Ctrl-C taken by a worker thread used to stay pending while the main thread waited in
    select: serve then ran on. Workers now block it, so it always reaches the main thread."""
    for _ in range(4):
        server, port = _serve()
        answered = threading.Event()

        def ask(answered: threading.Event = answered, port: int = port) -> None:
            with contextlib.suppress(Exception):  # until the server is gone
                while True:
                    request(port, "GET", "/health")
                    answered.set()

        askers = [threading.Thread(target=ask, daemon=True) for _ in range(4)]
        for asker in askers:
            asker.start()
        try:
            assert answered.wait(10)
            server.send_signal(signal.SIGINT)
            assert server.wait(timeout=10) == 0
        finally:
            server.kill()  # a server that ran on must not outlive the test
            server.wait()
            assert server.stderr is not None
            server.stderr.close()
        for asker in askers:
            asker.join(10)
