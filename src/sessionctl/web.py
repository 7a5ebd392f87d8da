"""The answer links over HTTP: GET shows a confirmation page, POST records the answer.

A GET never records anything: mail scanners and link previews fetch links on their own. Meant
to listen on loopback behind a reverse proxy that adds TLS and passes the Host header on.

Open to anyone who has the address, so every response (error pages and the server's own
refusals included) carries a strict policy, pages never show internals, a POST from another
site is refused, and slow or many clients cannot hold every worker: a whole request has a
deadline, and when all workers are busy the next client gets a 503 at once.
"""

from __future__ import annotations

import html
import io
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import Any

from sessionctl.domain.tokens import TokenError
from sessionctl.services import responses
from sessionctl.store.engine import Database

REQUEST_DEADLINE = 10.0  # seconds for a whole request (line, headers, body), however it trickles
MAX_WORKERS = 16  # requests answered at once; one more gets a 503 page straight away
LISTEN_BACKLOG = 64  # connections the kernel holds until they are accepted
MAX_BODY = 1024  # bytes: the confirmation form posts nothing, so no real answer is bigger

POLICY = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # The pages hold no script, style, image or font: only the form posting to this page.
    "Content-Security-Policy": (
        "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
_ALLOW = "GET, HEAD, POST"
_NOT_ALLOWED = "<p>This address does not answer that method.</p>"
_PROBLEM = "Something went wrong on our side; please try again later."
_INVALID = "This link is not valid: use the link from your latest opt-in email."

_Action = Callable[..., responses.TokenAnswer]


def make_server(
    db: Database,
    *,
    host: str,
    port: int,
    clock: Callable[[], datetime],
    request_deadline: float = REQUEST_DEADLINE,
    max_workers: int = MAX_WORKERS,
) -> HTTPServer:
    """An HTTP server answering ``/answer/TOKEN`` and ``/health``: a thread per request, at
    most ``max_workers`` at once, each request cut off ``request_deadline`` seconds after it
    was accepted."""

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
            self._reply(HTTPStatus.OK, "ok", "<p>sessionctl is running.</p>")
            return
        token = self._token(path)
        found = None if token is None else self._attempt(responses.read_token, token)
        if found is None:
            return
        verb = "join" if found.answer else "skip"
        body = (
            f"<p>{_e(found.email)}, do you want to <strong>{verb}</strong> round {found.number} "
            f"of {_e(found.program_title)}?</p>"
            f'<form method="post"><button type="submit">Yes, {verb} this round</button></form>'
        )
        self._reply(HTTPStatus.OK, f"{found.program_title}: {verb} round {found.number}", body)

    do_HEAD = do_GET  # the same status and headers; _reply leaves the body out

    def do_POST(self) -> None:
        path = self.path.partition("?")[0]
        if path == "/health":
            self._reply(
                HTTPStatus.METHOD_NOT_ALLOWED, "Not allowed", _NOT_ALLOWED, allow="GET, HEAD"
            )
            return
        token = self._token(path)
        if token is None or not self._accept_post():
            return
        found = self._attempt(responses.respond_token, token)
        if found is None:
            return
        what = "You are in" if found.answer else "You are skipping"
        body = f"<p>{what} for round {found.number} of {_e(found.program_title)}. Thank you!</p>"
        self._reply(HTTPStatus.OK, "Answer recorded", body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The replies http.server makes itself (malformed requests, unknown methods): our page
        and policy, and never the request echoed back (its line may hold a token)."""
        status = HTTPStatus(code)
        self.close_connection = True
        if status is HTTPStatus.NOT_IMPLEMENTED:  # a method we have no do_ for
            self._reply(HTTPStatus.METHOD_NOT_ALLOWED, "Not allowed", _NOT_ALLOWED, allow=_ALLOW)
        else:
            self._reply(status, status.phrase, f"<p>{_e(status.description)}.</p>")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The path holds a personal token: log the method and status only.
        sys.stderr.write(f"{self.command or '-'} {code}\n")  # an IntEnum prints as its number

    def log_error(self, format: str, *args: Any) -> None:
        # Only the fixed words: the arguments may quote the request line, and so a token.
        sys.stderr.write(f"{self.command or '-'} {format.partition('%')[0].rstrip(': ')}\n")

    def _token(self, path: str) -> str | None:
        """Everything after /answer/, whatever it is: a malformed token is a 400, not a 404."""
        if not path.startswith("/answer/"):
            self._reply(HTTPStatus.NOT_FOUND, "Not found", "<p>There is nothing here.</p>")
            return None
        return path.removeprefix("/answer/")

    def _accept_post(self) -> bool:
        """Refuse an answer posted from another site, and a body bigger than a form's."""
        if _is_cross_site(self.headers):
            body = "<p>Answers are taken from their own page only: open your link again.</p>"
            self._reply(HTTPStatus.FORBIDDEN, "Answer not recorded", body)
            return False
        length = self.headers.get("Content-Length", "0").strip()
        if not (length.isdigit() and length.isascii()):
            self._refuse_body(HTTPStatus.BAD_REQUEST)
            return False
        if "Transfer-Encoding" in self.headers or len(length) > 9 or int(length) > MAX_BODY:
            self._refuse_body(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return False
        self.rfile.read(int(length))  # read, so that closing does not reset the connection
        return True

    def _refuse_body(self, status: HTTPStatus) -> None:
        self.close_connection = True
        self._reply(status, "Answer not recorded", "<p>The answer page sends no data.</p>")

    def _attempt(self, action: _Action, token: str) -> responses.TokenAnswer | None:
        """The answer a token carries, or None once a refusal page went out."""
        try:
            return action(self.database, token, now=self.now())
        except TokenError:
            self._reply(HTTPStatus.BAD_REQUEST, "Invalid link", f"<p>{_e(_INVALID)}</p>")
        except responses.AnswersClosedError as err:  # a removed member's too: in their words
            page = f"<p>{_e(err.for_member)}</p>"
            self._reply(HTTPStatus.CONFLICT, "Answer not recorded", page)
        except Exception as err:  # whatever it is, the page shows no internals; stderr does
            _log_failure(err, token=token)
            self._reply(HTTPStatus.SERVICE_UNAVAILABLE, "Try again later", f"<p>{_PROBLEM}</p>")
        return None

    def _reply(self, status: HTTPStatus, title: str, body: str, *, allow: str = "") -> None:
        page = _render_page(title, body)
        self.send_response(status)
        for name, value in _headers(len(page)).items():
            self.send_header(name, value)
        if allow:
            self.send_header("Allow", allow)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(page)


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


def _is_cross_site(headers: Message) -> bool:
    """True when the browser says the POST comes from another site than this page's own.

    Sec-Fetch-Site ``same-site`` counts too: answers are only sent from our own page. Without
    either header (curl, old clients) the POST is taken: it is no browser acting for a site.
    """
    site = headers.get("Sec-Fetch-Site", "").strip().lower()
    if site not in ("", "same-origin", "none"):
        return True
    origins = headers.get_all("Origin") or []
    if not origins:
        return False
    host = _without_default_port(headers.get("Host", "").strip().lower())
    return len(origins) > 1 or not host or _origin_authority(origins[0]) != host


def _origin_authority(origin: str) -> str:
    """``host[:port]`` of an Origin header; empty for ``null`` or anything malformed.

    The scheme is left out: behind a TLS proxy the browser's https is plain http here.
    """
    _, sep, authority = origin.strip().lower().partition("://")
    if not sep or not authority or "/" in authority:
        return ""
    return _without_default_port(authority)


def _without_default_port(authority: str) -> str:
    for port in (":80", ":443"):
        authority = authority.removesuffix(port)
    return authority


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


def _render_page(title: str, body: str) -> bytes:
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width">'
        f"<title>{_e(title)}</title><body>{body}</body></html>"
    ).encode()


def _render_busy() -> bytes:
    """The whole 503 reply for a client that finds every worker busy, built once."""
    page = _render_page("Busy", "<p>Too many requests at once; please try again in a moment.</p>")
    head = {**_headers(len(page)), "Retry-After": "5", "Connection": "close"}
    lines = ["HTTP/1.0 503 Service Unavailable", *(f"{k}: {v}" for k, v in head.items())]
    return "\r\n".join([*lines, "", ""]).encode("ascii") + page


def _e(text: str) -> str:
    return html.escape(text, quote=True)


_BUSY = _render_busy()
