"""A plain, fast table: a header, a rule and rows, laid out once and written as segments.

Rich's ``Table`` measures every cell several times and ``Text`` wraps every line, which costs
seconds for a thousand rounds. This grid measures each cell once, pads it, never wraps, and
yields Rich segments directly. A column marked ``shrink`` is cut with an ellipsis when the
terminal is too narrow. Cell text must already be clean (see ``render.text.clean``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style

GAP = "  "

Piece = tuple[str, str]  # (text, style)
Line = list[Piece]
Cell = list[Line]  # one or more lines


@dataclass(frozen=True)
class Column:
    header: str
    right: bool = False
    shrink: bool = False  # may be cut to fit the width
    minimum: int = 4


def cell(*pieces: Piece | str) -> Cell:
    """A one-line cell from pieces; a bare string has no style."""
    return [[(p, "") if isinstance(p, str) else p for p in pieces]]


def stacked(*lines: Piece) -> Cell:
    """A cell of several lines, one piece each."""
    return [[line] for line in lines]


class Grid:
    """A renderable table of ``rows`` under ``columns``, at most ``width`` cells wide."""

    def __init__(self, columns: Sequence[Column], rows: Sequence[Sequence[Cell]], *, width: int):
        self.columns = list(columns)
        self.rows = rows
        self.widths = _widths(self.columns, rows, width=width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        return self._segments()

    def plain(self) -> str:
        """The table as text without styles, for output that is not a terminal."""
        return "".join(segment.text for segment in self._segments())

    def _segments(self) -> Iterator[Segment]:
        header = [cell((c.header, "bold")) for c in self.columns]
        yield from self._line([h[0] for h in header])
        rule = "─" * (sum(self.widths) + len(GAP) * (len(self.widths) - 1))
        yield Segment(rule, _style("dim"))
        yield Segment.line()
        for row in self.rows:
            height = max(len(c) for c in row)
            for index in range(height):
                yield from self._line([c[index] if index < len(c) else [] for c in row])

    def _line(self, line_cells: Sequence[Line]) -> Iterator[Segment]:
        last = max((i for i, pieces in enumerate(line_cells) if pieces), default=-1)
        for index, (pieces, column, size) in enumerate(
            zip(line_cells[: last + 1], self.columns, self.widths, strict=False)
        ):
            if index:
                yield Segment(GAP)
            yield from _fit(pieces, size, right=column.right, last=index == last)
        yield Segment.line()


def natural_width(columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> int:
    """The width the table takes when nothing is cut."""
    return sum(_widths(columns, rows, width=1 << 30)) + len(GAP) * (len(columns) - 1)


@cache
def _style(name: str) -> Style:
    return Style.parse(name) if name else Style()


def _line_len(pieces: Line) -> int:
    return sum(cell_len(text) for text, _ in pieces)


def _widths(columns: Sequence[Column], rows: Sequence[Sequence[Cell]], *, width: int) -> list[int]:
    widths = [cell_len(c.header) for c in columns]
    for row in rows:
        for index, lines in enumerate(row):
            for pieces in lines:
                widths[index] = max(widths[index], _line_len(pieces))
    excess = sum(widths) + len(GAP) * (len(widths) - 1) - width
    for index, column in enumerate(columns):
        if excess <= 0:
            break
        if column.shrink:
            cut = min(excess, widths[index] - max(column.minimum, cell_len(column.header)))
            if cut > 0:
                widths[index] -= cut
                excess -= cut
    return widths


def _fit(pieces: Line, size: int, *, right: bool, last: bool) -> Iterator[Segment]:
    length = _line_len(pieces)
    if length > size:
        pieces = _cut(pieces, size)
        length = size
    padding = " " * (size - length)
    if right and padding:
        yield Segment(padding)
    for text, style in pieces:
        yield Segment(text, _style(style))
    if not right and padding and not last:
        yield Segment(padding)


def _cut(pieces: Line, size: int) -> Line:
    """The pieces cut to ``size`` cells, the last one ending with an ellipsis."""
    kept: Line = []
    room = size - 1
    for text, style in pieces:
        if room <= 0:
            break
        part = text if cell_len(text) <= room else set_cell_size(text, room)
        kept.append((part, style))
        room -= cell_len(part)
    kept.append(("…", kept[-1][1] if kept else ""))
    return kept
