"""program add | set | list | show through the real CLI on a real database of its own."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Invoke, Result


def _program(**changes: Any) -> dict[str, Any]:
    """The JSON of a freshly added ``coffee-paris`` with ``changes`` applied."""
    data: dict[str, Any] = {
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
    return {**data, **changes}


def _assert_error(result: Result, message: str, *, code: int = 2) -> None:
    assert result.code == code
    assert result.stdout == ""
    assert result.stderr == f"error: {message}\n"


def _listed(cli: Invoke) -> Any:
    listed = cli("program", "list", "--json")
    assert listed.code == 0, listed.stderr
    return listed.json()


NO_SENDER = (
    "note: messages will go out from sessionctl@localhost; "
    "set a sender with: sessionctl program set coffee-paris --sender EMAIL\n"
)


@pytest.fixture
def coffee(cli: Invoke) -> None:
    result = cli("program", "add", "coffee-paris", "--tz", "Europe/Paris")
    assert result.code == 0, result.stderr


# --- program add -------------------------------------------------------------------------------


def test_add_prints_sentence_and_settings(cli: Invoke) -> None:
    result = cli("program", "add", "coffee-paris", "--tz", "Europe/Paris")
    assert result.code == 0
    assert result.stderr == NO_SENDER
    assert [line.rstrip() for line in result.stdout.splitlines()] == [
        "Program coffee-paris added.",
        "name        coffee-paris",
        "title       coffee-paris",
        "timezone    Europe/Paris",
        "opt-in      yes",
        "group size  2",
        "sender      -",
        "link base   -",
        "grace       24 h",
        "lookback    all rounds",
        "reply to    -",
        "bounces     3 hard bounces in a row deactivate",
        "language    en",
        "starters    default",
        "reminder    24 h before the match, when fewer joined than usual (median)",
        "members     0",
    ]


def test_add_json_gives_defaults(cli: Invoke) -> None:
    result = cli("program", "add", "coffee-paris", "--tz", "Europe/Paris", "--json")
    assert result.code == 0
    assert result.stderr == NO_SENDER
    assert result.json() == _program()


def test_add_with_every_option(cli: Invoke) -> None:
    result = cli(
        "program", "add", "coffee-paris",
        "--tz", "Asia/Tokyo",
        "--no-opt-in",
        "--group-size", "3",
        "--title", "Coffee in Paris",
        "--sender", "coffee@example.com",
        "--link-base", "https://coffee.example.com/",
        "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    expected = _program(
        title="Coffee in Paris",
        timezone="Asia/Tokyo",
        opt_in=False,
        group_size=3,
        sender="coffee@example.com",
        link_base="https://coffee.example.com",
    )
    assert result.json() == expected
    assert _listed(cli) == [expected]


def test_add_without_tz_uses_the_machine_zone(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    result = cli("program", "add", "coffee-paris", "--json")
    assert result.code == 0, result.stderr
    assert result.json() == _program(timezone="America/New_York")


def test_add_with_explicit_opt_in(cli: Invoke) -> None:
    result = cli("program", "add", "coffee-paris", "--tz", "Europe/Paris", "--opt-in", "--json")
    assert result.code == 0, result.stderr
    assert result.json() == _program(opt_in=True)


@pytest.mark.parametrize("size", [2, 3, 4, 5, 6])
def test_add_accepts_group_sizes_2_to_6(cli: Invoke, size: int) -> None:
    result = cli(
        "program", "add", "coffee-paris", "--tz", "Europe/Paris", "--group-size", size, "--json"
    )
    assert result.code == 0, result.stderr
    assert result.json() == _program(group_size=size)


@pytest.mark.parametrize("size", [-1, 0, 1, 7, 100])
def test_add_refuses_group_sizes_outside_2_to_6(cli: Invoke, empty_db: None, size: int) -> None:
    result = cli("program", "add", "coffee-paris", "--group-size", str(size))
    _assert_error(result, f"--group-size: must be 2 to 6 (got {size})")
    assert _listed(cli) == []


def test_add_refuses_a_group_size_that_is_not_a_number(cli: Invoke) -> None:
    result = cli("program", "add", "coffee-paris", "--group-size", "two")
    _assert_error(result, "--group-size: must be a whole number (got 'two')")


@pytest.mark.parametrize(
    ("zone", "fix"),
    [
        ("Mars/Olympus", ": use an IANA name such as Europe/Paris"),
        ("europe/paris", " (did you mean Europe/Paris?)"),
        ("Europe", ": use an IANA name such as Europe/Paris"),
        ("../etc/passwd", ": use an IANA name such as Europe/Paris"),
        (" Europe/Paris", " (did you mean Europe/Paris?)"),
        ("", ": use an IANA name such as Europe/Paris"),
    ],
)
def test_add_refuses_an_unknown_timezone(cli: Invoke, empty_db: None, zone: str, fix: str) -> None:
    result = cli("program", "add", "coffee-paris", "--tz", zone)
    _assert_error(result, f"--tz: unknown timezone {zone!r}{fix}")
    assert _listed(cli) == []


@pytest.mark.parametrize(
    "name", ["Coffee", "coffee_paris", "-coffee", "coffee-", "coffee paris", "café", "a" * 64]
)
def test_add_refuses_a_name_that_is_not_a_slug(cli: Invoke, empty_db: None, name: str) -> None:
    result = cli("program", "add", "--tz", "UTC", "--", name)
    _assert_error(
        result,
        f"invalid program name {name!r}: use lowercase letters, digits and dashes, "
        "e.g. coffee-paris",
    )
    assert _listed(cli) == []


def test_add_accepts_a_63_character_name(cli: Invoke) -> None:
    result = cli("program", "add", "a" * 63, "--tz", "UTC", "--json")
    assert result.code == 0, result.stderr
    assert result.json()["name"] == "a" * 63


@pytest.mark.parametrize("sender", ["nope", "Ana <ana@example.com>", "ana@", "ana@localhost"])
def test_add_refuses_a_bad_sender(cli: Invoke, empty_db: None, sender: str) -> None:
    result = cli("program", "add", "coffee-paris", "--sender", sender)
    _assert_error(
        result, f"--sender: invalid email {sender!r}: use a plain address such as ana@example.com"
    )
    assert _listed(cli) == []


@pytest.mark.parametrize(
    "url", ["ftp://coffee.example.com", "coffee.example.com", "https://", "https://a b.example"]
)
def test_add_refuses_a_bad_link_base(cli: Invoke, empty_db: None, url: str) -> None:
    result = cli("program", "add", "coffee-paris", "--link-base", url)
    _assert_error(
        result,
        f"--link-base: invalid link base {url!r}: use an http(s) URL such as "
        "https://coffee.example.com",
    )
    assert _listed(cli) == []


def test_add_refuses_a_title_with_control_characters(cli: Invoke, empty_db: None) -> None:
    result = cli("program", "add", "coffee-paris", "--title", "a\x1b[2Jb")
    _assert_error(
        result,
        "--title: invalid title 'a\\x1b[2Jb': it must be one line without control or "
        "bidi-override characters",
    )
    assert "\x1b" not in result.stderr
    assert _listed(cli) == []


def test_add_refuses_a_title_that_is_too_long(cli: Invoke) -> None:
    result = cli("program", "add", "coffee-paris", "--title", "x" * 201)
    _assert_error(result, "--title: title is too long (201 characters, at most 200)")


def test_add_refuses_a_duplicate_name_and_keeps_the_first(cli: Invoke, coffee: None) -> None:
    result = cli("program", "add", "coffee-paris", "--tz", "Asia/Tokyo", "--group-size", "4")
    _assert_error(
        result,
        "program 'coffee-paris' already exists: "
        "change it with 'sessionctl program set coffee-paris'",
    )
    assert _listed(cli) == [_program()]


def test_add_without_name_is_a_usage_error(cli: Invoke) -> None:
    result = cli("program", "add")
    _assert_error(result, "missing argument NAME (see sessionctl program add --help)")


# --- program set -------------------------------------------------------------------------------


def test_set_changes_only_the_options_given(cli: Invoke, coffee: None) -> None:
    result = cli("program", "set", "coffee-paris", "--group-size", "3", "--no-opt-in", "--json")
    assert result.code == 0, result.stderr
    assert result.stderr == NO_SENDER
    assert result.json() == _program(group_size=3, opt_in=False)
    result = cli("program", "set", "coffee-paris", "--title", "Coffee", "--json")
    assert result.json() == _program(group_size=3, opt_in=False, title="Coffee")
    result = cli("program", "set", "coffee-paris", "--opt-in", "--tz", "UTC", "--json")
    assert result.json() == _program(group_size=3, title="Coffee", timezone="UTC")
    assert _listed(cli) == [_program(group_size=3, title="Coffee", timezone="UTC")]


def test_set_prints_sentence_and_settings(cli: Invoke, coffee: None) -> None:
    result = cli("program", "set", "coffee-paris", "--group-size", "4")
    assert result.code == 0
    assert result.stderr == NO_SENDER
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert lines[0] == "Program coffee-paris updated."
    assert "group size  4" in lines


def test_set_sender_and_link_base_then_clear_them(cli: Invoke, coffee: None) -> None:
    result = cli(
        "program", "set", "coffee-paris",
        "--sender", "coffee@example.com",
        "--link-base", "http://localhost:8080/r/",
        "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert result.json() == _program(
        sender="coffee@example.com", link_base="http://localhost:8080/r"
    )
    result = cli("program", "set", "coffee-paris", "--sender", "", "--link-base", "", "--json")
    assert result.code == 0, result.stderr
    assert result.json() == _program()


def test_set_validates_like_add_and_changes_nothing(cli: Invoke, coffee: None) -> None:
    cases = [
        (["--tz", "Nowhere/Town"], "--tz: unknown timezone 'Nowhere/Town': use an IANA name "
         "such as Europe/Paris"),
        (["--group-size", "7"], "--group-size: must be 2 to 6 (got 7)"),
        (["--sender", "nope"], "--sender: invalid email 'nope': use a plain address such as "
         "ana@example.com"),
        (["--link-base", "ftp://x.example"], "--link-base: invalid link base 'ftp://x.example': "
         "use an http(s) URL such as https://coffee.example.com"),
    ]  # fmt: skip
    for options, message in cases:
        # A valid change next to the bad one must not be applied either.
        result = cli("program", "set", "coffee-paris", "--title", "Changed", *options)
        _assert_error(result, message)
    assert _listed(cli) == [_program()]


def test_set_unknown_program(cli: Invoke, empty_db: None) -> None:
    result = cli("program", "set", "nope", "--group-size", "3")
    _assert_error(result, "no program named 'nope': see 'sessionctl program list'")


# --- program list ------------------------------------------------------------------------------


def test_list_empty(cli: Invoke, empty_db: None) -> None:
    result = cli("program", "list")
    assert result.code == 0
    assert result.stderr == ""
    assert result.stdout == "No programs yet: add one with 'sessionctl program add NAME'.\n"
    assert cli("program", "list", "--json").stdout == "[]\n"


def test_list_json_is_sorted_by_name_and_counts_active_members(cli: Invoke) -> None:
    assert cli("program", "add", "lunch", "--tz", "UTC", "--group-size", "4").code == 0
    assert cli("program", "add", "coffee-paris", "--tz", "Europe/Paris").code == 0
    for email in ("ana@example.com", "bo@example.com", "cy@example.com"):
        assert cli("member", "add", "coffee-paris", email).code == 0
    assert cli("member", "remove", "coffee-paris", "cy@example.com").code == 0
    result = cli("program", "list", "--json")
    assert result.code == 0
    assert result.stderr == ""
    assert result.json() == [
        _program(members=2),
        {
            "name": "lunch",
            "title": "lunch",
            "timezone": "UTC",
            "opt_in": True,
            "group_size": 4,
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
        },
    ]


def test_list_table(cli: Invoke, coffee: None) -> None:
    assert (
        cli("program", "add", "lunch", "--tz", "UTC", "--no-opt-in", "--title", "Lunch").code == 0
    )
    result = cli("program", "list")
    assert result.code == 0
    assert result.stderr == ""
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()]
    assert rows[0] == ["Program", "Title", "Timezone", "Opt-in", "Group", "Members"]
    assert rows[2:] == [
        ["coffee-paris", "coffee-paris", "Europe/Paris", "yes", "2", "0"],
        ["lunch", "Lunch", "UTC", "no", "2", "0"],
    ]


# --- program show ------------------------------------------------------------------------------


def test_show_json(cli: Invoke, coffee: None) -> None:
    assert cli("member", "add", "coffee-paris", "ana@example.com").code == 0
    result = cli("program", "show", "coffee-paris", "--json")
    assert result.code == 0
    assert result.stderr == ""
    assert result.json() == _program(members=1)


def test_show_human(cli: Invoke) -> None:
    added = cli(
        "program", "add", "coffee-paris", "--tz", "Europe/Paris", "--title", "Coffee [Paris]",
        "--sender", "coffee@example.com", "--link-base", "https://coffee.example.com",
    )  # fmt: skip
    assert added.code == 0, added.stderr
    result = cli("program", "show", "coffee-paris")
    assert result.code == 0
    assert result.stderr == ""
    assert [line.rstrip() for line in result.stdout.splitlines()] == [
        "name        coffee-paris",
        "title       Coffee [Paris]",
        "timezone    Europe/Paris",
        "opt-in      yes",
        "group size  2",
        "sender      coffee@example.com",
        "link base   https://coffee.example.com",
        "grace       24 h",
        "lookback    all rounds",
        "reply to    -",
        "bounces     3 hard bounces in a row deactivate",
        "language    en",
        "starters    default",
        "reminder    24 h before the match, when fewer joined than usual (median)",
        "members     0",
    ]


def test_show_unknown_program(cli: Invoke, coffee: None) -> None:
    result = cli("program", "show", "tea")
    _assert_error(result, "no program named 'tea': see 'sessionctl program list'")
    result = cli("program", "show", "tea", "--json")
    _assert_error(result, "no program named 'tea': see 'sessionctl program list'")
