"""Transports: where composed messages go. A Maildir on this machine, or an SMTP server.

A transport is a context manager that holds one connection for a whole run::

    with open_transport(spec, password=os.environ.get("SESSIONCTL_SMTP_PASSWORD")) as transport:
        result = transport.send(msg, to=envelope_recipients(msg))

``send`` never raises for one message's failure: it returns a ``SendResult`` that says whether
the message was delivered, failed for good (5xx), or should be retried later (4xx, lost
connection). Entering the ``with`` block raises ``TransportUnavailable`` when the server cannot be
reached (retry every message later) and ``DeliveryError`` when retrying cannot help, such as a
rejected password.

``smtplib`` and ``ssl`` are imported only on the SMTP path: commands that never send stay quick.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, unquote, urlsplit

from sessionctl.domain.urls import is_loopback, redact
from sessionctl.errors import DeliveryError, InputError

if TYPE_CHECKING:
    import smtplib
    from collections.abc import Sequence
    from email.message import EmailMessage

_USAGE = (
    "use maildir:PATH, smtp://HOST:PORT, smtp+starttls://USER@HOST:587 or smtps://USER@HOST:465"
)
_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
_PASSWORD_HINT = "SESSIONCTL_SMTP_PASSWORD"


class TransportUnavailable(DeliveryError):
    """The server could not be reached: nothing was sent, every message should be retried."""


@dataclass(frozen=True)
class SendResult:
    """What became of one message. ``temporary`` only matters when ``ok`` is false."""

    ok: bool
    temporary: bool
    code: int | None
    reply: str


class Transport(Protocol):
    """Delivers messages; entering opens the connection, leaving closes it."""

    def __enter__(self) -> Transport: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def send(self, msg: EmailMessage, *, to: Sequence[str]) -> SendResult: ...


@dataclass(frozen=True)
class TransportSpec:
    """A parsed transport setting. It never holds a password."""

    scheme: str  # "maildir" | "smtp" | "smtp+starttls" | "smtps"
    path: Path | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None

    def describe(self) -> str:
        """The setting as people read and write it, e.g. ``smtps://alice@mail.example.com:465``."""
        if self.scheme == "maildir":
            return f"maildir:{self.path}"
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        user = f"{quote(self.user, safe='@')}@" if self.user else ""
        return f"{self.scheme}://{user}{host}:{self.port}"


def parse_transport(spec: str, *, default_maildir: Path) -> TransportSpec:
    """Parse ``maildir:[PATH]``, ``smtp://HOST[:PORT]``, ``smtp+starttls://[USER@]HOST[:PORT]``
    or ``smtps://[USER@]HOST[:PORT]`` (default ports 25, 587, 465); raises ``InputError``.

    A password in the setting is refused: it belongs in SESSIONCTL_SMTP_PASSWORD only. Plain
    ``smtp://`` with a user is allowed only to a loopback host, since it would send the
    password unencrypted.
    """
    text = spec.strip()
    scheme, colon, rest = text.partition(":")
    if scheme.lower() == "maildir":
        try:
            path = Path(rest).expanduser() if rest else default_maildir
        except RuntimeError as err:  # ~someone who does not exist
            raise InputError(f"invalid transport {spec!r}: {err}") from None
        return TransportSpec(scheme="maildir", path=path)
    if not colon or scheme.lower() not in _DEFAULT_PORTS:
        raise InputError(f"invalid transport {redact(text)!r}: {_USAGE}")
    return _parse_smtp(text)


def open_transport(
    spec: TransportSpec, *, password: str | None, timeout: float = 30.0
) -> Transport:
    """A transport for ``spec``, not yet connected: use it in a ``with`` block.

    ``password`` is used only when ``spec.user`` is set, and is then required.
    """
    if spec.scheme == "maildir":
        from sessionctl.delivery.maildir import MaildirTransport

        assert spec.path is not None
        return MaildirTransport(spec.path)
    if spec.user is not None:
        if not password:
            raise InputError(
                f"{spec.describe()} logs in as {spec.user}: set {_PASSWORD_HINT} to its password"
            )
        if not password.isascii():  # smtplib would fail, quoting the password in its error
            raise InputError(f"{_PASSWORD_HINT} holds non-ASCII characters, which SMTP cannot send")
    return _SmtpTransport(spec, password=password if spec.user else None, timeout=timeout)


def _parse_smtp(text: str) -> TransportSpec:
    invalid = InputError(f"invalid transport {redact(text)!r}: {_USAGE}")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # a port that is not a number in 0-65535
        raise invalid from None
    scheme = parts.scheme.lower()
    if parts.password is not None:
        raise InputError(
            f"transport {redact(text)!r} holds a password: remove it and set {_PASSWORD_HINT}"
        )
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise invalid
    if port == 0:
        raise invalid
    user = unquote(parts.username) if parts.username else None
    if user and scheme == "smtp" and not is_loopback(parts.hostname):
        raise InputError(
            f"transport {text!r} would send the password unencrypted: "
            "use smtp+starttls://USER@HOST:587 or smtps://USER@HOST:465"
        )
    return TransportSpec(
        scheme=scheme, host=parts.hostname, port=port or _DEFAULT_PORTS[scheme], user=user
    )


