"""An IMAP folder as an inbox (imaplib, TLS verified with the system's trusted certificates).

One connection serves a whole ``with`` block. Messages are found by UID and fetched with
``BODY.PEEK[]`` in batches, so reading never sets ``\\Seen`` and a large folder costs a few round
trips; given ``wanted``, a run fetches every header (``BODY.PEEK[HEADER]``) and then only the
messages it wants. Filing uses MOVE (RFC 6851) when the server offers it, else UID COPY,
``\\Deleted`` and UID EXPUNGE (RFC 4315), which removes only that message. A server with neither
gets no EXPUNGE at all, since that would also remove every message a person marked deleted in
the folder: the filed message stays there marked ``\\Deleted``, which reading skips, until the
person's mail client expunges the folder.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from types import TracebackType
from typing import Any

from sessionctl.errors import RunError
from sessionctl.inbox import PROCESSED_FOLDER, InboxUnavailable, Item
from sessionctl.inbox.spec import PASSWORD_VARIABLE, InboxSpec

_BATCH = 200  # messages per UID FETCH: few round trips, bounded memory per response
_UID = re.compile(rb"\bUID (\d+)")
_INTERNALDATE = re.compile(
    rb'INTERNALDATE "\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)"'
)
_MONTHS = {
    name.encode(): number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_DELIMITER = re.compile(rb'\) (?:"((?:\\.|[^"\\])*)"|NIL) ')
_NAMESPACE_PREFIX = re.compile(rb'^\(\("((?:\\.|[^"\\])*)"')


class _Refused(RunError):
    """The server answered NO or BAD to a command."""

    def __init__(self, message: str, *, reply: str) -> None:
        super().__init__(message)
        self.reply = reply


class ImapInbox:
    """One IMAP folder read over one connection; see the module's notes."""

    def __init__(self, spec: InboxSpec, *, password: str, timeout: float) -> None:
        assert spec.host is not None and spec.port is not None and spec.user is not None
        self._spec = spec
        self._password = password
        self._timeout = timeout
        self._where = f"IMAP server {spec.host}:{spec.port}"
        self._conn: imaplib.IMAP4 | None = None
        self._capabilities: frozenset[str] = frozenset()
        self._processed: str | None = None  # the processed folder's name, once it exists
        self.address = spec.address

    def __repr__(self) -> str:
        return f"<IMAP inbox {self._spec.describe()}>"

    def __enter__(self) -> ImapInbox:
        conn = self._open()
        self._conn, self._processed = conn, None
        try:
            self._login(conn)
            self._capabilities = self._read_capabilities()
            self._select(conn)
        except BaseException:
            self._conn = None
            _close(conn)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            _close(conn)

    def items(self, wanted: Callable[[bytes], bool] | None = None) -> Iterator[Item]:
        """Every message in the folder not marked deleted, in UID order (the order they
        arrived); none is marked seen. With ``wanted``, only those whose header it accepts:
        the others are never downloaded."""
        uids = self._search_all()
        for start in range(0, len(uids), _BATCH):
            batch = uids[start : start + _BATCH]
            if wanted is not None:
                batch = [item.key for item in self._fetch(batch, "HEADER") if wanted(item.raw)]
            if batch:
                yield from self._fetch(batch, "")

    def file(self, key: str) -> None:
        """Move the message with UID ``key`` into the processed folder; gone already is fine.

        On a server with neither MOVE nor UIDPLUS the message is copied and marked
        ``\\Deleted`` but not expunged: a plain EXPUNGE would also remove what a person marked
        deleted in the folder. Reading skips it from then on."""
        if not key.isdigit():
            raise ValueError(f"not an IMAP UID: {key!r}")
        target = self._processed_folder()
        command = "MOVE" if "MOVE" in self._capabilities else "COPY"
        if command == "COPY" and not self._undeleted(key):
            return  # filed already and left marked deleted: a second copy would duplicate it
        try:
            self._call("uid", command, key, target)
        except _Refused as refused:
            if "[EXPUNGEISSUED]" in refused.reply:  # filed by another run since we looked
                return
            raise
        if command == "MOVE":
            return
        self._call("uid", "STORE", key, "+FLAGS.SILENT", r"(\Deleted)")
        if "UIDPLUS" in self._capabilities:
            self._call("uid", "EXPUNGE", key)
        # Else no EXPUNGE: it would remove what others marked deleted too (see the module).

    # -- connecting ------------------------------------------------------------------------

    def _open(self) -> imaplib.IMAP4:
        host, port = self._spec.host or "", self._spec.port or 0
        try:
            if self._spec.scheme == "imaps":
                context = ssl.create_default_context()
                return imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=self._timeout)
            conn = imaplib.IMAP4(host, port, timeout=self._timeout)
            if self._spec.scheme == "imap+starttls":
                self._starttls(conn)
            return conn
        except ssl.SSLCertVerificationError as err:
            raise RunError(
                f"TLS certificate of {self._where} not trusted: {err.verify_message}"
            ) from None
        except (imaplib.IMAP4.error, OSError) as err:  # refused, timed out, TLS failed
            raise InboxUnavailable(
                f"cannot reach {self._where}: {self._text(err)}; the inbox is read on the next run"
            ) from None

    def _starttls(self, conn: imaplib.IMAP4) -> None:
        if "STARTTLS" not in conn.capabilities:
            _close(conn)
            raise RunError(f"{self._where} does not offer STARTTLS: use imaps://")
        try:
            conn.starttls(ssl_context=ssl.create_default_context())
        except BaseException:
            _drop(conn)  # the TLS handshake failed: nothing more can be said on it
            raise

    def _login(self, conn: imaplib.IMAP4) -> None:
        user, password = self._spec.user or "", self._password
        who = f"{user} on {self._spec.host}"
        try:
            if "AUTH=PLAIN" in conn.capabilities:  # SASL PLAIN carries UTF-8 passwords
                token = f"\0{user}\0{password}".encode()
                conn.authenticate("PLAIN", lambda _challenge: token)
            elif not password.isascii():
                raise RunError(
                    f"{self._where} accepts only ASCII passwords (LOGIN), "
                    f"and {PASSWORD_VARIABLE} holds other characters"
                )
            elif not user.isascii():
                raise RunError(f"{self._where} accepts only ASCII user names (LOGIN): {user}")
            else:
                conn.login(_quoted_string(user), password)  # imaplib quotes only the password
        except imaplib.IMAP4.abort as err:  # the connection dropped
            raise InboxUnavailable(
                f"{self._where} closed the connection: {self._text(err)}"
            ) from None
        except imaplib.IMAP4.error as err:
            reply = self._text(err)
            if "[UNAVAILABLE]" in reply:  # RFC 5530: the password check is down for now
                raise InboxUnavailable(f"IMAP login for {who} failed for now: {reply}") from None
            raise RunError(
                f"IMAP login failed for {who}: {reply}; check {PASSWORD_VARIABLE}"
            ) from None
        except OSError as err:
            raise InboxUnavailable(f"{self._where} failed: {self._text(err)}") from None

    def _select(self, conn: imaplib.IMAP4) -> None:
        try:
            self._folder = self._server_name(conn, self._spec.folder)
            status, data = conn.select(_quoted(self._folder))
        except (imaplib.IMAP4.error, OSError) as err:
            raise InboxUnavailable(f"{self._where} failed: {self._text(err)}") from None
        if status != "OK":
            raise InboxUnavailable(
                f"cannot open folder {self._spec.folder!r} of {self._spec.user} on "
                f"{self._spec.host}: {_reply(data)}"
            )

    def _server_name(self, conn: imaplib.IMAP4, folder: str) -> str:
        """``folder`` with its ``/`` levels joined by the server's own separator."""
        if "/" not in folder:
            return folder
        status, data = conn.list('""', '""')
        found = (
            _DELIMITER.search(data[0]) if status == "OK" and isinstance(data[0], bytes) else None
        )
        delimiter = found[1].decode() if found and found[1] else "/"
        return folder.replace("/", delimiter)

    # -- reading and filing --------------------------------------------------------------

    def _search_all(self) -> list[str]:
        # Not those marked deleted: a person threw them away, or a filing stopped between its
        # COPY and its EXPUNGE, which left the message in the processed folder already.
        data = self._call("uid", "SEARCH", "UNDELETED")
        found = b" ".join(part for part in data if isinstance(part, bytes))
        return sorted(found.decode().split(), key=int)

    def _undeleted(self, key: str) -> bool:
        """Whether the message ``key`` is still in the folder and not marked deleted."""
        found = self._call("uid", "SEARCH", "UID", key, "UNDELETED")
        return key.encode() in b" ".join(part for part in found if isinstance(part, bytes)).split()

    def _fetch(self, uids: list[str], section: str) -> list[Item]:
        """The messages ``uids`` in UID order, whole (``section`` "") or their ``HEADER``."""
        query = f"(UID INTERNALDATE BODY.PEEK[{section}])"
        data = self._call("uid", "FETCH", ",".join(uids), query)
        # Messages filed meanwhile by another run are simply not in the answer.
        items = _parse_fetch(data, section=f"BODY[{section}]".encode())
        return sorted(items, key=lambda item: int(item.key))

    def _processed_folder(self) -> str:
        if self._processed is None:
            name = _quoted(self._namespace_prefix() + PROCESSED_FOLDER)
            if self._call("list", '""', name) == [None]:
                self._create(name)
            self._processed = name
        return self._processed

    def _create(self, name: str) -> None:
        try:
            self._call("create", name)
        except _Refused as refused:
            if "[ALREADYEXISTS]" not in refused.reply:  # else made by another run meanwhile
                raise RunError(
                    f"cannot create folder {name} on {self._spec.host}: {refused.reply}"
                ) from None

    def _read_capabilities(self) -> frozenset[str]:
        """The capabilities after login (they often grow: MOVE, UIDPLUS, NAMESPACE)."""
        try:
            data = self._call("capability")
        except _Refused:
            return frozenset(self._connection().capabilities)
        words = b" ".join(part for part in data if isinstance(part, bytes)).decode().upper()
        return frozenset(words.split())

    def _namespace_prefix(self) -> str:
        """Where this server puts a user's top-level folders (``INBOX.`` on some servers)."""
        if "NAMESPACE" not in self._capabilities:
            return ""
        data = self._call("namespace")
        first = data[0] if data and isinstance(data[0], bytes) else b""
        found = _NAMESPACE_PREFIX.search(first)
        return found[1].decode() if found else ""

    def _call(self, method: str, *args: str) -> list[Any]:
        """Run one imaplib command method; its untagged data. A NO or BAD is a ``RunError``."""
        command = getattr(self._connection(), method)
        try:
            status, data = command(*args)
        except imaplib.IMAP4.abort as err:
            raise InboxUnavailable(
                f"{self._where} closed the connection: {self._text(err)}"
            ) from None
        except (imaplib.IMAP4.error, OSError) as err:
            raise InboxUnavailable(f"{self._where} failed: {self._text(err)}") from None
        if status != "OK":
            what = " ".join((method.upper(), *args[:1]))
            raise _Refused(f"{self._where} refused {what}: {_reply(data)}", reply=_reply(data))
        return list(data)

    def _connection(self) -> imaplib.IMAP4:
        if self._conn is None:
            raise RuntimeError("use the inbox in a with block")
        return self._conn

    def _text(self, err: BaseException) -> str:
        """An error's text on one line, never the password (whatever a library put in it)."""
        text = " ".join(str(err).split()) or type(err).__name__
        if isinstance(err, TimeoutError):  # "timed out", "_ssl.c:989: The handshake operation…"
            text = f"no answer within {self._timeout:g} seconds"
        return text.replace(self._password, "***") if self._password else text


