"""The answer links over HTTP: GET shows a confirmation page, POST records the answer.

A GET never records anything: mail scanners and link previews fetch links on their own. Meant
to listen on loopback behind a reverse proxy that adds TLS.
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

from sessionctl.domain.tokens import TokenError
from sessionctl.errors import InputError, SessionctlError
from sessionctl.services import responses
from sessionctl.store.engine import Database

_ANSWER_PATH = re.compile(r"/answer/([A-Za-z0-9_.-]{1,200})")


def make_server(db: Database, *, host: str, port: int, clock: Callable[[], datetime]) -> HTTPServer:
    """An HTTP server answering ``/answer/TOKEN`` and ``/health``, a thread per request, so one
    idle connection cannot hold up the others."""

    class Handler(_Handler):
        database = db
        now = staticmethod(clock)

    return _QuietServer((host, port), Handler)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that went away or timed out is not worth a traceback on stderr.
        sys.stderr.write("a connection ended early\n")


class _Handler(BaseHTTPRequestHandler):
    database: Database
    now: Callable[[], datetime]
    server_version = "sessionctl"
    sys_version = ""
    timeout = 10  # seconds an idle connection may hold its thread

    def do_GET(self) -> None:
        if self.path == "/health":
            self._reply(HTTPStatus.OK, "ok", "sessionctl is running.")
            return
        token = self._token()
        if token is None:
            return
        try:
            found = responses.read_token(self.database, token, now=self.now())
        except SessionctlError as err:
            self._refuse(err)
            return
        verb = "join" if found.answer else "skip"
        body = (
            f"<p>{_e(found.email)}, do you want to <strong>{verb}</strong> round {found.round} "
            f"of {_e(found.program_title)}?</p>"
            f'<form method="post"><button type="submit">Yes, {verb} this round</button></form>'
        )
        self._reply(HTTPStatus.OK, f"{found.program_title}: {verb} round {found.round}", body)

    def do_POST(self) -> None:
        token = self._token()
        if token is None:
            return
        try:
            found = responses.respond_token(self.database, token, now=self.now())
        except SessionctlError as err:
            self._refuse(err)
            return
        what = "You are in" if found.answer else "You are skipping"
        body = f"<p>{what} for round {found.round} of {_e(found.program_title)}. Thank you!</p>"
        self._reply(HTTPStatus.OK, "Answer recorded", body)

    def log_message(self, format: str, *args: object) -> None:
        # The path holds a personal token: log the method and status only.
        sys.stderr.write(f"{self.command} {args[1] if len(args) > 1 else ''}\n")

    def _token(self) -> str | None:
        match = _ANSWER_PATH.fullmatch(self.path.split("?", 1)[0])
        if match is None:
            self._reply(HTTPStatus.NOT_FOUND, "Not found", "<p>There is nothing here.</p>")
            return None
        return match.group(1)

    def _refuse(self, err: SessionctlError) -> None:
        if isinstance(err, TokenError):
            status = HTTPStatus.BAD_REQUEST
        elif isinstance(err, InputError):  # a genuine link, but the round takes no answers now
            status = HTTPStatus.CONFLICT
        else:
            status = HTTPStatus.SERVICE_UNAVAILABLE
        self._reply(status, "Answer not recorded", f"<p>{_e(err.message)}</p>")

    def _reply(self, status: HTTPStatus, title: str, body: str) -> None:
        page = (
            '<!doctype html><html lang="en"><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width">'
            f"<title>{_e(title)}</title><body>{body}</body></html>"
        ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(page)


def _e(text: str) -> str:
    return html.escape(text, quote=True)
