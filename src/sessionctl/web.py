"""The members' links over HTTP. ``/answer/TOKEN``: GET shows the answer page (join, skip,
pause, leave), POST records the choice its form posts. ``/leave/TOKEN``: GET asks to confirm,
POST with ``List-Unsubscribe=One-Click`` leaves at once (RFC 8058, as mail providers send it).

A GET never records anything: mail scanners and link previews fetch links on their own. Meant
to listen on loopback behind a reverse proxy that adds TLS and passes the Host header on.

Open to anyone who has the address, so every response (error pages and the server's own
refusals included) carries a strict policy, pages never show internals, a POST from another
site is refused, and slow or many clients cannot hold every worker: a whole request has a
deadline, and when all workers are busy the next client gets a 503 at once.
"""

from __future__ import annotations

import io
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import Any, TypeVar

from sessionctl.domain.tokens import TokenError, read
from sessionctl.render import page
from sessionctl.services import answer_page, responses
from sessionctl.store.engine import Database
from sessionctl.webform import field, form_date, is_cross_site, parse_form

REQUEST_DEADLINE = 10.0  # seconds for a whole request (line, headers, body), however it trickles
MAX_WORKERS = 16  # requests answered at once; one more gets a 503 page straight away
LISTEN_BACKLOG = 64  # connections the kernel holds until they are accepted
# bytes: our forms post under 50 (choice=pause&until=2026-06-10), a one-click unsubscribe in
# multipart/form-data about 200; nothing a real client sends here comes near
MAX_BODY = 1024

