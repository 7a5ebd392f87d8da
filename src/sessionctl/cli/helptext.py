"""How help reads: usage lines as in the manual (``sessionctl schedule PROGRAM --match WHEN
[OPTIONS]``), option tables whose help says defaults in words, whole first sentences in command
lists, and no name split over two lines (Click's wrapping breaks ``--link-base`` at its dash).

Typer has no setting for the class of every command of an app, so ``polish`` gives the classes
below to the tree Typer built, once per process. Their error paths import cli/usage.py.
"""

from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

_HYPHEN = "\u2011"  # stands for "-" while Click wraps text; put back once it is laid out
_SPACE = "\u00a0"  # the same for the space inside a usage piece such as "--match WHEN"


def polish(root: Any) -> Any:
    """Give every command of the tree sessionctl's help and usage errors; return the root."""
    todo = [root]
    while todo:
        command = todo.pop()
        command.__class__ = Group if isinstance(command, TyperGroup) else Command
        if command.short_help is None and command.help:
            command.short_help = first_sentence(command.help)
        todo += getattr(command, "commands", {}).values()
    return root


def first_sentence(help_text: str) -> str:
    """The first sentence of the first paragraph: what command lists show, never cut."""
    paragraph = " ".join(help_text.split("\n\n", 1)[0].split())
    end = paragraph.find(". ")
    return paragraph if end < 0 else paragraph[: end + 1]


def display_name(param: Any) -> str:
    """An argument's name as in usage lines (``PROGRAM``), an option's longest name."""
    if isinstance(param, TyperArgument):
        return (param.metavar or param.name.upper()).strip("[]")
    return str(max(param.opts, key=len))


def option_form(param: Any) -> str:
    """``--weeks N``, ``--json``, ``-o, --output FILE``, ``--opt-in / --no-opt-in``."""
    names = ", ".join(sorted(param.opts, key=len))
    if param.secondary_opts:
        names += " / " + ", ".join(param.secondary_opts)
    if param.is_flag or param.count:
        return names
    return f"{names} {param.metavar or param.name.upper()}"


class Command(TyperCommand):
    """A command whose help, usage and errors read as sessionctl's."""

    def get_help(self, ctx: Any) -> str:
        return _laid_out(super().get_help(ctx))

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        """Arguments, then the options the command cannot run without, then [OPTIONS]."""
        pieces = []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = display_name(param) + ("..." if param.nargs != 1 else "")
                pieces.append(name if param.required else f"[{name}]")
            elif param.required:
                pieces.append(_kept(option_form(param)).replace(" ", _SPACE))
        return [*pieces, "[OPTIONS]"]

    def format_help_text(self, ctx: Any, formatter: Any) -> None:
        if self.help:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(_kept(self.help))

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """The Arguments and Options tables: each name whole, then its help as written."""
        params: list[Any] = [p for p in self.get_params(ctx) if not getattr(p, "hidden", False)]
        arguments = [p for p in params if isinstance(p, TyperArgument)]
        options = [p for p in params if not isinstance(p, TyperArgument)]
        for title, rows in (
            ("Arguments", [(display_name(p), _kept(p.help or "")) for p in arguments]),
            ("Options", [(_kept(option_form(p)), _kept(p.help or "")) for p in options]),
        ):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        extra_allowed = ctx.allow_extra_args
        ctx.allow_extra_args = True  # arguments left over are named below, each one whole
        try:
            rest: list[str] = super().parse_args(ctx, args)
        except typer.TyperException as err:
            if getattr(err, "ctx", False) is None:  # an option's missing value: tie it here
                err.ctx = ctx  # type: ignore[attr-defined]
            raise
        finally:
            ctx.allow_extra_args = extra_allowed
        if rest and not extra_allowed and not ctx.resilient_parsing:
            from sessionctl.cli.usage import ExtraArguments

            raise ExtraArguments(rest, ctx=ctx)
        return rest


class Group(Command, TyperGroup):
    """A group whose help, usage and errors read as sessionctl's: Command's help and parsing,
    then TyperGroup's subcommands (its parse_args and resolve_command come after ours)."""

    collect_usage_pieces = TyperGroup.collect_usage_pieces  # [OPTIONS] COMMAND [ARGS]...

    def format_options(self, ctx: Any, formatter: Any) -> None:
        super().format_options(ctx, formatter)
        listed = [(name, cmd) for name, cmd in self.commands.items() if not cmd.hidden]
        rows = [(name, _kept(cmd.get_short_help_str())) for name, cmd in listed]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[Any, Any, list[str]]:
        name = args[0]
        if name in self.commands or name.startswith("-") or ctx.resilient_parsing:
            return super().resolve_command(ctx, args)  # type: ignore[no-any-return]
        from sessionctl.cli.usage import UnknownCommand

        raise UnknownCommand(name, choices=list(self.commands), ctx=ctx)


def _kept(text: str) -> str:
    return text.replace("-", _HYPHEN)


def _laid_out(text: str) -> str:
    text = text.replace(_HYPHEN, "-").replace(_SPACE, " ")
    return "\n".join(line.rstrip() for line in text.split("\n"))
