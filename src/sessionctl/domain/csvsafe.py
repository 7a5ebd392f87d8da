"""CSV cells a spreadsheet opens as text: never as a formula, whatever a member or admin typed."""

from __future__ import annotations

# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (or, for a tab or a
# carriage return, what some of them strip before looking for one): OWASP's list.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """``text`` with a leading ``'`` when it starts like a formula, else unchanged.

    The quote is what spreadsheets themselves put before text that looks like a formula: they
    show the cell as typed and drop the quote. Only for text cells: a negative number written
    as a number stays a number.
    """
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
