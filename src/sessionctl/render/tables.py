"""Tables and panels for programs and members. User text always goes through ``literal``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.cells import cell_len
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from sessionctl.domain.words import plural
from sessionctl.render.text import literal

if TYPE_CHECKING:  # the services import the ORM models, which program list goes without
    from sessionctl.services.members import ImportReport, MemberInfo
    from sessionctl.services.programs import ProgramInfo
    from sessionctl.services.templates import TemplateInfo


def sentence(*parts: str) -> Text:
    """A line of prose where odd parts are user text (shown bold, literally)."""
    text = Text()
    for index, part in enumerate(parts):
        text.append_text(literal(part, "bold") if index % 2 else Text(part))
    return text


def programs(infos: Sequence[ProgramInfo]) -> RenderableType:
    if not infos:
        return Text("No programs yet: add one with 'sessionctl program add NAME'.")
    table = Table(box=box.SIMPLE_HEAD)
    for header in ("Program", "Title", "Timezone", "Opt-in", "Group", "Members"):
        table.add_column(header)
    for i in infos:
        name = literal(i.name, "bold")
        if i.archived:
            name.append(" (archived)", style="dim")
        table.add_row(
            name,
            literal(i.title),
            i.timezone,
            "yes" if i.opt_in else "no",
            str(i.group_size),
            str(i.members),
        )
    return table


def program(info: ProgramInfo) -> RenderableType:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim")
    table.add_column()
    rows: list[tuple[str, Text]] = [
        ("name", literal(info.name, "bold")),
        ("title", literal(info.title)),
        ("timezone", Text(info.timezone)),
        ("opt-in", Text("yes" if info.opt_in else "no")),
        ("group size", Text(str(info.group_size))),
        ("sender", literal(info.sender or "-")),
        ("link base", literal(info.link_base or "-")),
        ("grace", Text(f"{info.grace_hours} h")),
        ("lookback", Text(plural(info.lookback, "round") if info.lookback else "all rounds")),
        ("reply to", literal(info.reply_to or "-")),
        ("bounces", Text(f"{plural(info.bounce_limit, 'hard bounce')} in a row deactivate")),
        ("language", Text(info.language)),
        ("starters", Text(plural(info.icebreakers, "own") if info.icebreakers else "default")),
        ("reminder", Text(_reminder(info))),
        ("members", Text(str(info.members))),
        *([("archived", Text("yes: no new rounds, run-due skips it"))] if info.archived else []),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def _reminder(info: ProgramInfo) -> str:
    if not info.reminder_hours:
        return "none"
    if info.reminder_below is None:
        return f"{info.reminder_hours} h before the match, when fewer joined than usual (median)"
    return f"{info.reminder_hours} h before the match, when under {info.reminder_below}% joined"


def members(infos: Sequence[MemberInfo], *, show_active: bool) -> RenderableType:
    if not infos:
        return Text("No members yet: add some with 'sessionctl member add' or 'member import'.")
    table = Table(box=box.SIMPLE_HEAD)
    notes = [_member_note(m) for m in infos]
    headers = ("Email", "Name", "Team", *(["Active"] if show_active else []))
    for header in (*headers, *(["Note"] if any(notes) else [])):
        table.add_column(header)
    with_stats = any(m.stats is not None for m in infos)
    if with_stats:
        for header in ("Rounds", "Last matched", "In a trio"):
            table.add_column(header, justify="left" if header == "Last matched" else "right")
    for m, note in zip(infos, notes, strict=True):
        row = [literal(m.email), literal(m.name), literal(m.team or "")]
        if show_active:
            row.append(Text("yes" if m.active else "no", style="" if m.active else "dim"))
        if any(notes):
            row.append(literal(note, "dim"))
        if with_stats:
            row += _member_stats(m)
        table.add_row(*row)
    return table


def _member_stats(m: MemberInfo) -> list[Text]:
    s = m.stats
    if s is None:
        return [Text(""), Text(""), Text("")]
    last = s.last_matched.isoformat() if s.last_matched else "-"
    return [Text(str(s.rounds_joined)), Text(last), Text(str(s.times_in_trio))]


def _member_note(m: MemberInfo) -> str:
    """Why a member is out, or until when they pause; empty for the others."""
    if not m.active:
        return f"left: {m.left_reason}" if m.left_reason else ""
    return f"paused until {m.paused_until.isoformat()}" if m.paused_until else ""


def import_report(report: ImportReport) -> Text:
    total = report.added + report.re_added + report.updated + report.unchanged
    back = f"{report.re_added} re-added, " if report.re_added else ""
    return Text(
        f"Imported {plural(total, 'member')}: {report.added} added, {back}"
        f"{report.updated} updated, {report.unchanged} unchanged."
    )


def templates(infos: Sequence[TemplateInfo]) -> RenderableType:
    from rich.console import Group
    from rich.panel import Panel

    titled = [
        (
            Text(f"{info.kind} ({'custom' if info.custom else 'default'})"),
            Text.assemble(
                literal(info.subject, "bold"), "\n\n", literal(info.body, multiline=True)
            ),
        )
        for info in infos
    ]
    # One width for all, that of the longest line: off a terminal the width has no limit, so a
    # panel cannot simply fill it; on a terminal Rich still narrows them to fit.
    widest = max((_widest_line(t) for pair in titled for t in pair), default=0)
    return Group(
        *(Panel(body, title=title, title_align="left", width=widest + 4) for title, body in titled)
    )


def _widest_line(text: Text) -> int:
    return max(cell_len(line) for line in text.plain.split("\n"))