POLICY = {
    "Cache-Control": "no-store",
    # Not no-referrer: under it browsers send "Origin: null" with the page's own form posts,
    # which the cross-site check must refuse. The address (and its token) still goes to no
    # other site.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # The pages hold no script, image or font: their one stylesheet, named by its hash, and
    # forms posting to the page itself.
    "Content-Security-Policy": (
        f"default-src 'none'; style-src {page.STYLE_SOURCE}; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
_ALLOW = "GET, HEAD, POST"
_NOT_ALLOWED = page.notice("Not allowed", "This address does not answer that method.")
_NOT_RECORDED = "Not recorded"
_PROBLEM = "Something went wrong on our side; please try again later."
_INVALID = "This link is not valid: use the link from your latest opt-in email."
_PICK_DATE = "Pick the date your pause ends, then press Pause again."
_UNKNOWN_CHOICE = "This page does not know that choice: open your link again."
_NOT_ONE_CLICK = "This unsubscribe request is incomplete: open the link and press the button."

_T = TypeVar("_T")


def make_server(
    db: Database,
    *,
    host: str,
    port: int,
    clock: Callable[[], datetime],
    request_deadline: float = REQUEST_DEADLINE,
    max_workers: int = MAX_WORKERS,
) -> HTTPServer:
    """An HTTP server answering ``/answer/TOKEN``, ``/leave/TOKEN`` and ``/health``: a thread
    per request, at most ``max_workers`` at once, each request cut off ``request_deadline``
    seconds after it was accepted."""

    class Handler(_Handler):
        database = db
        now = staticmethod(clock)
        deadline = request_deadline

    return _Server((host, port), Handler, max_workers=max_workers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], handler: type[_Handler], *, max_workers: int):
        self._workers = threading.BoundedSemaphore(max_workers)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._workers.acquire(blocking=False):
            _turn_away(request)
            self.shutdown_request(request)
            return
        # Workers are born with Ctrl-C blocked, so that it always reaches the main thread: taken
        # by a worker, Python 3.11 may leave it pending while the main thread waits in select.
        unblocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started: nobody else gives the worker back
            self._workers.release()
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._workers.release()

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that went away is not worth a traceback on stderr.
        sys.stderr.write("a connection ended early\n")


class _Handler(BaseHTTPRequestHandler):
    database: Database
    now: Callable[[], datetime]
    deadline: float
    server_version = "sessionctl"
    sys_version = ""
    # With the stock HTTP/0.9 default, replies to a malformed request line carry no headers.
    default_request_version = "HTTP/1.0"

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # the stock reader: its timeout is per read, not per request
        until = time.monotonic() + self.deadline
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, until=until))

    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        if path == "/health":
            self._reply(HTTPStatus.OK, page.notice("ok", "sessionctl is running."))
            return
        route = self._route(path)
        if route is None:
            return
        kind, token = route
        facts = self._attempt(
            token, partial(answer_page.page_facts, self.database, token, now=self.now())
        )
        if facts is not None:
            shown = page.leave_page(facts) if kind == "leave" else page.answer_page(facts)
            self._reply(HTTPStatus.OK, shown)

    do_HEAD = do_GET  # the same status and headers; _reply leaves the body out

    def do_POST(self) -> None:
        path = self.path.partition("?")[0]
        if path == "/health":
            self._reply(HTTPStatus.METHOD_NOT_ALLOWED, _NOT_ALLOWED, allow="GET, HEAD")
            return
        route = self._route(path)
        if route is None:
            return
        kind, token = route
        # A one-click unsubscribe comes from a mail provider's server, or from a webmail page
        # on another site: the token alone is the authority, as it is for anyone holding it.
        body = self._read_form(check_site=kind == "answer")
        if body is None:
            return
        if kind == "leave":
            self._one_click(token, body)
        else:
            self._answer(token, body)

    def _answer(self, token: str, form: dict[str, list[str]]) -> None:
        """A choice from the answer page; without one (an old link, curl), the token's own."""
        action = _choice(form, db=self.database, token=token, now=self.now())
        if isinstance(action, str):
            self._reply(HTTPStatus.BAD_REQUEST, page.notice(_NOT_RECORDED, action))
            return
        outcome = self._attempt(token, action)
        if outcome is not None:
            self._reply(HTTPStatus.OK, page.result_page(outcome, back=outcome.kind != "leave"))

    def _one_click(self, token: str, form: dict[str, list[str]]) -> None:
        """RFC 8058: the POST carries ``List-Unsubscribe=One-Click``, and leaves at once."""
        if field(form, "List-Unsubscribe") != "One-Click":
            self._reply(HTTPStatus.BAD_REQUEST, page.notice(_NOT_RECORDED, _NOT_ONE_CLICK))
            return
        how = answer_page.ONE_CLICK
        leave = partial(answer_page.leave, self.database, token, now=self.now(), how=how)
        outcome = self._attempt(token, leave)
        if outcome is not None:
            self._reply(HTTPStatus.OK, page.result_page(outcome, back=False))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The replies http.server makes itself (malformed requests, unknown methods): our page
        and policy, and never the request echoed back (its line may hold a token)."""
        status = HTTPStatus(code)
        self.close_connection = True
        if status is HTTPStatus.NOT_IMPLEMENTED:  # a method we have no do_ for
            self._reply(HTTPStatus.METHOD_NOT_ALLOWED, _NOT_ALLOWED, allow=_ALLOW)
        else:
            self._reply(status, page.notice(status.phrase, f"{status.description}."))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The path holds a personal token: log the method and status only.
        sys.stderr.write(f"{self.command or '-'} {code}\n")  # an IntEnum prints as its number

    def log_error(self, format: str, *args: Any) -> None:
        # Only the fixed words: the arguments may quote the request line, and so a token.
        sys.stderr.write(f"{self.command or '-'} {format.partition('%')[0].rstrip(': ')}\n")

    def _route(self, path: str) -> tuple[str, str] | None:
        """``("answer" | "leave", token)``: everything after the prefix, whatever it is, so that
        a malformed token is a 400, not a 404. ``/me/`` is the member's page that every email
        links to (pause or leave): the answer page, under its own address."""
        for prefix, kind in (("answer", "answer"), ("me", "answer"), ("leave", "leave")):
            if path.startswith(f"/{prefix}/"):
                return kind, path.removeprefix(f"/{prefix}/")
        self._reply(HTTPStatus.NOT_FOUND, page.notice("Not found", "There is nothing here."))
        return None

    def _read_form(self, *, check_site: bool) -> dict[str, list[str]] | None:
        """The posted form's fields, or None once a refusal went out: a POST from another site
        (when ``check_site``), or a body bigger than our forms'."""
        if check_site and is_cross_site(self.headers):
            text = "Answers are taken from their own page only: open your link again."
            self._reply(HTTPStatus.FORBIDDEN, page.notice(_NOT_RECORDED, text))
            return None
        length = self.headers.get("Content-Length", "0").strip()
        if not (length.isdigit() and length.isascii()):
            self._refuse_body(HTTPStatus.BAD_REQUEST)
            return None
        if "Transfer-Encoding" in self.headers or len(length) > 9 or int(length) > MAX_BODY:
            self._refuse_body(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return None
        # Read whole, also when unused, so that closing does not reset the connection.
        body = self.rfile.read(int(length))
        return parse_form(body, content_type=self.headers.get("Content-Type", ""))

    def _refuse_body(self, status: HTTPStatus) -> None:
        self.close_connection = True
        text = "This page sends only its own small forms."
        self._reply(status, page.notice(_NOT_RECORDED, text))

    def _attempt(self, token: str, action: Callable[[], _T]) -> _T | None:
        """What ``action`` returns, or None once a refusal page went out."""
        try:
            return action()
        except TokenError:
            self._reply(HTTPStatus.BAD_REQUEST, page.notice("Invalid link", _INVALID))
        except responses.AnswersClosedError as err:  # a removed member's too: in their words
            self._reply(HTTPStatus.CONFLICT, page.notice(_NOT_RECORDED, err.for_member))
        except answer_page.Refused as err:  # written for the member
            self._reply(HTTPStatus.CONFLICT, page.notice(_NOT_RECORDED, err.message))
        except Exception as err:  # whatever it is, the page shows no internals; stderr does
            _log_failure(err, token=token)
            self._reply(HTTPStatus.SERVICE_UNAVAILABLE, page.notice("Try again later", _PROBLEM))
        return None

    def _reply(self, status: HTTPStatus, shown: bytes, *, allow: str = "") -> None:
        self.send_response(status)
        for name, value in _headers(len(shown)).items():
            self.send_header(name, value)
        if allow:
            self.send_header("Allow", allow)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(shown)


class _DeadlineReader(io.RawIOBase):
    """A socket's bytes until one deadline for the whole request: a client that sends a byte a
    second passes every per-read timeout, but not this."""

    def __init__(self, sock: socket.socket, *, until: float) -> None:
        self._sock = sock
        self._until = until

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._until - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request took too long")
        self._sock.settimeout(left)
        return self._sock.recv_into(buffer)


def _turn_away(sock: socket.socket) -> None:
    """Answer 503 on the accepting thread without waiting on the client: the page fits the
    socket's send buffer, and what the client already sent is drained, so closing does not
    reset the connection before the client reads the page."""
    with suppress(OSError):
        sock.setblocking(False)
        sock.send(_BUSY)
        sock.shutdown(socket.SHUT_WR)
        for _ in range(16):
            if not sock.recv(65536):
                break


def _log_failure(err: Exception, *, token: str) -> None:
    """One line on stderr for the operator: what failed, never the token."""
    from sessionctl.errors import SessionctlError
    from sessionctl.render.text import clean

    detail = str(err) if isinstance(err, SessionctlError) else f"{type(err).__name__}: {err}"
    line = clean(" ".join(detail.replace(token, "TOKEN").split()))[:500]
    sys.stderr.write(f"error: {line}\n")


def _headers(length: int) -> dict[str, str]:
    return {
        **POLICY,
        "Content-Type": "text/html; charset=utf-8",
        "Content-Length": str(length),
    }


def _choice(
    form: dict[str, list[str]], *, db: Database, token: str, now: datetime
) -> Callable[[], answer_page.Outcome] | str:
    """What a posted answer form asks for, ready to run; or, for the member, why it cannot
    be done. Without a choice, the answer the token itself carries (old links, scripts)."""
    choice = field(form, "choice")
    if choice in ("join", "skip"):
        return partial(answer_page.answer, db, token, choice=choice == "join", now=now)
    if choice is None:
        return lambda: answer_page.answer(db, token, choice=read(token).answer, now=now)
    if choice == "leave":
        return partial(answer_page.leave, db, token, now=now, how=answer_page.FROM_PAGE)
    if choice != "pause":
        return _UNKNOWN_CHOICE
    until = form_date(field(form, "until"))
    if until is None:
        return _PICK_DATE
    return partial(answer_page.pause, db, token, until=until, now=now)


def _render_busy() -> bytes:
    """The whole 503 reply for a client that finds every worker busy, built once."""
    shown = page.notice("Busy", "Too many requests at once; please try again in a moment.")
    head = {**_headers(len(shown)), "Retry-After": "5", "Connection": "close"}
    lines = ["HTTP/1.0 503 Service Unavailable", *(f"{k}: {v}" for k, v in head.items())]
    return "\r\n".join([*lines, "", ""]).encode("ascii") + shown


_BUSY = _render_busy()
