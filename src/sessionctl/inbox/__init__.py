"""Inboxes: where members' replies, bounces and unsubscribe requests arrive. An IMAP folder or
a Maildir on this machine, read through one small interface::

    with open_inbox(spec, password=os.environ.get("SESSIONCTL_IMAP_PASSWORD")) as inbox:
        for item in inbox.items(wanted=may_be_ours):
            ...  # decide what item.raw means and record it
            inbox.file(item.key)

Reading never marks a message seen; a message is handled once it is filed into the
``sessionctl-processed`` folder, so a run that stops half-way leaves the rest for the next run,
and a message filed meanwhile by another run is simply gone. Entering the ``with`` block raises
``InboxUnavailable`` when the inbox cannot be reached now (try again on the next run) and
``RunError`` when trying again cannot help, such as a rejected password.

``items(wanted=...)`` reads each message's header first and downloads only the messages
``wanted`` accepts: the inbox may be someone's own mailbox, whose mail is none of ours to read.

``imaplib`` and ``ssl`` are imported only on the IMAP path, by ``sessionctl.inbox.imap``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol

from sessionctl.errors import InputError, RunError
from sessionctl.inbox.ours import may_be_ours
from sessionctl.inbox.spec import PASSWORD_VARIABLE, InboxSpec, parse_inbox

__all__ = [
    "PROCESSED_FOLDER",
    "InboxSpec",
    "InboxUnavailable",
    "Item",
    "Mailbox",
    "may_be_ours",
    "open_inbox",
    "parse_inbox",
]

PROCESSED_FOLDER = "sessionctl-processed"  # in a Maildir, the Maildir++ folder of that name


class InboxUnavailable(RunError):
    """The inbox cannot be read now (server unreachable, folder missing): nothing was read."""


@dataclass(frozen=True)
class Item:
    """One message in the inbox, as it arrived."""

    key: str  # the IMAP UID or the Maildir key: what ``Mailbox.file`` takes
    raw: bytes  # the whole message
    received_at: datetime | None  # aware UTC: IMAP INTERNALDATE, Maildir delivery time


class Mailbox(Protocol):
    """An inbox holding one connection; entering opens it, leaving closes it."""

    address: str | None  # the inbox's email address when the login user is one

    def __enter__(self) -> Mailbox: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def items(self, wanted: Callable[[bytes], bool] | None = None) -> Iterator[Item]:
        """Every message in the folder, oldest first, read without marking it seen.

        With ``wanted``, each message's header (its bytes up to the blank line) is read first
        and only the messages for which ``wanted(header)`` is true are read whole and yielded.
        """
        ...

    def file(self, key: str) -> None:
        """Move one message into the processed folder; a message already gone is no error."""
        ...


def open_inbox(spec: InboxSpec, *, password: str | None, timeout: float = 30.0) -> Mailbox:
    """The inbox ``spec`` names, not yet connected: use it in a ``with`` block.

    IMAP needs ``password`` (from SESSIONCTL_IMAP_PASSWORD); a Maildir ignores it.
    """
    if spec.scheme == "maildir":
        from sessionctl.inbox.maildir import MaildirInbox

        assert spec.path is not None
        return MaildirInbox(spec.path)
    if not password:
        raise InputError(
            f"inbox {spec.describe()} logs in as {spec.user}: "
            f"set {PASSWORD_VARIABLE} to its password"
        )
    from sessionctl.inbox.imap import ImapInbox

    return ImapInbox(spec, password=password, timeout=timeout)
