"""The Maildir transport: each message is one private file, written at most once.

A message's file name is derived from its Message-ID, which is stored before the first attempt.
A run killed after writing a message but before recording it leaves the file behind; the retry
finds it in ``new/`` (or in ``cur/``, where a mail client moves what it has seen) and reports the
message delivered without writing it again. The file is written in ``tmp/`` (mode 0600, synced),
then hard-linked into ``new/``: the link fails if another run placed the same message first, so
two writers of one message leave one file. ``new/`` is synced before the send is reported, so a
recorded send survives a crash of the machine. The guarantee rests on the files: a message that
a program removes from ``new/`` and ``cur/`` before its send was recorded is written again.

Mail clients read the folder as usual: names hold no ``/`` or ``:`` and follow the Maildir rules.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from sessionctl.delivery.transports import SendResult
from sessionctl.errors import DeliveryError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from email.message import EmailMessage

_FILE_MODE = 0o600  # a message holds the member's personal links
_FOLDER_MODE = 0o700
_SUFFIX = ".sessionctl"
# Directory timestamps can be this coarse (Python's mailbox assumes as much): a listing of cur/
# is reused only while cur/ is unchanged and its last change is older than this.
_COARSE_SECONDS = 2.0
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}


class MaildirTransport:
    """Writes each message as one file into the Maildir at ``path``; see the module's notes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._dirs: dict[str, int] = {}  # "tmp", "new", "cur" -> an open descriptor
        self._cur: tuple[tuple[int, int], frozenset[str]] | None = None  # (ino, mtime), names

    def __enter__(self) -> MaildirTransport:
        try:
            _make_folders(self._path)
            for sub in ("tmp", "new", "cur"):  # an existing empty folder becomes a Maildir too
                _make_folders(self._path / sub)
                self._dirs[sub] = os.open(self._path / sub, os.O_RDONLY | os.O_DIRECTORY)
            _remove_abandoned(self._dirs["tmp"])
        except OSError as err:
            self._close()
            raise DeliveryError(f"cannot use maildir {self._path}: {err.strerror}") from err
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close()

    def send(self, msg: EmailMessage, *, to: Sequence[str]) -> SendResult:
        """Store ``msg`` (``to`` is implied by its headers) unless the Maildir already holds it.

        A failed write (a full disk) leaves nothing behind and is temporary.
        """
        if not self._dirs:
            raise RuntimeError("use the transport in a with block")
        name = _file_name(msg)
        try:
            if self._holds(name):
                return SendResult(True, False, None, f"already in {self._path} as {name}")
            # Maildir files use the local line ending; SMTP's CRLF is for the wire.
            placed = self._place(name, msg.as_bytes(policy=msg.policy.clone(linesep="\n")))
        except OSError as err:
            return SendResult(False, True, None, f"cannot write to {self._path}: {err.strerror}")
        if not placed:
            return SendResult(True, False, None, f"placed meanwhile by another run as {name}")
        return SendResult(True, False, None, f"written to {self._path / 'new' / name}")

    def _holds(self, name: str) -> bool:
        if _exists(name, self._dirs["new"]):
            return True
        # Readers move messages from new/ to cur/, never back: looking in new/ first, then in
        # cur/, cannot miss a message that moves meanwhile.
        return name in self._cur_names()

    def _cur_names(self) -> frozenset[str]:
        """The names in cur/ without the flags readers append after ``:``."""
        now = time.time()
        seen = os.stat(self._dirs["cur"])
        stamp = (seen.st_ino, seen.st_mtime_ns)
        if self._cur is not None and self._cur[0] == stamp:
            return self._cur[1]
        names = frozenset(
            base
            for entry in os.listdir(self._dirs["cur"])
            if (base := entry.partition(":")[0]).endswith(_SUFFIX)
        )
        # A change in the same timestamp tick as the one just seen would not show in the stamp.
        quiet = now - seen.st_mtime_ns / 1e9 > _COARSE_SECONDS
        self._cur = (stamp, names) if quiet else None
        return names

    def _place(self, name: str, data: bytes) -> bool:
        """Write ``data`` to new/``name``; False if that name was taken first (by another run)."""
        tmp, new = self._dirs["tmp"], self._dirs["new"]
        temp = _temp_name()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        fd = os.open(temp, flags, _FILE_MODE, dir_fd=tmp)
        try:
            try:
                os.fchmod(fd, _FILE_MODE)  # a umask such as 0o277 would leave it unreadable
                _write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            placed = _link_no_replace(temp, name, tmp=tmp, new=new)
            if placed:
                os.fsync(new)  # the name is on disk before the run records the message sent
        finally:
            _unlink_quietly(temp, dir_fd=tmp)
        return placed

    def _close(self) -> None:
        dirs, self._dirs, self._cur = self._dirs, {}, None
        for fd in dirs.values():
            os.close(fd)


def _file_name(msg: EmailMessage) -> str:
    """A name that only this message's Message-ID gives: 40 hex digits of its SHA-256."""
    message_id = msg["Message-ID"]
    if message_id is None:  # never so from compose(); such a message cannot be recognised again
        key = secrets.token_bytes(20)
    else:
        key = str(message_id).strip().encode("utf-8", "surrogateescape")
    return hashlib.sha256(key).hexdigest()[:40] + _SUFFIX


def _temp_name() -> str:
    """A name in tmp/ as the Maildir rules make them: time, something unique, host."""
    return f"{time.time_ns()}.P{os.getpid()}R{secrets.token_hex(8)}.{_host()}"


def _host() -> str:
    return socket.gethostname().replace("/", r"\057").replace(":", r"\072")


def _make_folders(path: Path) -> None:
    """Create ``path`` and its missing parents, each 0700 whatever the umask."""
    missing = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, _FOLDER_MODE)
        except FileExistsError:
            continue  # made meanwhile by another run, or a file: the next mkdir says so
        os.chmod(folder, _FOLDER_MODE)


def _exists(name: str, dir_fd: int) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _link_no_replace(temp: str, name: str, *, tmp: int, new: int) -> bool:
    try:
        os.link(temp, name, src_dir_fd=tmp, dst_dir_fd=new)
    except FileExistsError:
        return False
    except OSError as err:
        if err.errno not in _NO_HARD_LINKS:
            raise
        # A file system without hard links: rename cannot refuse an existing name, so look first.
        if _exists(name, new):
            return False
        os.rename(temp, name, src_dir_fd=tmp, dst_dir_fd=new)
    return True


def _unlink_quietly(name: str, *, dir_fd: int) -> None:
    with contextlib.suppress(FileNotFoundError):  # renamed into new/, or cleaned by another run
        os.unlink(name, dir_fd=dir_fd)


_TEMP = re.compile(r"\d+\.P(\d+)R[0-9a-f]+\.(.+)")


def _remove_abandoned(tmp: int) -> None:
    """Remove the half-written files of our runs on this host that were killed while writing."""
    host, me = _host(), os.getpid()
    for entry in os.listdir(tmp):
        found = _TEMP.fullmatch(entry)
        if found and found[2] == host and int(found[1]) != me and not _alive(int(found[1])):
            _unlink_quietly(entry, dir_fd=tmp)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