def _parse_fetch(data: Sequence[Any], *, section: bytes) -> list[Item]:
    """Items from a FETCH answer: a (prefix, literal) pair per message, then its closing part;
    ``raw`` is the literal of ``section`` (``BODY[]`` or ``BODY[HEADER]``)."""
    items, pending = [], None
    for part in [*data, None]:
        if isinstance(part, tuple):
            if pending is not None:
                items.append(_item(*pending, section=section))
            pending = (part[0], part[1], b"")
        elif isinstance(part, bytes) and pending is not None:
            # Data after the literal, e.g. b" UID 7)" when the server puts UID last.
            pending = (pending[0], pending[1], pending[2] + part)
        elif part is None and pending is not None:
            items.append(_item(*pending, section=section))
            pending = None
    return [item for item in items if item is not None]


def _item(prefix: bytes, literal: bytes, suffix: bytes, *, section: bytes) -> Item | None:
    meta = prefix + b" " + suffix
    uid = _UID.search(meta)
    if uid is None or section not in prefix:  # an unsolicited FETCH, such as a flag change
        return None
    return Item(key=uid[1].decode(), raw=literal, received_at=_internaldate(meta))


def _internaldate(meta: bytes) -> datetime | None:
    """The INTERNALDATE in ``meta`` (``"17-Jul-1996 02:44:25 -0700"``) as an aware UTC time."""
    found = _INTERNALDATE.search(meta)
    if found is None or found[2] not in _MONTHS:
        return None
    day, year, hour, minute, second = (int(found[i]) for i in (1, 3, 4, 5, 6))
    offset = timedelta(hours=int(found[8]), minutes=int(found[9]))
    zone = timezone(-offset if found[7] == b"-" else offset)
    try:
        local = datetime(year, _MONTHS[found[2]], day, hour, minute, second, tzinfo=zone)
    except ValueError:  # 31-Feb and the like
        return None
    return local.astimezone(UTC)


def _quoted(name: str) -> str:
    """A folder name as an IMAP quoted string, in modified UTF-7 (RFC 3501 5.1.3)."""
    return _quoted_string(_modified_utf7(name))


def _quoted_string(text: str) -> str:
    """``text`` as an IMAP quoted string: a user name may hold spaces, ``"`` or ``\\``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _modified_utf7(name: str) -> str:
    out, pending = [], []
    for char in [*name, None]:
        if char is not None and not 0x20 <= ord(char) <= 0x7E:
            pending.append(char)
            continue
        if pending:
            import base64

            utf16 = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(utf16).decode().rstrip("=").replace("/", ",") + "-")
            pending = []
        if char is not None:
            out.append("&-" if char == "&" else char)
    return "".join(out)


def _reply(data: Sequence[Any]) -> str:
    text = b" ".join(part for part in data if isinstance(part, bytes))
    return " ".join(text.decode("utf-8", "replace").split()) or "no reason given"


def _close(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except Exception:  # already gone or misbehaving: the socket is closed either way
        _drop(conn)


def _drop(conn: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown()
