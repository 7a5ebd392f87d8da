"""The two consoles. Colour only on a terminal and never with NO_COLOR (Rich checks both)."""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from typing import Any

from rich.console import Console

# Characters JSON may carry raw that would still reorder or restyle a terminal line.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")


@cache
def out() -> Console:
    return Console(highlight=False, emoji=False, markup=False, soft_wrap=False)


@cache
def err() -> Console:
    return Console(stderr=True, highlight=False, emoji=False, markup=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """JSON for scripts: plain, stable key order, no styling whatever the terminal."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    text = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
