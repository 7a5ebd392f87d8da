"""Groups and messages for people."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sessionctl.domain.words import plural
from sessionctl.render.text import literal
from sessionctl.services.groups import GaveWay, GroupsInfo, Meeting
from sessionctl.services.messages import MessageInfo

_STATUS_STYLE = {"pending": "yellow", "sending": "cyan", "sent": "green", "failed": "bold red"}


def _person(email: str, name: str, team: str | None) -> Text:
    text = literal(name or email)
    if name:
        text.append_text(literal(f" <{email}>", "dim"))
    if team:
        text.append_text(literal(f" ({team})", "cyan"))
    return text


def groups(info: GroupsInfo, *, zone: ZoneInfo) -> RenderableType:
    """Each group with its members and, beside it, the pairs in it who met before and when."""
    if not info.groups and not info.no_match:
        return Text(f"Round {info.round} has no groups (yet).")
    title = f"Round {info.round} groups" + (" (preview: nothing is stored)" if info.preview else "")
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left")
    table.add_column("Group", justify="right")
    table.add_column("Members")
    table.add_column("Met before")
    for number, (members, met) in enumerate(zip(info.groups, info.met, strict=True), start=1):
        cell = Text("\n").join(_person(*m) for m in members)
        table.add_row(str(number), cell, _meetings(met, zone=zone))
    for m in info.no_match:
        table.add_row("-", Text.assemble(_person(*m), " (no match)"), "")
    repeats = info.repeated_pairs
    summary = Text(plural(repeats, "repeated pair") if repeats else "no pair has met before")
    return Group(table, summary, *(_gave_way(g) for g in info.gave_way))


def _gave_way(g: GaveWay) -> Text:
    """One line per pairing rule the groups break, and why."""
    return Text.assemble(
        Text("rule gave way: ", style="yellow"),
        literal(g.first, "bold"),
        " and ",
        literal(g.second, "bold"),
        f" are together in group {g.group}: {g.why}",
    )


def _meetings(met: Sequence[Meeting], *, zone: ZoneInfo) -> Text:
    if not met:
        return Text("new", style="green")
    lines = []
    for m in met:
        day = m.match_at.astimezone(zone).date().isoformat()
        lines.append(literal(f"{m.first} & {m.second}: round {m.round} ({day})", "yellow"))
    return Text("\n").join(lines)


def messages(infos: Sequence[MessageInfo]) -> RenderableType:
    if not infos:
        return Text("No messages.")
    # The holder's column only when a run holds one of them: otherwise it would always be empty.
    held = any(i.held_by is not None for i in infos)
    headers = ["Id", "Round", "To", "Kind", "Status", *(["Held by"] if held else [])]
    table = Table(box=box.SIMPLE_HEAD)
    for header in (*headers, "Tries", "Last error"):
        table.add_column(header, no_wrap=header not in ("To", "Last error"))
    for i in infos:
        holder = [literal(i.held_by or "")] if held else []
        table.add_row(
            str(i.id),
            str(i.round),
            literal(i.email),
            i.kind,
            Text(i.status, style=_STATUS_STYLE.get(i.status, "")),
            *holder,
            str(i.attempts),
            literal(i.last_error or ""),
        )
    return table
