"""The two consoles. Styling only on a terminal and never with NO_COLOR (no escape codes)."""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any, Literal

from rich.console import Console
from rich.text import Text

# Characters JSON may carry raw that would still reorder or restyle a terminal line.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")


def out() -> Console:
    return Console(
        color_system=_color_system(), highlight=False, emoji=False, markup=False, soft_wrap=False
    )


def err() -> Console:
    return Console(
        stderr=True,
        color_system=_color_system(),
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=True,
    )


def show(renderable: Any) -> None:
    """Print to stdout; a large plain table skips Rich's machinery when there is no styling."""
    console = out()
    plain = getattr(renderable, "plain", None)
    if console.color_system is None and callable(plain):
        sys.stdout.write(plain())
        sys.stdout.flush()
        return
    console.print(renderable)


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
