"""The two consoles. Styling only on a terminal and never with NO_COLOR (no escape codes).

Width: ``COLUMNS`` when set, else the terminal's on a terminal, else none at all. Off a terminal
(a pipe, a file, cron mail) nothing is wrapped or cut: a script reads every value whole.
Lines of our own words (confirmations, notes, errors) are never broken, wherever they go: a
terminal folds a long line itself, and a copied or piped line stays one line.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import IO, Any, Literal

from rich.console import Console, RenderableType
from rich.segment import Segment, Segments
from rich.style import Style
from rich.text import Text

# Characters JSON may carry raw that would still reorder or restyle a terminal line.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
# "No limit" for Rich, which needs a number: wider than any line we print, and cheap because
# nothing we render pads to the full width (tables and panels take their natural width).
UNLIMITED = 1 << 20


def out() -> Console:
    return _console(stderr=False)


def err() -> Console:
    return _console(stderr=True)


def _console(*, stderr: bool) -> Console:
    """Text as given, never parsed for markup, emoji or highlights; stderr soft-wraps its lines."""
    return Console(
        stderr=stderr,
        color_system=_color_system(),
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=stderr,
        width=width(sys.stderr if stderr else sys.stdout),
    )


def width(stream: IO[str]) -> int:
    """The width output to ``stream`` must fit: COLUMNS, else the terminal's, else unlimited.

    Rich alone would take the width of whichever of stdin, stdout and stderr is a terminal, so
    ``sessionctl member list X | cat`` typed in a terminal was cut to that terminal.
    """
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):  # a stream without a file descriptor
        pass
    return UNLIMITED


def show(renderable: RenderableType) -> None:
    """Print a table or a panel to stdout, fitted to the width (see ``width``).

    Lines lose the blanks Rich pads cells with at their end, which only get in a script's way
    (styled or not, the same text). Without styling, our large grid skips Rich's machinery.
    """
    if isinstance(renderable, Text):  # a sentence in place of a table ("No rounds: ...")
        line(renderable)
        return
    console = out()
    as_text = getattr(renderable, "plain", None)
    if callable(as_text):  # our own grid: it never pads a line's end
        if console.color_system is None:
            sys.stdout.write(as_text())
            sys.stdout.flush()
        else:
            console.print(renderable)
        return
    segments: list[Segment] = []
    for rendered in console.render_lines(renderable, pad=False):
        segments += _trimmed(rendered)
        segments.append(Segment.line())
    console.print(Segments(segments))


def _trimmed(row: list[Segment]) -> list[Segment]:
    """The row without trailing blanks that show nothing (no background, underline...)."""
    while row and _blank(row[-1]):
        row = row[:-1]
    if row and not row[-1].control and not _shows_blanks(row[-1].style):
        last = row[-1]
        row = [*row[:-1], Segment(last.text.rstrip(" "), last.style, last.control)]
    return row


def _blank(segment: Segment) -> bool:
    return not segment.control and not segment.text.strip(" ") and not _shows_blanks(segment.style)


def _shows_blanks(style: Style | None) -> bool:
    return style is not None and bool(
        style.bgcolor or style.reverse or style.underline or style.strike or style.overline
    )


def line(text: Text | str) -> None:
    """One line of our own words on stdout (a confirmation), never broken in two."""
    out().print(text, soft_wrap=True)


def note(text: str) -> None:
    """``note: …`` on stderr, one line; user text in it is shown literally."""
    err().print(plain(f"note: {text}"), soft_wrap=True)


def _color_system() -> Literal["auto"] | None:
    # Rich's own NO_COLOR only drops colours and still emits bold and dim: no styling at all here.
    return None if os.environ.get("NO_COLOR", "") else "auto"


def print_json(data: Any) -> None:
    """JSON for scripts: plain, stable key order, no styling whatever the terminal."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    text = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def plain(line: str) -> Text:
    """A line of our own words that may quote user text: shown literally, never as markup."""
    from sessionctl.render.text import literal

    return literal(line)
