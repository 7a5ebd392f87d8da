"""Usage errors in sessionctl's own voice: one line that names the option or argument at fault.

The forms, for every kind of error Typer and Click raise while reading the command line:

- a bad value:        ``--weeks: must be 1 to 104 (got 0)``, ``ROUND: must be a whole number
  (got 'x')``, ``--status: must be one of a, b or c (got 'x')``, and the refusals of our own
  option checks: ``--sender: invalid email 'x': use a plain address such as ana@example.com``;
- a missing value:    ``--weeks: needs a value (--weeks N)``; a flag given one:
  ``--json: takes no value``;
- what the user must look up, with where to look:
  ``unknown command 'lst': did you mean 'list'? (see sessionctl --help)``,
  ``unknown option --jso: did you mean --json? (see sessionctl program list --help)``,
  ``missing argument EMAIL (see sessionctl member add --help)``,
  ``missing option --match WHEN (see sessionctl schedule --help)``,
  ``unexpected argument 'c' (see sessionctl respond --help)``.

User text is quoted with ``repr`` (option names are not quoted: their dashes set them apart);
the boundary escapes whatever control characters remain, so the error stays one line.
"""

from __future__ import annotations

import sys
from difflib import get_close_matches
from typing import Any

import typer

from sessionctl.cli.helptext import display_name, option_form

_RANGE_ERRORS = {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}
_NUMBER_ERRORS = {"int_parsing", "int_type", "int_from_float", "float_parsing", "float_type"}


class UnknownCommand(typer.TyperException):
    """A command name that is not one of the group's."""

    exit_code = 2

    def __init__(self, name: str, *, choices: list[str], ctx: Any) -> None:
        super().__init__(f"unknown command {name!r}")
        self.name = name
        self.choices = choices
        self.ctx = ctx


class ExtraArguments(typer.TyperException):
    """Arguments left over once every argument of the command has its value."""

    exit_code = 2

    def __init__(self, extra: list[str], *, ctx: Any) -> None:
        super().__init__("unexpected arguments")
        self.extra = extra
        self.ctx = ctx


def describe(err: typer.TyperException) -> str:
    """The one-line message (without ``error:``) for a usage error."""
    ctx = getattr(err, "ctx", None)
    kind = type(err).__name__
    option: str = getattr(err, "option_name", "")
    if isinstance(err, UnknownCommand):
        matches = get_close_matches(err.name, err.choices)
        return _see(f"unknown command {err.name!r}{_suggestion(matches, quote=True)}", ctx)
    if isinstance(err, ExtraArguments):
        extra = [repr(arg) for arg in err.extra]
        noun = "argument" if len(extra) == 1 else "arguments"
        return _see(f"unexpected {noun} {_listed(extra, 'and')}", ctx)
    if kind == "NoSuchOption":
        matches = list(getattr(err, "possibilities", None) or [])
        return _see(f"unknown option {option}{_suggestion(matches, quote=False)}", ctx)
    if kind == "BadOptionUsage":
        return _option_usage(option, ctx) or _see(_sentence(err.message), ctx)
    if kind == "MissingParameter":
        return _missing(err, ctx)
    if isinstance(err, typer.BadParameter) and err.param is not None:
        return f"{display_name(err.param)}: {_value_problem(err, err.param)}"
    if kind == "UsageError" and err.message == "Missing command.":
        return _see("missing command", ctx)
    return _see(_sentence(err.format_message()), ctx)


def _suggestion(matches: list[str], *, quote: bool) -> str:
    if not matches:
        return ""
    shown = [repr(m) if quote else m for m in matches]
    return f": did you mean {_listed(shown, 'or')}?"


def _option_usage(option_name: str, ctx: Any) -> str | None:
    """An option given without its value, or a flag given one."""
    param = _option_named(option_name, ctx)
    if param is None:
        return None
    if param.is_flag or param.count:
        return f"{option_name}: takes no value"
    return f"{option_name}: needs a value ({option_form(param).rpartition(', ')[2]})"


def _option_named(option_name: str, ctx: Any) -> Any:
    if ctx is None:
        return None
    for param in ctx.command.get_params(ctx):
        if option_name in (*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())):
            return param
    return None


def _missing(err: Any, ctx: Any) -> str:
    param = err.param
    if param is None:
        return _see(_sentence(err.format_message()), ctx)
    if param.param_type_name == "argument":
        return _see(f"missing argument {display_name(param)}", ctx)
    return _see(f"missing option {option_form(param).rpartition(', ')[2]}", ctx)


def _value_problem(err: typer.BadParameter, param: Any) -> str:
    """What is wrong with the value: Typer's checks (Pydantic's words) said as the rule."""
    error = _validation_error(err)
    if error is None:  # our own option checks, and Typer's file and path checks
        return _sentence(err.message)
    kind, given = error.get("type"), error.get("input")
    if kind in _RANGE_ERRORS:
        return f"must be {_range(param.min, param.max)} (got {given})"
    if kind in _NUMBER_ERRORS:
        whole = "a whole number" if kind.startswith("int") else "a number"
        return f"must be {whole} (got {given!r})"
    choices = getattr(getattr(param, "type_descriptor", None), "choices", None)
    if choices:
        names = [str(getattr(c, "value", c)) for c in choices]
        return f"must be one of {_listed(names, 'or')} (got {given!r})"
    return f"{_sentence(str(error.get('msg', err.message)))} (got {given!r})"


def _validation_error(err: typer.BadParameter) -> dict[str, Any] | None:
    """The first error of the Pydantic validation Typer coerces values with, if it was that."""
    cause = err.__cause__
    if cause is None or "pydantic" not in sys.modules:
        return None
    from pydantic import ValidationError  # already imported: Typer's coercion raised it

    if not isinstance(cause, ValidationError) or not cause.errors():
        return None
    return dict(cause.errors()[0])


def _range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low} to {high}"
    return f"{low} or more" if low is not None else f"{high} or less"


def _listed(words: list[str], last: str) -> str:
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def _sentence(message: str) -> str:
    """Click's capitalised sentence as a clause after ``error:``."""
    text = message.strip().rstrip(".")
    return text[:1].lower() + text[1:]


def _see(message: str, ctx: Any) -> str:
    """Point at the help of the command whose command line was wrong."""
    if ctx is None:
        return message
    return f"{message} (see {ctx.command_path} --help)"
