"""A Maildir on this machine as an inbox, as a local delivery agent (Postfix, Dovecot's LDA,
procmail, fetchmail) fills it.

A message's key is its Maildir unique name, without the ``:2,FLAGS`` info that mail clients
append. Filing flags the message seen (``S``) and renames it into the Maildir++ folder
``.sessionctl-processed`` beside ``cur/``, which mail clients show as a folder of the inbox; a
rename on one file system is atomic, so two runs never both file one message. The standard
library's ``mailbox.Maildir`` checks the folder and makes the processed one; the files are
listed here, since that class hides where each file is and rewrites messages it moves.
"""

from __future__ import annotations

import contextlib
import mailbox
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from sessionctl.errors import RunError
from sessionctl.inbox import PROCESSED_FOLDER, InboxUnavailable, Item

_INFO = ":2,"
_HEADER_LIMIT = 1 << 20  # a "header" without a blank line this far in is read as all header
# Delivery agents start a name with the delivery time in seconds: "1733050000.M5P7.host".
_NAME_TIME = re.compile(r"(\d{9,11})\.")


class MaildirInbox:
    """The messages in ``new/`` and ``cur/`` of the Maildir at ``path``; see the module's notes."""

    address: str | None = None  # a Maildir does not know the address mail is sent to

    def __init__(self, path: Path) -> None:
        self._path = path
        self._box: mailbox.Maildir | None = None
        self._files: dict[str, str] = {}  # key -> file name relative to the Maildir
        self._processed: Path | None = None

    def __repr__(self) -> str:
        return f"<Maildir inbox {self._path}>"

    def __enter__(self) -> MaildirInbox:
        missing = [sub for sub in ("cur", "new", "tmp") if not (self._path / sub).is_dir()]
        if not self._path.is_dir():
            raise InboxUnavailable(f"inbox maildir {self._path} does not exist")
        if missing:
            raise InboxUnavailable(
                f"inbox {self._path} is not a Maildir: it has no {', '.join(missing)} folder"
            )
        self._box = mailbox.Maildir(self._path, factory=None, create=False)
        self._files, self._processed = {}, None
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._box = None

    def items(self, wanted: Callable[[bytes], bool] | None = None) -> Iterator[Item]:
        """Every message in ``new/`` and ``cur/``, oldest delivery first; flags are untouched.
        With ``wanted``, only those whose header it accepts: the rest of a file not wanted is
        never read."""
        self._files = self._scan()
        found = []
        for key, name in self._files.items():
            with contextlib.suppress(FileNotFoundError):  # filed meanwhile by another run
                found.append((key, _received_at(self._path / name)))
        found.sort(key=lambda pair: (pair[1], pair[0]))
        for key, received_at in found:
            path = self._path / self._files[key]
            try:
                raw = _read(path, wanted=wanted)
            except FileNotFoundError:
                continue
            except OSError as err:
                raise RunError(f"cannot read {path}: {err.strerror}") from None
            if raw is not None:
                yield Item(key=key, raw=raw, received_at=received_at)

    def file(self, key: str) -> None:
        """Flag the message ``key`` seen and move it into the processed folder; gone is fine."""
        if not key or "/" in key or key.startswith(".") or ":" in key:
            raise ValueError(f"not a Maildir key: {key!r}")
        name = self._files.get(key) or self._scan().get(key)
        for attempt in (1, 2):
            if name is None:
                return  # another run filed it
            try:
                os.rename(self._path / name, self._processed_folder() / "cur" / _seen(key, name))
            except FileNotFoundError:
                if attempt == 2:
                    raise
                # Moved meanwhile: from new/ to cur/ by a mail client, or filed by another run.
                name = self._scan().get(key)
            else:
                break
        self._files.pop(key, None)

    def _scan(self) -> dict[str, str]:
        files = {}
        for sub in ("new", "cur"):
            try:
                names = os.listdir(self._path / sub)
            except OSError as err:
                raise InboxUnavailable(
                    f"cannot read maildir {self._path}: {err.strerror}"
                ) from None
            for entry in names:
                if not entry.startswith("."):
                    files[entry.partition(":")[0]] = f"{sub}/{entry}"
        return files

    def _processed_folder(self) -> Path:
        if self._processed is None:
            if self._box is None:
                raise RuntimeError("use the inbox in a with block")
            try:
                self._box.add_folder(PROCESSED_FOLDER)  # Maildir++: ".sessionctl-processed"
            except OSError as err:
                raise RunError(
                    f"cannot make folder {PROCESSED_FOLDER} in {self._path}: {err.strerror}"
                ) from None
            self._processed = self._path / f".{PROCESSED_FOLDER}"
        return self._processed


def _read(path: Path, *, wanted: Callable[[bytes], bool] | None) -> bytes | None:
    """The message in ``path``; None when ``wanted`` refuses its header."""
    with open(path, "rb") as stream:
        if wanted is None:
            return stream.read()
        header = _read_header(stream)
        return header + stream.read() if wanted(header) else None


def _read_header(stream: BinaryIO) -> bytes:
    """The header lines from ``stream``, with the blank line that ends them."""
    lines, size = [], 0
    for line in stream:
        lines.append(line)
        size += len(line)
        if line in (b"\n", b"\r\n") or size >= _HEADER_LIMIT:
            break
    return b"".join(lines)


def _seen(key: str, name: str) -> str:
    """The file name of ``key`` flagged seen, keeping the flags ``name`` has."""
    flags = set(name.partition(_INFO)[2]) if _INFO in name else set()
    return f"{key}{_INFO}{''.join(sorted(flags | {'S'}))}"


def _received_at(path: Path) -> datetime:
    """When the message was delivered: the time its name starts with, else its file's mtime."""
    found = _NAME_TIME.match(path.name)
    seconds = int(found[1]) if found else path.stat().st_mtime
    return datetime.fromtimestamp(seconds, UTC)
