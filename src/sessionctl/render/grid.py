"""A plain, fast table: a header, a rule and rows, laid out once and written as segments.

Rich's ``Table`` measures every cell several times and ``Text`` wraps every line, which costs
seconds for a thousand rounds. This grid reads each cell's text once, measures whole columns
at a time, pads, never wraps, and yields Rich segments directly; without styling (not a
terminal) it writes plain lines and makes no segment at all. A column marked ``shrink`` is cut
with an ellipsis when the terminal is too narrow. Cell text must already be clean (see
``render.text.clean``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache
from typing import NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style

GAP = "  "

Piece = tuple[str, str]  # (text, style)
Line = list[Piece]
Cell = list[Line]  # one or more lines
_Texts = list[str | None]  # one line of a row: each cell's text, None where a cell has no line


class Column(NamedTuple):
    header: str
    right: bool = False
    shrink: bool = False  # may be cut to fit the width
    minimum: int = 4


class Grid:
    """A renderable table of ``rows`` under ``columns``, at most ``width`` cells wide."""

    def __init__(self, columns: Sequence[Column], rows: Sequence[Sequence[Cell]], *, width: int):
        self.columns = list(columns)
        self.rows = rows
        self._texts = [_row_texts(row) for row in rows]
        natural, by_length = _natural_widths(self.columns, self._texts)
        # The width the table takes when nothing is cut.
        self.natural_width = sum(natural) + len(GAP) * (len(natural) - 1)
        self.widths = _shrunk(self.columns, natural, width=width)
        # Lines with every cell, padded by length and none cut (nearly all): one format each.
        self._fast = by_length and self.widths == natural

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        return self._segments()

    def plain(self) -> str:
        """The table as text without styles, for output that is not a terminal."""
        widths, rights = self.widths, [c.right for c in self.columns]
        lines = [_plain_line([c.header for c in self.columns], widths, rights), self._rule(), "\n"]
        template = _template(widths, rights) if self._fast else ""
        for row, row_lines in zip(self.rows, self._texts, strict=True):
            for index, texts in enumerate(row_lines):
                if self._fast and None not in texts:
                    lines.append(template.format(*texts))
                else:
                    lines.append(_plain_line(texts, widths, rights, row=row, index=index))
        return "".join(lines)

    def _rule(self) -> str:
        return "─" * (sum(self.widths) + len(GAP) * (len(self.widths) - 1))

    def _segments(self) -> Iterator[Segment]:
        yield from self._line([[(c.header, "bold")] for c in self.columns])
        yield Segment(self._rule(), _style("dim"))
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


@cache
def _style(name: str) -> Style:
    return Style.parse(name) if name else Style()


def _text_len(text: str) -> int:
    """Cells of ``text``: its length when ASCII (nearly always, and much faster to know)."""
    return len(text) if text.isascii() else cell_len(text)


def _line_len(pieces: Line) -> int:
    return sum(cell_len(text) for text, _ in pieces)


def _row_texts(row: Sequence[Cell]) -> list[_Texts]:
    """Each line of the row as the texts of its cells."""
    texts: _Texts = []
    for c in row:
        if len(c) != 1:
            height = max(len(c) for c in row)
            return [
                [_joined(c[index]) if index < len(c) else None for c in row]
                for index in range(height)
            ]
        pieces = c[0]
        texts.append(pieces[0][0] if len(pieces) == 1 else _joined(pieces))
    return [texts]


def _joined(pieces: Line) -> str | None:
    """The text of a cell's line; None for a line with no pieces (an empty cell)."""
    return "".join([text for text, _ in pieces]) if pieces else None


def _natural_widths(
    columns: Sequence[Column], rows: Sequence[Sequence[_Texts]]
) -> tuple[list[int], bool]:
    """Each column's widest line, header included; and whether every text takes one cell per
    character (ASCII, or such as the swatch), so that padding by length is right."""
    widths: list[int] = []
    by_length = True
    for index, column in enumerate(columns):
        texts = [column.header]
        texts += [t for lines in rows for line in lines if (t := line[index]) is not None]
        lengths = list(map(len, texts))
        if not "".join(texts).isascii():
            cells = list(map(cell_len, texts))
            by_length = by_length and cells == lengths
            lengths = cells
        widths.append(max(lengths))
    return widths, by_length


def _shrunk(columns: Sequence[Column], natural: Sequence[int], *, width: int) -> list[int]:
    """The widths within ``width``: shrinkable columns give up cells, first ones first."""
    widths = list(natural)
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


def _template(widths: Sequence[int], rights: Sequence[bool]) -> str:
    """A format for a line with every cell: padded as ``_plain_line`` pads, last one unpadded
    unless right-aligned."""
    fields = [
        f"{{:{'>' if right else '<'}{size}}}" for size, right in zip(widths, rights, strict=True)
    ]
    if not rights[-1]:
        fields[-1] = "{}"
    return GAP.join(fields) + "\n"


def _plain_line(
    texts: Sequence[str | None],
    widths: Sequence[int],
    rights: Sequence[bool],
    *,
    row: Sequence[Cell] | None = None,
    index: int = 0,
) -> str:
    """One line of cells as text, as ``Grid._line`` writes it: the same padding and cuts.

    ``row`` and ``index`` give the cell pieces, needed only to cut a cell that is too long.
    """
    last = len(texts) - 1
    while last >= 0 and texts[last] is None:
        last -= 1
    parts: list[str] = []
    for column in range(last + 1):
        text, size = texts[column] or "", widths[column]
        length = _text_len(text)
        if length > size:
            pieces = row[column][index] if row is not None else [(text, "")]
            text = "".join([t for t, _ in cut(pieces, size)])
            length = size
        if rights[column]:
            parts.append(" " * (size - length) + text)
        elif column < last:
            parts.append(text + " " * (size - length))
        else:
            parts.append(text)
    return GAP.join(parts) + "\n"


def _fit(pieces: Line, size: int, *, right: bool, last: bool) -> Iterator[Segment]:
    length = _line_len(pieces)
    if length > size:
        pieces = cut(pieces, size)
        length = size
    padding = " " * (size - length)
    if right and padding:
        yield Segment(padding)
    for text, style in pieces:
        yield Segment(text, _style(style))
    if not right and padding and not last:
        yield Segment(padding)


def cut(pieces: Line, size: int) -> Line:
    """The pieces within ``size`` cells; when cut, the last one ends with an ellipsis."""
    if _line_len(pieces) <= size:
        return pieces
    kept: Line = []
    room = size - 1
    for text, style in pieces:
        if room <= 0:
            break
        part = text if cell_len(text) <= room else set_cell_size(text, room)
        kept.append((part, style))
        room -= cell_len(part)
    if kept:
        kept[-1] = (kept[-1][0] + "…", kept[-1][1])
    return kept or [("…", "")]
