"""One member for people: the 'member show' panel and the 'member set' confirmation."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from sessionctl.domain.times import format_local, load_zone
from sessionctl.render.text import literal
from sessionctl.services.members import Changed, MemberDetail


def panel(detail: MemberDetail) -> RenderableType:
    zone = load_zone(detail.timezone)
    m = detail.member
    status = (
        Text("active", style="green")
        if m.active or detail.removed_at is None
        else Text(f"removed {format_local(detail.removed_at, zone)}", style="yellow")
    )
    rows: list[tuple[str, Text]] = [
        ("email", literal(m.email, "bold")),
        ("name", literal(m.name or "-")),
        ("team", literal(m.team or "-")),
        ("program", literal(detail.program)),
        ("status", status),
        ("added", Text(format_local(detail.added_at, zone))),
        ("rounds", Text(f"invited to {detail.rounds_invited}, joined {detail.rounds_joined}")),
    ]
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    for label, value in rows:
        table.add_row(label, value)
    return table


def changed(result: Changed, *, program: str) -> Text:
    """One line: what changed, or that nothing did."""
    before, after = result.before, result.after
    text = Text.assemble("Member ", literal(before.email, "bold"), " in ", literal(program, "bold"))
    parts: list[Text] = []
    if after.email != before.email:
        parts.append(Text.assemble("email now ", literal(after.email, "bold")))
    if after.name != before.name:
        parts.append(
            Text.assemble("name now ", literal(after.name, "bold"))
            if after.name
            else Text("name cleared")
        )
    if after.team != before.team:
        parts.append(
            Text.assemble("team now ", literal(after.team, "bold"))
            if after.team
            else Text("team cleared")
        )
    if not parts:
        return text.append(": unchanged, it already has these values.")
    text.append(": ")
    text.append_text(Text(", ").join(parts))
    return text.append(".")
