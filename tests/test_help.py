"""Every command has help with an example, and help stays fast (no database libraries)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import typer

from sessionctl import __version__
from sessionctl.cli import app
from tests.conftest import Invoke

HEAVY = ("sqlalchemy", "alembic", "sqlmodel", "smtplib")


def _walk(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = [(path, command)]
    for name, child in sorted(getattr(command, "commands", {}).items()):
        found += _walk(child, (*path, name))
    return found


COMMANDS = _walk(typer.main.get_command(app))


def test_the_tree_has_the_documented_commands() -> None:
    paths = {" ".join(path) for path, _ in COMMANDS}
    expected = {"program add", "program set", "program list", "program show"}
    expected |= {"member add", "member import", "member list", "member remove"}
    expected |= {"member show", "member set"}
    expected |= {"db status", "db upgrade"}
    assert expected <= paths


@pytest.mark.parametrize(
    ("path", "command"),
    [pytest.param(path, command, id=" ".join(path) or "sessionctl") for path, command in COMMANDS],
)
def test_every_command_has_help_with_an_example(
    cli: Invoke, path: tuple[str, ...], command: Any
) -> None:
    assert "Example:" in (command.help or "")
    result = cli(*path, "--help")
    assert result.code == 0
    assert result.stderr == ""
    assert result.stdout.startswith(f"Usage: {' '.join(('sessionctl', *path))} ")
    assert (
        "Example:\n    sessionctl " in result.stdout or "Example:\n  sessionctl " in result.stdout
    )
    assert "\x1b" not in result.stdout


def test_short_help_flag(cli: Invoke) -> None:
    assert cli("-h").stdout == cli("--help").stdout


def test_version(cli: Invoke) -> None:
    result = cli("--version")
    assert (result.code, result.stdout, result.stderr) == (0, f"sessionctl {__version__}\n", "")


@pytest.mark.parametrize("path", [(), ("program",), ("member",), ("db",)])
def test_a_group_without_a_command_shows_its_help(cli: Invoke, path: tuple[str, ...]) -> None:
    result = cli(*path)
    assert result.code == 2
    assert result.stderr == ""
    assert result.stdout.startswith(f"Usage: {' '.join(('sessionctl', *path))} ")
    assert "Commands:\n" in result.stdout


@pytest.mark.parametrize(
    "argv", [["--help"], ["--version"], ["program", "--help"], ["member", "import", "--help"]]
)
def test_help_and_version_import_no_database_or_mail_library(argv: list[str]) -> None:
    code = (
        "import json, sys\n"
        "from sessionctl.cli import run\n"
        f"code = run({argv!r})\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {set(HEAVY)!r})\n"
        "print(json.dumps([code, heavy]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [0, []]
