"""User text shown literally: never parsed as markup, never able to move the cursor."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # clean() serves error lines and Tab presses, which need no Rich
    from rich.text import Text

# C0 and C1 controls, DEL, and the bidirectional overrides and isolates that can reorder a line.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def clean(value: object) -> str:
    """The text with every control or reordering character replaced by a visible escape."""
    text = str(value)
    if not text.isascii():  # ASCII is already NFC; unicodedata costs a millisecond to load
        import unicodedata

        text = unicodedata.normalize("NFC", text)
    return _UNSAFE.sub(_escape_char, text)


def literal(value: object, style: str = "", *, multiline: bool = False) -> Text:
    """A Rich ``Text`` holding user text exactly as typed: no markup, no escape sequences.

    With ``multiline``, line breaks stay line breaks; every other control is still escaped.
    """
    from rich.text import Text

    if multiline:
        return Text("\n".join(clean(line) for line in str(value).split("\n")), style=style)
    return Text(clean(value), style=style)
