"""One error family. Each error knows its exit code; the CLI boundary prints it as one line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class SessionctlError(Exception):
    """Base of every error a user can cause or meet. ``str(err)`` is the one-line message."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(SessionctlError):
    """Bad input or usage: unknown program or round, invalid time, a forbidden change. Exit 2."""

    exit_code = 2


@contextmanager
def naming(option: str) -> Iterator[None]:
    """Name the option at fault in an ``InputError`` raised inside: ``--match: invalid time …``."""
    try:
        yield
    except InputError as err:
        err.message = f"{option}: {err.message}"  # in place: subclasses keep their own fields
        err.args = (err.message,)
        raise


class NotFoundError(InputError):
    """A named program, member or round does not exist. Exit 2."""


class RunError(SessionctlError):
    """A failure while running: database locked or unreadable, delivery failed. Exit 1."""

    exit_code = 1


class DatabaseError(RunError):
    """The database cannot be opened, read or written."""


class DeliveryError(RunError):
    """A message transport failed in a way that stops the run (e.g. authentication)."""


def no_program(name: str) -> NotFoundError:
    """The error for a program name that does not exist, wherever it is looked up."""
    return NotFoundError(f"no program named {name!r}: see 'sessionctl program list'")
