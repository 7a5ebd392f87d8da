"""A real SMTP server (aiosmtpd) on 127.0.0.1 whose replies each test can script."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from sessionctl.delivery.transports import TransportSpec

USER, PASSWORD = "robot@example.com", "correct horse battery staple"
TEMPFAIL_PASSWORD = "the password check is down"  # the server answers 454 to it


@dataclass(frozen=True)
class Received:
    """One message the server accepted, with the connection (client address) it came on."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    peer: tuple[str, int]
    tls: bool


@dataclass
class _Script:
    reply: str
    times: int | None  # None: every attempt


@dataclass
class ScriptedHandler:
    """Accepts everything unless told otherwise with ``script``."""

    received: list[Received] = field(default_factory=list)
    closed_peers: set[tuple[str, int]] = field(default_factory=set)
    attempts: Counter[tuple[str, str]] = field(default_factory=Counter)
    _scripts: dict[tuple[str, str], _Script] = field(default_factory=dict)

    def script(self, stage: str, address: str, reply: str, *, times: int | None = None) -> None:
        """Answer ``stage`` ("MAIL" by sender, "RCPT" or "DATA" by recipient) for ``address``
        with ``reply``, for its first ``times`` attempts (None: always)."""
        self._scripts[stage, address.lower()] = _Script(reply, times)

    def wait_closed(self, peer: tuple[str, int], *, timeout: float = 5.0) -> None:
        """Wait until the server has closed the connection from ``peer``."""
        deadline = time.monotonic() + timeout
        while peer not in self.closed_peers:
            assert time.monotonic() < deadline, f"server kept {peer} open"
            time.sleep(0.01)

    def _scripted(self, stage: str, address: str) -> str | None:
        key = (stage, address.lower())
        self.attempts[key] += 1
        script = self._scripts.get(key)
        if script and (script.times is None or self.attempts[key] <= script.times):
            return script.reply
        return None

    async def handle_MAIL(
        self, server: SMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if reply := self._scripted("MAIL", address):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if reply := self._scripted("RCPT", address):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        for address in envelope.rcpt_tos:
            if reply := self._scripted("DATA", address):
                return reply
        content = envelope.original_content or envelope.content
        transport = server.transport
        implicit_tls = transport is not None and transport.get_extra_info("ssl_object") is not None
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                content,
                tuple(session.peer),
                session.ssl is not None or implicit_tls,
            )
        )
        return "250 2.0.0 Ok: queued as 12345"


class _TrackingSMTP(SMTP):
    """Tells the handler when a client connection ends, whichever side closed it."""

    def connection_lost(self, error: Exception | None) -> None:
        peer = self.session.peer if self.session else None
        super().connection_lost(error)
        if peer is not None:
            self.event_handler.closed_peers.add(tuple(peer))


class _BoundController(Controller):
    """A Controller on a socket bound before it starts: a free port with no race."""

    def __init__(self, handler: ScriptedHandler, **kwargs: Any) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        port = self._sock.getsockname()[1]
        super().__init__(handler, hostname="127.0.0.1", port=port, **kwargs)

    def factory(self) -> SMTP:
        return _TrackingSMTP(self.handler, **self.SMTP_kwargs)

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


@dataclass
class SmtpServer:
    handler: ScriptedHandler
    controller: Controller
    host: str
    port: int
    running: bool = True

    def spec(self, scheme: str = "smtp", *, user: str | None = None) -> TransportSpec:
        return TransportSpec(scheme=scheme, host=self.host, port=self.port, user=user)

    def stop(self) -> None:
        """Stop listening and serving (a second call does nothing)."""
        if self.running:
            self.running = False
            self.controller.stop()


def _check_login(
    server: SMTP, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    if isinstance(auth_data, LoginPassword) and auth_data.password == TEMPFAIL_PASSWORD.encode():
        return AuthResult(success=False, handled=False, message="454 4.7.0 try again later")
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: the server replies 535


StartServer = Callable[..., SmtpServer]


@pytest.fixture
def start_smtp() -> Iterator[StartServer]:
    """Start servers: ``start_smtp(auth=True, tls=ctx, implicit_tls=False, idle_timeout=300)``."""
    started: list[SmtpServer] = []

    def start(
        *,
        auth: bool = False,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
        idle_timeout: float = 300,
    ) -> SmtpServer:
        handler = ScriptedHandler()
        kwargs: dict[str, Any] = {"server_hostname": "mx.test", "timeout": idle_timeout}
        if auth:
            kwargs.update(authenticator=_check_login, auth_require_tls=tls is not None)
        if tls is not None and implicit_tls:
            kwargs["ssl_context"] = tls
        elif tls is not None:
            kwargs.update(tls_context=tls, require_starttls=True)
        controller = _BoundController(handler, **kwargs)
        controller.start()
        server = SmtpServer(handler, controller, "127.0.0.1", controller.port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def smtp_server(start_smtp: StartServer) -> SmtpServer:
    """A plain server without AUTH or TLS."""
    return start_smtp()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made with the openssl tool."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ),
            *("-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out"),
            *(str(cert), "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def server_tls(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    return context


@pytest.fixture
def trust_test_cert(tls_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``ssl.create_default_context()`` trust the test certificate (OpenSSL reads this)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files[0]))
