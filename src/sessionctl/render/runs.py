"""Groups and messages for people."""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from sessionctl.render.text import literal
from sessionctl.services.messages import GroupsInfo, MessageInfo

_STATUS_STYLE = {"pending": "yellow", "sent": "green", "failed": "bold red"}


def _person(email: str, name: str, team: str | None) -> Text:
    text = literal(name or email)
    if name:
        text.append_text(literal(f" <{email}>", "dim"))
    if team:
        text.append_text(literal(f" ({team})", "cyan"))
    return text


def groups(info: GroupsInfo) -> RenderableType:
    if not info.groups and not info.no_match:
        return Text(f"Round {info.round} has no groups (yet).")
    table = Table(box=box.SIMPLE_HEAD, title=f"Round {info.round} groups", title_justify="left")
    table.add_column("Group", justify="right")
    table.add_column("Members")
    for number, members in enumerate(info.groups, start=1):
        cell = Text("\n").join(_person(*m) for m in members)
        table.add_row(str(number), cell)
    for m in info.no_match:
        table.add_row("-", Text.assemble(_person(*m), " (no match)"))
    return table


def messages(infos: Sequence[MessageInfo]) -> RenderableType:
    if not infos:
        return Text("No messages.")
    table = Table(box=box.SIMPLE_HEAD)
    for header in ("Id", "Round", "To", "Kind", "Status", "Tries", "Last error"):
        table.add_column(header, no_wrap=header not in ("To", "Last error"))
    for i in infos:
        table.add_row(
            str(i.id),
            str(i.round),
            literal(i.email),
            i.kind,
            Text(i.status, style=_STATUS_STYLE.get(i.status, "")),
            str(i.attempts),
            literal(i.last_error or ""),
        )
    return table
