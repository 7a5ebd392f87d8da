"""A real IMAP server for the tests: Dovecot on free 127.0.0.1 ports, with a config of its own.

One server per test process (``dovecot``, session-scoped) serves IMAPS on one port and IMAP
with STARTTLS on another, with a self-signed certificate for 127.0.0.1 and localhost. Each test
gets a fresh account (``imap_account``): a user of the server's passwd-file that no test used
before, with an empty Maildir, and ``SSL_CERT_FILE`` pointing at the server's certificate so that
``ssl.create_default_context()`` trusts it. Other test folders reuse the fixtures with
``from tests.imapserver import dovecot, imap_account  # noqa: F401`` in their conftest.py.

Dovecot refuses to give root access to mail, so as root the mail lives in a folder owned by the
``dovecot`` user (made by the Debian package), under a short temporary folder outside the test's
tmp_path, since the sockets in Dovecot's run folder must have paths under 108 bytes.
"""

from __future__ import annotations

import contextlib
import imaplib
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from sessionctl.inbox import PROCESSED_FOLDER
from sessionctl.inbox.spec import InboxSpec

DOVECOT = Path("/usr/sbin/dovecot")
PASSWORD = "correct horse battery staple"
HOST = "127.0.0.1"
USERS = 1000  # accounts per server, one per test that asks
# A user whose password is not ASCII: IMAP LOGIN cannot send it, SASL PLAIN can.
UNICODE_USER, UNICODE_PASSWORD = "unicode@example.com", "pässwörd ☕ 42"
# A user whose name holds a space (IMAP LOGIN must send it as a quoted string).
SPACE_USER = "coffee room@example.com"
# Capabilities of a server without MOVE, to exercise the COPY fallback.
WITHOUT_MOVE = "IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS"
# Neither MOVE nor UIDPLUS: filing can only COPY and mark deleted.
WITHOUT_MOVE_OR_UIDPLUS = "IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost and its key, made with openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt"),
            *("ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass(frozen=True)
class Stored:
    """A message as the server holds it."""

    uid: int
    flags: frozenset[str]
    internaldate: bytes
    raw: bytes


@dataclass
class Account:
    """One user of the server, with its own empty mailbox."""

    server: Dovecot
    user: str
    password: str = PASSWORD

    def spec(self, scheme: str = "imaps", *, folder: str = "INBOX") -> InboxSpec:
        port = self.server.imaps_port if scheme == "imaps" else self.server.imap_port
        return InboxSpec(scheme=scheme, host=HOST, port=port, user=self.user, folder=folder)

    def append(
        self, raw: bytes, folder: str = "INBOX", *, when: datetime | None = None, flags: str = ""
    ) -> int:
        """Store ``raw`` in ``folder`` with IMAP APPEND (``when``: its INTERNALDATE); its UID."""
        with self.connect() as conn:
            status, data = conn.append(_quoted(folder), flags or None, when, raw)
        assert status == "OK", data
        found = re.search(rb"APPENDUID \d+ (\d+)", data[0])
        assert found, data
        return int(found[1])

    def deliver(self, raws: Iterable[bytes]) -> None:
        """Put messages straight into the INBOX's Maildir, as a delivery agent does: much faster
        than APPEND for many messages. They arrive in the order given, a second apart."""
        home = self.server.run_dir / "mail" / self.user
        for sub in ("", "tmp", "new", "cur"):
            (home / sub).mkdir(exist_ok=True)
            _give_to_mail_user(home / sub)
        start = int(time.time()) - 86_400
        for number, raw in enumerate(raws):
            name = f"{start + number}.M{number}P{os.getpid()}.sessionctl-test"
            temp = home / "tmp" / name
            temp.write_bytes(raw.replace(b"\r\n", b"\n"))
            _give_to_mail_user(temp)
            temp.rename(home / "new" / name)

    def create(self, folder: str) -> None:
        with self.connect() as conn:
            status, data = conn.create(_quoted(folder))
        assert status == "OK", data

    def messages(self, folder: str = "INBOX") -> list[Stored]:
        """The messages in ``folder`` in UID order (none if it does not exist), read with PEEK."""
        with self.connect() as conn:
            status, _ = conn.select(_quoted(folder), readonly=True)
            if status != "OK":
                return []
            status, data = conn.uid("FETCH", "1:*", "(UID FLAGS INTERNALDATE BODY.PEEK[])")
        assert status == "OK", data
        return [_stored(part) for part in data if isinstance(part, tuple)]

    def processed(self) -> list[Stored]:
        """The messages filed into the processed folder."""
        return self.messages(PROCESSED_FOLDER)

    def connect(self) -> imaplib.IMAP4_SSL:
        """A logged-in IMAPS connection trusting the server's certificate (a context manager)."""
        context = ssl.create_default_context(cafile=self.server.cert)
        conn = imaplib.IMAP4_SSL(HOST, self.server.imaps_port, ssl_context=context, timeout=10)
        conn.login(_quoted(self.user), self.password)  # imaplib quotes only the password
        return conn


@dataclass
class Dovecot:
    """A running Dovecot; ``stop()`` ends it."""

    folder: Path
    run_dir: Path
    cert: Path
    imaps_port: int
    imap_port: int
    process: subprocess.Popen[bytes]
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    @property
    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def new_account(self) -> Account:
        """A user with an empty mailbox that no one used before."""
        number = next(self._numbers)
        if number >= USERS:
            raise RuntimeError(f"all {USERS} users of this Dovecot are taken: raise USERS")
        return Account(self, _user(number))

    def stop(self) -> None:
        if self.process.poll() is None:
            # The whole group at once: the master alone would stop its processes one by one.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.run_dir, ignore_errors=True)


def start_dovecot(folder: Path, *, capabilities: str | None = None) -> Dovecot:
    """Start Dovecot with its config, log and certificate in ``folder``; skip without Dovecot.

    ``capabilities`` replaces the IMAP capabilities the server announces after login.
    """
    if not DOVECOT.exists():
        pytest.skip(f"{DOVECOT} is needed for the IMAP tests (Debian: apt install dovecot-imapd)")
    cert, key = make_certificate(folder / "tls")
    for _attempt in range(3):  # another process may take a free port before Dovecot binds it
        server = _launch(folder, cert=cert, key=key, capabilities=capabilities)
        if _wait_ready(server):
            return server
        server.stop()
    raise RuntimeError(f"Dovecot did not start; its log:\n{server.log}")


def _launch(folder: Path, *, cert: Path, key: Path, capabilities: str | None) -> Dovecot:
    run_dir = Path(tempfile.mkdtemp(prefix="sctl-dc-"))
    mail = run_dir / "mail"
    mail.mkdir()
    imaps_port, imap_port = _free_port(), _free_port()
    config = _config(folder, run_dir=run_dir, cert=cert, key=key, ports=(imaps_port, imap_port))
    if capabilities is not None:
        config += f"protocol imap {{\n  imap_capability = {capabilities}\n}}\n"
    _give_to_mail_user(mail)
    run_dir.chmod(0o711)  # the mail user passes through; it cannot list
    (folder / "dovecot.conf").write_text(config)
    # Every user up front: Dovecot rereads a changed passwd-file at most once a second.
    users = "".join(f"{_user(n)}:{{PLAIN}}{PASSWORD}::::::nodelay=yes\n" for n in range(USERS))
    users += f"{UNICODE_USER}:{{PLAIN}}{UNICODE_PASSWORD}::::::nodelay=yes\n"
    users += f"{SPACE_USER}:{{PLAIN}}{PASSWORD}::::::nodelay=yes\n"
    (folder / "passwd").write_text(users, encoding="utf-8")
    with open(folder / "dovecot.stderr", "ab") as stderr:
        process = subprocess.Popen(
            [str(DOVECOT), "-F", "-c", str(folder / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # its own process group, stopped as one
        )
    return Dovecot(folder, run_dir, cert, imaps_port, imap_port, process)


def _config(folder: Path, *, run_dir: Path, cert: Path, key: Path, ports: tuple[int, int]) -> str:
    if os.geteuid() == 0:
        users = (
            "default_internal_user = dovecot\ndefault_login_user = dovenull\n"
            "mail_uid = dovecot\nmail_gid = dovecot\n"
            # The auth process reads the passwd-file inside the test's root-only tmp_path.
            "service auth {\n  user = root\n}\n"
        )
    else:
        me = pwd.getpwuid(os.geteuid()).pw_name
        users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
    return f"""\
base_dir = {run_dir}/run
state_dir = {run_dir}/state
instance_name = sessionctl-test-{ports[0]}
protocols = imap
listen = {HOST}
log_path = {folder}/dovecot.log
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = plain login
auth_failure_delay = 0
auth_username_chars =  # any character, the space of SPACE_USER included
mail_fsync = never  # a test server: speed over surviving a crash of the machine
first_valid_uid = 1
first_valid_gid = 1
{users}
mail_location = maildir:{run_dir}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {folder}/passwd
}}
userdb {{
  driver = passwd-file
  args = {folder}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {HOST}
    port = {ports[1]}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {ports[0]}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No growing delay after the tests' wrong passwords: the next test logs in at once.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def _give_to_mail_user(path: Path) -> None:
    if os.geteuid() == 0:
        owner = pwd.getpwnam("dovecot")
        os.chown(path, owner.pw_uid, owner.pw_gid)


def _user(number: int) -> str:
    return f"inbox{number}@example.com"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _wait_ready(server: Dovecot, *, timeout: float = 15.0) -> bool:
    """Wait until both ports greet; False if Dovecot exited (a port was taken meanwhile)."""
    deadline = time.monotonic() + timeout
    pending = {server.imaps_port, server.imap_port}
    while pending and time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        for port in list(pending):
            try:
                with socket.create_connection((HOST, port), timeout=1) as sock:
                    if port == server.imaps_port or sock.recv(4).startswith(b"* OK"):
                        pending.discard(port)
            except OSError:
                time.sleep(0.02)
    return not pending


def _stored(part: tuple[bytes, bytes]) -> Stored:
    meta, raw = part
    uid = re.search(rb"UID (\d+)", meta)
    flags = re.search(rb"FLAGS \(([^)]*)\)", meta)
    date = re.search(rb'INTERNALDATE "([^"]+)"', meta)
    assert uid and flags and date, meta
    return Stored(int(uid[1]), frozenset(flags[1].decode().split()), date[1], raw)


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """One Dovecot for this test process."""
    server = start_dovecot(tmp_path_factory.mktemp("dovecot"))
    yield server
    server.stop()


@pytest.fixture
def imap_account(dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> Account:
    """A fresh account on the session's Dovecot, whose certificate this test trusts."""
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.cert))
    return dovecot.new_account()


@pytest.fixture(scope="session")
def old_dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """A Dovecot announcing neither MOVE nor UIDPLUS after login: clients file with COPY."""
    server = start_dovecot(tmp_path_factory.mktemp("dovecot"), capabilities=WITHOUT_MOVE_OR_UIDPLUS)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dovecot_without_move(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dovecot]:
    """A Dovecot that announces no MOVE after login: clients fall back to COPY."""
    server = start_dovecot(tmp_path_factory.mktemp("dovecot"), capabilities=WITHOUT_MOVE)
    yield server
    server.stop()
