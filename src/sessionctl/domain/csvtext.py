"""CSV text as numbered rows: one place that turns the csv module's errors into input errors."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sessionctl.errors import InputError

# Spreadsheets write commas, or semicolons where the comma is the decimal mark, or tabs.
SEPARATORS = (",", ";", "\t")


def numbered_rows(text: str, *, separator: str = ",") -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for the header and every non-blank row of ``text``.

    The number is the row's first line: a quoted field may span several.
    """
    reader = csv.reader(io.StringIO(text), delimiter=separator)
    while True:
        first = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise InputError(f"line {reader.line_num}: {err}") from None
        if any(f.strip() for f in fields):
            yield first, fields


def header_name(field: str) -> str:
    """A header cell as a column name: case and surrounding spaces do not count."""
    return field.strip().lower()


def detect_separator(text: str, *, required: str) -> str:
    """The separator of ``text``, judged from its header row (its first non-blank row).

    The separator is the one that makes ``required`` a column of its own; when several do (a
    header of that one column), the one that splits the header into the most columns, commas
    first. When none does, commas: the header is then refused for lacking the column.
    """
    best, best_width = ",", 0
    for separator in SEPARATORS:
        try:
            header = next(numbered_rows(text, separator=separator), (1, []))[1]
        except InputError:  # not readable with this separator: another one may be right
            continue
        names = [header_name(h) for h in header]
        if required in names and len(names) > best_width:
            best, best_width = separator, len(names)
    return best
