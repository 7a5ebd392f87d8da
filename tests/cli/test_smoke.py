"""The basic flow through the real CLI."""

from __future__ import annotations

from tests.conftest import Invoke


def test_program_add_then_list_as_json(cli: Invoke) -> None:
    added = cli("program", "add", "coffee-paris", "--tz", "Europe/Paris")
    assert added.code == 0, added.stderr
    listed = cli("program", "list", "--json")
    assert listed.code == 0
    assert listed.json() == [
        {
            "name": "coffee-paris",
            "title": "coffee-paris",
            "timezone": "Europe/Paris",
            "opt_in": True,
            "group_size": 2,
            "sender": None,
            "link_base": None,
            "grace_hours": 24,
            "lookback": None,
            "reply_to": None,
            "bounce_limit": 3,
            "language": "en",
            "icebreakers": None,
            "members": 0,
            "archived": False,
            "reminder_hours": 24,
            "reminder_below": None,
        }
    ]


def test_unknown_option_is_one_error_line_and_exit_2(cli: Invoke) -> None:
    result = cli("program", "add", "x", "--frobnicate")
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: unknown option --frobnicate (see sessionctl program add --help)\n"
    )
