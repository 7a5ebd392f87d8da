"""Shell completion (bash, zsh, fish): candidates attached to the built command tree by name.

One hook here rather than an ``autocompletion=`` on every declaration: a parameter gets its
candidates from its name wherever it appears, so a command added later completes without a
change here (any EMAIL argument under ``member`` offers the program's members).

Completion reads the database that --db, SESSIONCTL_DB or the config file names, exactly as the
commands do, but read-only: it never creates or migrates one, and a missing, locked or damaged
database (or any other failure) gives no candidates rather than text in the user's shell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from typer._click.shell_completion import CompletionItem, add_completion_class
from typer._completion_classes import FishComplete, ZshComplete
from typer.core import TyperArgument, TyperGroup, TyperOption

if TYPE_CHECKING:
    from typer._click import Command, Context, Parameter

    from sessionctl.config import Settings
    from sessionctl.services.completion import Candidate

Lookup = Callable[["Context", str], "list[Candidate]"]

# Whose emails a member command offers: None for all, removed ones marked as such.
_MEMBER_STATE: dict[str, bool] = {  # add brings a removed one back
    "add": False,
    "remove": True,
    "pause": True,
    "resume": True,
}


def attach(root: Command) -> None:
    """Give every parameter that has candidates its completion, and plain zsh/fish output."""
    for path, command in _walk(root, ()):
        for param in command.params:
            lookup = _lookup_for(path, param)
            if lookup is not None:
                param._custom_shell_complete = partial(_complete, lookup)
    add_completion_class(_ZshComplete, _ZshComplete.name)
    add_completion_class(_FishComplete, _FishComplete.name)


def _walk(command: Command, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Command]]:
    yield path, command
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from _walk(sub, (*path, name))


def _lookup_for(path: tuple[str, ...], param: Parameter) -> Lookup | None:
    group = path[0] if len(path) > 1 else ""
    if isinstance(param, TyperArgument):
        return _argument_lookup(path, group, param.name)
    if isinstance(param, TyperOption):
        return _option_lookup(path, param.name)
    return None


def _argument_lookup(path: tuple[str, ...], group: str, name: str) -> Lookup | None:
    if name == "program" or (name == "name" and group == "program" and path[-1] != "add"):
        return _programs
    if name == "round_id":
        return partial(_rounds, path=path)
    if group == "member" and name in ("email", "first", "second"):  # avoid names two
        return partial(_members, active=_MEMBER_STATE.get(path[-1]))
    if name == "email" and path == ("respond",):
        return _round_members
    if name == "answer" and path == ("respond",):
        return partial(_values, ("yes", "no"))
    return None


def _option_lookup(path: tuple[str, ...], name: str) -> Lookup | None:
    if name == "status":
        if path == ("messages",):
            return _message_statuses
        return _round_statuses
    if name == "repeat":
        return _repeats
    if name == "tz":
        return _zones
    return None


def _complete(lookup: Lookup, ctx: Context, _param: Parameter, typed: str) -> list[CompletionItem]:
    """What the shell receives: every failure means no candidates, never output of its own."""
    from sessionctl.render.text import clean

    try:
        found = lookup(ctx, typed)
    except Exception:  # a Tab press must not put an error or a traceback into the shell
        return []
    return [
        CompletionItem(c.value, help=clean(_one_line(c.help)) if c.help else None) for c in found
    ]


def _settings(ctx: Context) -> Settings:
    from sessionctl import config

    return config.resolve(ctx.find_root().params.get("db_option"))


def _programs(ctx: Context, typed: str) -> list[Candidate]:
    from sessionctl.services import completion

    return completion.programs(_settings(ctx), typed=typed)


def _rounds(ctx: Context, typed: str, *, path: tuple[str, ...]) -> list[Candidate]:
    """The rounds the command can act on; a command without a rule here offers them all."""
    from sessionctl.domain.rounds import FINAL, Status
    from sessionctl.services import completion

    by_command: dict[tuple[str, ...], frozenset[str]] = {
        ("update",): frozenset(Status) - FINAL,
        ("cancel",): frozenset(Status) - FINAL,
        ("respond",): frozenset({Status.OPEN}),
        ("groups",): frozenset(Status) - {Status.CANCELLED, Status.MISSED},  # formed or preview
    }
    return completion.rounds(_settings(ctx), typed=typed, statuses=by_command.get(path))


def _members(ctx: Context, typed: str, *, active: bool | None) -> list[Candidate]:
    from sessionctl.services import completion

    program = ctx.params.get("program")
    if not isinstance(program, str):
        return []
    return completion.members(_settings(ctx), program=program, typed=typed, active=active)


def _round_members(ctx: Context, typed: str) -> list[Candidate]:
    from sessionctl.services import completion

    round_id = ctx.params.get("round_id")
    if not isinstance(round_id, int):
        return []
    return completion.round_members(_settings(ctx), round_id=round_id, typed=typed)


def _round_statuses(ctx: Context, typed: str) -> list[Candidate]:
    from sessionctl.domain.rounds import Status

    return _values(tuple(status.value for status in Status), ctx, typed)


def _message_statuses(ctx: Context, typed: str) -> list[Candidate]:
    from sessionctl.domain.messages import STATUSES

    return _values(STATUSES, ctx, typed)


def _repeats(ctx: Context, typed: str) -> list[Candidate]:
    from sessionctl.domain.recurrence import Repeat

    return _values(tuple(repeat.value for repeat in Repeat), ctx, typed)


def _zones(ctx: Context, typed: str) -> list[Candidate]:
    from sessionctl.services import completion

    return completion.zones(typed=typed)


def _values(choices: tuple[str, ...], ctx: Context, typed: str) -> list[Candidate]:
    from sessionctl.services import completion

    return completion.values(choices, typed=typed)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _zsh_quote(text: str) -> str:
    """Typer's quoting for its ``_arguments '*: :(("value":"help"))'`` line."""
    for char, escaped in (('"', '""'), ("'", "''"), ("$", "\\$"), ("`", "\\`"), (":", r"\\:")):
        text = text.replace(char, escaped)
    return text


class _ZshComplete(ZshComplete):
    """Typer's zsh completion, descriptions as plain text.

    Typer renders descriptions as Rich markup at the terminal's width: a long one wraps into a
    broken line, and a name such as "[b]Ana" loses its brackets.
    """

    def format_completion(self, item: CompletionItem) -> str:
        if item.help:
            return f'"{_zsh_quote(item.value)}":"{_zsh_quote(_one_line(item.help))}"'
        return f'"{_zsh_quote(item.value)}"'


class _FishComplete(FishComplete):
    """Typer's fish completion, descriptions as plain text (see ``_ZshComplete``)."""

    def format_completion(self, item: CompletionItem) -> str:
        if item.help:
            return f"{item.value}\t{_one_line(item.help)}"
        return f"{item.value}"
