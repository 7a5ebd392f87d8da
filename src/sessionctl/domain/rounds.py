"""Round status rules: what each status allows, and the colour palette."""

from __future__ import annotations

from enum import StrEnum

from sessionctl.errors import InputError

PALETTE: tuple[str, ...] = (
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "bright_red",
    "bright_green",
    "bright_yellow",
    "bright_blue",
    "bright_magenta",
    "bright_cyan",
)


def colours_after(previous: str | None) -> tuple[str, ...]:
    """The colours a round may take when ``previous`` is the colour of the round before it in
    its series (None for a first round): any but that one, so that two rounds in a row, side
    by side in the planning, never look alike."""
    return tuple(colour for colour in PALETTE if colour != previous)


class Status(StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"
    MISSED = "missed"


FINAL = frozenset({Status.DONE, Status.CANCELLED, Status.MISSED})

_WHY_FINAL = {
    Status.DONE: "its groups were formed and match messages created",
    Status.CANCELLED: "it was cancelled",
    Status.MISSED: "its time passed while nothing ran",
}


def parse_status(text: str) -> Status:
    try:
        return Status(text)
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise InputError(f"invalid status {text!r}: use one of {allowed}") from None


def check_change(round_id: int, status: Status, *, opt_in: bool, match: bool, zone: bool) -> None:
    """Raise when a round's status forbids the change asked for."""
    if status in FINAL:
        raise InputError(f"round {round_id} is {status}, so it cannot change: {_WHY_FINAL[status]}")
    if status is Status.OPEN and (opt_in or zone):
        raise InputError(
            f"round {round_id} is open: its opt-in went out, so only --match can change"
        )
    if not (opt_in or match or zone):
        raise InputError("nothing to change: give --opt-in, --match or --tz")


def check_cancel(round_id: int, status: Status) -> None:
    if status is Status.CANCELLED:
        raise InputError(f"round {round_id} is already cancelled: nothing more will be sent")
    if status in FINAL:
        raise InputError(
            f"round {round_id} is {status}, so it cannot be cancelled: {_WHY_FINAL[status]}"
        )