class _SmtpTransport:
    """Sends over one SMTP connection per ``with`` block; reconnects once if it is dropped."""

    def __init__(self, spec: TransportSpec, *, password: str | None, timeout: float) -> None:
        assert spec.host is not None and spec.port is not None
        self._spec = spec
        self._host, self._port = spec.host, spec.port
        self._password = password
        self._timeout = timeout
        self._conn: smtplib.SMTP | None = None
        self._down: str | None = None  # why a reconnect failed; later sends skip the wait
        self._active = False

    def __repr__(self) -> str:
        return f"<SMTP transport {self._spec.describe()}>"

    def __enter__(self) -> _SmtpTransport:
        self._conn = self._connect()
        self._down, self._active = None, True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._active = False
        self._close()

    def send(self, msg: EmailMessage, *, to: Sequence[str]) -> SendResult:
        """Send ``msg`` to the envelope recipients ``to``; 5xx is permanent, the rest temporary.

        With several recipients, ``ok`` means all accepted it, and a refusal is temporary only
        if every refusal was; prefer one recipient per message.
        """
        import smtplib

        if isinstance(to, str) or not to:
            raise TypeError("to must be a non-empty sequence of addresses")
        if not self._active:
            raise RuntimeError("use the transport in a with block")
        if self._down is not None:
            return SendResult(False, True, None, self._down)
        sender, data = _sender_address(msg), msg.as_bytes()
        for attempt in (1, 2):
            try:
                refused = self._connection().sendmail(sender, list(to), data)
            except TransportUnavailable as err:
                self._down = str(err)
                return SendResult(False, True, None, self._down)
            except (smtplib.SMTPServerDisconnected, ConnectionError) as err:
                self._close()
                if attempt == 2:
                    return SendResult(False, True, None, f"connection lost: {_text(err)}")
            except smtplib.SMTPRecipientsRefused as err:
                return _refused(err.recipients)
            except smtplib.SMTPResponseException as err:
                return _classify(err.smtp_code, err.smtp_error)
            except (smtplib.SMTPException, OSError) as err:  # timeouts and the like
                self._close()  # the conversation's state is unknown: start afresh next time
                return SendResult(False, True, None, f"SMTP error: {_text(err)}")
            else:
                return _refused(refused) if refused else _accepted(self._host)
        raise AssertionError("unreachable")

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None or self._conn.sock is None:
            self._close()
            self._conn = self._connect()
        return self._conn

    def _connect(self) -> smtplib.SMTP:
        import smtplib
        import ssl

        where = f"{self._host}:{self._port}"
        try:
            return self._open()
        except ssl.SSLCertVerificationError as err:
            raise DeliveryError(
                f"TLS certificate of SMTP server {where} not trusted: {err.verify_message}"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise DeliveryError(
                f"SMTP server {where} does not offer STARTTLS: use smtps:// or smtp://"
            ) from None
        except (smtplib.SMTPException, OSError) as err:
            raise TransportUnavailable(
                f"cannot reach SMTP server {where}: {_text(err)}; messages wait for a retry"
            ) from None

    def _open(self) -> smtplib.SMTP:
        import smtplib
        import ssl

        conn: smtplib.SMTP
        if self._spec.scheme == "smtps":
            context = ssl.create_default_context()
            conn = smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout, context=context)
        else:
            conn = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        try:
            conn.ehlo()
            if self._spec.scheme == "smtp+starttls":
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if self._spec.user is not None:
                self._login(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _login(self, conn: smtplib.SMTP) -> None:
        import smtplib

        user, where = self._spec.user or "", f"{self._spec.user}@{self._host}"
        try:
            conn.login(user, self._password or "")
        except smtplib.SMTPAuthenticationError as err:
            if 400 <= err.smtp_code < 500:  # e.g. 454: the server's password check is down
                raise TransportUnavailable(
                    f"SMTP authentication for {where} failed for now: {_reply(err)}"
                ) from None
            raise DeliveryError(
                f"SMTP authentication failed for {where}: check {_PASSWORD_HINT}"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise DeliveryError(
                f"SMTP server {self._host}:{self._port} does not offer login (AUTH) "
                "on this connection: use smtp+starttls:// or smtps://, or remove the user"
            ) from None
        except (smtplib.SMTPResponseException, smtplib.SMTPServerDisconnected):
            raise  # EHLO refused or connection lost: the caller reports the server unavailable
        except smtplib.SMTPException as err:  # "No suitable authentication method found."
            raise DeliveryError(f"SMTP login for {where} impossible: {_text(err)}") from None

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except Exception:  # already gone or misbehaving: the socket is closed either way
            conn.close()


def _sender_address(msg: EmailMessage) -> str:
    from email.headerregistry import AddressHeader

    header = msg["From"]
    if not isinstance(header, AddressHeader) or len(header.addresses) != 1:
        raise ValueError("message needs exactly one From address, built with an email policy")
    return header.addresses[0].addr_spec


def _refused(recipients: dict[str, tuple[int, bytes]]) -> SendResult:
    results = [_classify(code, reply) for code, reply in recipients.values()]
    if len(results) == 1:
        return results[0]
    worst = next((result for result in results if not result.temporary), results[0])
    details = "; ".join(
        f"{addr}: {_reply_text(code, reply)}" for addr, (code, reply) in recipients.items()
    )
    return SendResult(False, worst.temporary, worst.code, details)


def _classify(code: int, reply: bytes | str) -> SendResult:
    """5xx is permanent; anything else that is not a success is worth a retry."""
    return SendResult(False, not 500 <= code < 600, code, _reply_text(code, reply))


def _accepted(host: str) -> SendResult:
    return SendResult(True, False, 250, f"accepted by {host}")


def _reply(err: smtplib.SMTPResponseException) -> str:
    return _reply_text(err.smtp_code, err.smtp_error)


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(f"{code} {text}".split())  # multi-line replies on one line


def _text(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__
