"""One member for people: the 'member show' panel and the 'member set' confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from sessionctl.domain.times import format_local, load_zone
from sessionctl.render.text import literal
from sessionctl.services.members import Changed, MemberDetail

if TYPE_CHECKING:
    from sessionctl.services.pairing import RuleChange, Rules
    from sessionctl.services.pauses import Paused, Resumed


def panel(detail: MemberDetail) -> RenderableType:
    zone = load_zone(detail.timezone)
    m = detail.member
    status = (
        Text("active", style="green")
        if m.active or detail.removed_at is None
        else Text(f"removed {format_local(detail.removed_at, zone)}", style="yellow")
    )
    if m.active and m.paused_until is not None:
        status = Text(f"paused until {m.paused_until.isoformat()}", style="yellow")
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


def paused(result: Paused) -> Text:
    """``Member X paused in P until D (was until E): …; their answer to round 4 is now a skip.``"""
    m = result.member
    text = Text.assemble("Member ", literal(m.member.email, "bold"), " paused in ")
    text.append_text(literal(m.program, "bold"))
    text.append(f" until {result.until.isoformat()}")
    if result.was is not None and result.was != result.until:
        text.append(f" (was until {result.was.isoformat()})")
    text.append(": rounds that open before that day leave them out")
    if result.skipped:
        text.append(f"; their answer to {_rounds(result.skipped)} is now a skip")
    return text.append(".")


def resumed(result: Resumed) -> Text:
    m = result.member
    text = Text.assemble("Member ", literal(m.member.email, "bold"))
    if result.was is None:
        return text.append_text(
            Text.assemble(" is not paused in ", literal(m.program, "bold"), ": nothing changed.")
        )
    text.append(" resumed in ")
    text.append_text(literal(m.program, "bold"))
    text.append(f" (was paused until {result.was.isoformat()}): rounds invite them again.")
    if result.invited_late:
        text.append(f" The next run-due sends them the opt-in of {_rounds(result.invited_late)}.")
    return text


def rule_change(change: RuleChange, *, program: str) -> Text:
    a, b = literal(change.a, "bold"), literal(change.b, "bold")
    where = literal(program, "bold")
    if change.added and change.changed:
        return Text.assemble(a, " and ", b, " are kept apart in ", where, ".")
    if change.added:
        return Text.assemble(
            a, " and ", b, " are already kept apart in ", where, ": nothing changed."
        )
    if change.changed:
        return Text.assemble(a, " and ", b, " are no longer kept apart in ", where, ".")
    return Text.assemble("No rule keeps ", a, " and ", b, " apart in ", where, ": nothing changed.")


def rules(found: Rules) -> RenderableType:
    """The program's pairing rules: one row per pair, when it was added, who was removed."""
    if not found.rules:
        return Text.assemble(
            "No pairing rules in ",
            literal(found.program, "bold"),
            ": add one with 'sessionctl member avoid ",
            literal(found.program),
            " EMAIL EMAIL'.",
        )
    zone = load_zone(found.timezone)
    notes = [", ".join(f"{email} removed" for email in r.removed) for r in found.rules]
    table = Table(box=box.SIMPLE_HEAD)
    for header in ("Member", "Kept apart from", "Added", *(["Note"] if any(notes) else [])):
        table.add_column(header)
    for r, note in zip(found.rules, notes, strict=True):
        row = [literal(r.a), literal(r.b), Text(format_local(r.added_at, zone))]
        table.add_row(*row, *([literal(note, "dim")] if any(notes) else []))
    return table


def _rounds(ids: list[int]) -> str:
    if len(ids) == 1:
        return f"round {ids[0]}"
    return "rounds " + ", ".join(map(str, ids[:-1])) + f" and {ids[-1]}"
