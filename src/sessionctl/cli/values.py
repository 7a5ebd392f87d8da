"""Option values checked while the command line is read, so that a refusal names the option.

Each parser runs the domain's own rule (imported when the option is given, not at start-up) and
turns its refusal into a usage error of that option: ``--sender: invalid email 'x': use a plain
address such as ana@example.com``. The services check again; these only say it first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer

from sessionctl.errors import InputError

T = TypeVar("T")


def sender(text: str) -> str:
    """An email address, or empty to clear the program's sender."""
    from sessionctl.domain import validation

    return _checked(validation.email, text) if text else text


def link_base(text: str) -> str:
    """An http(s) URL, or empty to remove the links."""
    from sessionctl.domain import validation

    return _checked(validation.link_base, text) if text else text


def language(text: str) -> str:
    from sessionctl.domain import validation

    return _checked(validation.language, text)


def title(text: str) -> str:
    from sessionctl.domain import validation

    return _checked(lambda value: validation.single_line(value, what="title"), text)


def lookback(text: str) -> str:
    from sessionctl.domain import validation

    _checked(validation.lookback, text)
    return text


def reminder_below(text: str) -> str:
    from sessionctl.domain import validation

    _checked(validation.reminder_below, text)
    return text


def round_status(text: str) -> str:
    from sessionctl.domain.rounds import parse_status

    _checked(parse_status, text)
    return text


def message_status(text: str) -> str:
    from sessionctl.domain.messages import STATUSES

    if text not in STATUSES:
        choices = f"{', '.join(STATUSES[:-1])} or {STATUSES[-1]}"
        raise typer.BadParameter(f"invalid status {text!r}: use {choices}")
    return text


def repeat(text: str) -> str:
    from sessionctl.domain.recurrence import parse_repeat

    _checked(parse_repeat, text)
    return text


def _checked(rule: Callable[[str], T], text: str) -> T:
    try:
        return rule(text)
    except InputError as err:
        raise typer.BadParameter(err.message) from None
