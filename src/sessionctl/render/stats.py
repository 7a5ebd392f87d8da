"""``stats`` for people (a heading and a table per program) and as CSV (one row per round).

The tables are ``render.grid`` grids, as ``list`` shows rounds: Rich's ``Table`` would take
seconds over a thousand rounds.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from rich.console import RenderableType
from rich.text import Text

from sessionctl.domain.csvsafe import safe_cell
from sessionctl.domain.times import format_local
from sessionctl.domain.words import plural
from sessionctl.render.grid import Cell, Column, Grid
from sessionctl.render.text import clean, literal
from sessionctl.services.stats import ProgramStats, RoundStats, Stats

BARS = "▁▂▃▄▅▆▇█"
GAP = "·"  # a round without a participation figure (nobody to invite)
CSV_HEADER = (
    "round",
    "number",
    "program",
    "title",
    "match_at",
    "opt_in",
    "invited",
    "joined",
    "declined",
    "no_answer",
    "participation",
    "groups",
    "repeated_pairs",
    "messages_failed",
)
_COLUMNS = [
    Column("Round", right=True),
    Column("No.", right=True),
    Column("Match"),
    Column("Invited", right=True),
    Column("Joined", right=True),
    Column("Declined", right=True),
    Column("No answer", right=True),
    Column("Joined %", right=True),
    Column("Groups", right=True),
    Column("Repeats", right=True),
    Column("Failed", right=True),
]


def sparkline(values: Sequence[float | None]) -> str:
    """One bar per percentage, on a fixed 0-100 scale: rounds of different programs compare."""
    return "".join(
        GAP if v is None else BARS[min(len(BARS) - 1, int(v * len(BARS) / 100))] for v in values
    )


def report(stats: Stats, *, width: int) -> list[RenderableType]:
    """Per program, a heading, then its rounds and their totals (or a line saying there are
    none); a blank line between programs."""
    shown: list[RenderableType] = []
    for index, program in enumerate(stats.programs):
        if index:
            shown.append(Text(""))
        shown.append(heading(program))
        if program.rounds:
            shown.append(Grid(_COLUMNS, _make_rows(program), width=width))
        else:
            shown.append(Text("No matched rounds in this range."))
    if not shown:
        shown.append(Text("No programs yet: add one with 'sessionctl program add NAME'."))
    return shown


def heading(program: ProgramStats) -> Text:
    """``coffee  Coffee in Paris: 12 matched rounds, 78.5% joined  ▃▅▆▆▇``."""
    text = literal(program.name, "bold")
    if program.title != program.name:
        text.append_text(Text.assemble("  ", literal(program.title)))
    count = plural(len(program.rounds), "matched round")
    text.append(f": {count}")
    if program.rounds:
        text.append(f", {_format_percent(program.participation)} joined  ")
        text.append(sparkline(program.trend), style="cyan")
    return text


def _make_rows(program: ProgramStats) -> list[list[Cell]]:
    rows = [_make_round_row(r) for r in program.rounds]
    totals = [
        "total",
        "",
        "",
        *(_format_count(program.total(f)) for f in ("invited", "joined", "declined", "no_answer")),
        _format_percent(program.participation),
        *(_format_count(program.total(f)) for f in ("groups", "repeated_pairs", "failed")),
    ]
    rows.append([[[(text, "bold")]] for text in totals])
    return rows


def _make_round_row(r: RoundStats) -> list[Cell]:
    texts = [
        str(r.id),
        str(r.number),
        clean(format_local(r.match_at, r.zone)),
        _format_count(r.invited),
        _format_count(r.joined),
        _format_count(r.declined),
        _format_count(r.no_answer),
        _format_percent(r.participation),
        _format_count(r.groups),
        _format_count(r.repeated_pairs),
        _format_count(r.failed),
    ]
    row: list[Cell] = [[[(text, "")]] for text in texts]
    if r.failed:
        row[-1] = [[(texts[-1], "red")]]
    return row


def _format_count(value: int | None) -> str:
    """A figure, or ``-`` where a round has none (no declines without an opt-in)."""
    return "-" if value is None else str(value)


def _format_percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def csv_text(stats: Stats) -> str:
    """RFC 4180: a header, then one row per round, lines ending in CRLF; text a spreadsheet
    could take for a formula (a title such as ``=1+1``) starts with ``'``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for program in stats.programs:
        name, title = safe_cell(program.name), safe_cell(program.title)
        for r in program.rounds:
            data = r.to_json()
            writer.writerow(
                [
                    r.id,
                    r.number,
                    name,
                    title,
                    data["match_at"],
                    "yes" if r.opt_in else "no",
                    *(_blank_none(data[f]) for f in CSV_HEADER[6:]),
                ]
            )
    return buffer.getvalue()


def _blank_none(value: object) -> object:
    return "" if value is None else value
