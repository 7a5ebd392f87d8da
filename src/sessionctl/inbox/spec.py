"""The inbox setting: where replies, bounces and unsubscribe requests are read from.

Written as people write mail settings: ``imaps://USER@HOST[:993]/FOLDER``,
``imap+starttls://USER@HOST[:143]/FOLDER`` or ``maildir:PATH``. The password is never part of
it: it comes from ``SESSIONCTL_IMAP_PASSWORD`` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from sessionctl.domain.urls import is_loopback, redact
from sessionctl.errors import InputError

_USAGE = "use imaps://USER@HOST:993/FOLDER, imap+starttls://USER@HOST:143/FOLDER or maildir:PATH"
_DEFAULT_PORTS = {"imaps": 993, "imap+starttls": 143, "imap": 143}
PASSWORD_VARIABLE = "SESSIONCTL_IMAP_PASSWORD"
# CR or LF in a user or folder name would end an IMAP command early and start another.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class InboxSpec:
    """A parsed inbox setting. It never holds a password."""

    scheme: str  # "imaps" | "imap+starttls" | "imap" | "maildir"
    host: str | None = None
    port: int | None = None
    user: str | None = None
    folder: str = "INBOX"
    path: Path | None = None  # maildir

    def describe(self) -> str:
        """The setting as people write it, e.g. ``imaps://replies@example.com@mail.example.com:993/INBOX``."""
        if self.scheme == "maildir":
            return f"maildir:{self.path}"
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        user = f"{quote(self.user or '', safe='@')}@"
        return f"{self.scheme}://{user}{host}:{self.port}/{quote(self.folder, safe='/')}"

    @property
    def address(self) -> str | None:
        """The inbox's email address, when the login user is one (``replies@example.com``)."""
        user = self.user or ""
        local, at, domain = user.rpartition("@")
        return user if at and local and "." in domain else None


def parse_inbox(text: str) -> InboxSpec:
    """Parse ``imaps://USER@HOST[:PORT]/FOLDER``, ``imap+starttls://USER@HOST[:PORT]/FOLDER``
    (default ports 993 and 143; FOLDER defaults to INBOX) or ``maildir:PATH``; raises
    ``InputError``.

    USER may be an email address, written with ``%40`` or a plain ``@``: the last ``@`` starts
    the host. FOLDER may hold ``%20`` for spaces and ``/`` between levels of folders. A password
    in the setting is refused: it belongs in SESSIONCTL_IMAP_PASSWORD only. Plain ``imap://``
    is accepted only for a loopback host, since it would send the password unencrypted.
    """
    stripped = text.strip()
    scheme, colon, rest = stripped.partition(":")
    if scheme.lower() == "maildir" and colon:
        return _parse_maildir(stripped, rest)
    if not colon or scheme.lower() not in _DEFAULT_PORTS:
        raise InputError(f"invalid inbox {redact(stripped)!r}: {_USAGE}")
    return _parse_imap(stripped)


def _parse_maildir(text: str, rest: str) -> InboxSpec:
    if not rest.strip():
        raise InputError(f"invalid inbox {text!r}: {_USAGE}")
    try:
        path = Path(rest).expanduser()
    except RuntimeError as err:  # ~someone who does not exist
        raise InputError(f"invalid inbox {text!r}: {err}") from None
    return InboxSpec(scheme="maildir", path=path)


def _parse_imap(text: str) -> InboxSpec:
    invalid = InputError(f"invalid inbox {redact(text)!r}: {_USAGE}")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # a port that is not a number in 0-65535
        raise invalid from None
    if parts.password is not None:
        raise InputError(
            f"inbox {redact(text)!r} holds a password: remove it and set {PASSWORD_VARIABLE}"
        )
    if not parts.hostname or not parts.username or parts.query or parts.fragment or port == 0:
        raise invalid
    scheme, user = parts.scheme.lower(), unquote(parts.username)
    folder = unquote(parts.path.removeprefix("/")) or "INBOX"
    if _CONTROL.search(user) or _CONTROL.search(folder) or "" in folder.split("/"):
        raise invalid
    if scheme == "imap" and not is_loopback(parts.hostname):
        raise InputError(
            f"inbox {text!r} would send the password unencrypted: "
            "use imaps://USER@HOST:993/FOLDER or imap+starttls://USER@HOST:143/FOLDER"
        )
    return InboxSpec(
        scheme=scheme,
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[scheme],
        user=user,
        folder=folder,
    )
