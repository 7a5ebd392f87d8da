"""CSV cells a spreadsheet opens as text, never as a formula."""

from __future__ import annotations

# What a spreadsheet reads as the start of a formula (tab and CR: some strip them first).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """``text`` with a leading ``'`` when it starts like a formula (OWASP's CSV injection rule),
    so that ``=1+2`` shows as typed instead of being computed."""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text
