"""CSV text as numbered rows: one place that turns the csv module's errors into input errors."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sessionctl.errors import InputError


def numbered_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for the header and every non-blank row of ``text``.

    The number is the row's first line: a quoted field may span several.
    """
    reader = csv.reader(io.StringIO(text))
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
