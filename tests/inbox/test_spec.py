"""The inbox setting as people write it, and the settings refused with a clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from sessionctl.errors import InputError
from sessionctl.inbox import InboxSpec, open_inbox, parse_inbox

USAGE = "use imaps://USER@HOST:993/FOLDER, imap+starttls://USER@HOST:143/FOLDER or maildir:PATH"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "imaps://replies%40example.com@mail.example.com/INBOX",
            InboxSpec("imaps", "mail.example.com", 993, "replies@example.com", "INBOX"),
        ),
        (
            "imaps://replies@example.com@mail.example.com:10993",
            InboxSpec("imaps", "mail.example.com", 10993, "replies@example.com", "INBOX"),
        ),
        (
            "IMAP+STARTTLS://robot@Mail.Example.com/",
            InboxSpec("imap+starttls", "mail.example.com", 143, "robot", "INBOX"),
        ),
        (
            "imaps://robot@mail.example.com/Lists/Coffee%20roulette",
            InboxSpec("imaps", "mail.example.com", 993, "robot", "Lists/Coffee roulette"),
        ),
        (
            "imaps://robot@[2001:db8::1]:993/Réponses",
            InboxSpec("imaps", "2001:db8::1", 993, "robot", "Réponses"),
        ),
        ("imap://robot@127.0.0.1:1143/INBOX", InboxSpec("imap", "127.0.0.1", 1143, "robot")),
        ("imap://robot@localhost", InboxSpec("imap", "localhost", 143, "robot")),
        ("  maildir:/var/mail/replies  ", InboxSpec("maildir", path=Path("/var/mail/replies"))),
    ],
)
def test_the_accepted_forms(text: str, expected: InboxSpec) -> None:
    assert parse_inbox(text) == expected


def test_a_maildir_path_starting_with_a_tilde_is_in_the_home_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert parse_inbox("maildir:~/Maildir").path == tmp_path / "Maildir"


@pytest.mark.parametrize(
    "text",
    [
        "imaps://replies@example.com@mail.example.com:993/INBOX",
        "imap+starttls://robot@mail.example.com:143/Lists/Coffee%20roulette",
        "imaps://robot@[2001:db8::1]:993/R%C3%A9ponses",
        "maildir:/var/mail/replies",
    ],
)
def test_describe_writes_the_setting_back_as_it_is_parsed(text: str) -> None:
    assert parse_inbox(text).describe() == text
    assert parse_inbox(parse_inbox(text).describe()) == parse_inbox(text)


def test_the_address_is_the_login_when_it_is_an_email_address() -> None:
    assert parse_inbox("imaps://replies%40example.com@mail.example.com").address == (
        "replies@example.com"
    )
    assert parse_inbox("imaps://robot@mail.example.com").address is None
    assert parse_inbox("maildir:/var/mail/replies").address is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "maildir:",
        "pop3://robot@mail.example.com",
        "imaps:/robot@mail.example.com",
        "imaps://mail.example.com/INBOX",  # no user to log in as
        "imaps://robot@/INBOX",
        "imaps://robot@mail.example.com:0",
        "imaps://robot@mail.example.com:99999",
        "imaps://robot@mail.example.com:port",
        "imaps://robot@mail.example.com/INBOX?x=1",
        "imaps://robot@mail.example.com/INBOX#top",
        "imaps://robot@mail.example.com/Lists//Coffee",
        "imaps://robot@mail.example.com/INBOX%0D%0AA1%20DELETE%20INBOX",
        "imaps://robot%0D%0A@mail.example.com",
    ],
)
def test_bad_settings_say_the_accepted_forms(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_inbox(text)
    assert str(caught.value) == f"invalid inbox {text.strip()!r}: {USAGE}"


@pytest.mark.parametrize(
    "text",
    [
        "imaps://robot:hunter2secret@mail.example.com/INBOX",
        "imaps://replies@example.com:hunter2secret@mail.example.com",
        "imap+starttls://robot:hunter2/secret@mail.example.com:143",
        "imaps://robot:hunter2secret@mail.example.com:port",
    ],
)
def test_a_password_in_the_setting_is_refused_without_being_shown(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_inbox(text)
    message = str(caught.value)
    assert "hunter2" not in message
    assert "secret" not in message
    assert "***" in message
    assert "\n" not in message


def test_a_password_is_refused_with_the_variable_to_use() -> None:
    with pytest.raises(InputError) as caught:
        parse_inbox("imaps://robot:hunter2@mail.example.com/INBOX")
    assert str(caught.value) == (
        "inbox 'imaps://robot:***@mail.example.com/INBOX' holds a password: "
        "remove it and set SESSIONCTL_IMAP_PASSWORD"
    )


def test_plain_imap_is_refused_beyond_this_machine() -> None:
    with pytest.raises(InputError) as caught:
        parse_inbox("imap://robot@mail.example.com/INBOX")
    assert str(caught.value) == (
        "inbox 'imap://robot@mail.example.com/INBOX' would send the password unencrypted: "
        "use imaps://USER@HOST:993/FOLDER or imap+starttls://USER@HOST:143/FOLDER"
    )


def test_imap_without_a_password_names_the_variable_to_set() -> None:
    spec = parse_inbox("imaps://replies@example.com@mail.example.com/INBOX")
    for password in (None, ""):
        with pytest.raises(InputError) as caught:
            open_inbox(spec, password=password)
        assert str(caught.value) == (
            "inbox imaps://replies@example.com@mail.example.com:993/INBOX logs in as "
            "replies@example.com: set SESSIONCTL_IMAP_PASSWORD to its password"
        )


def test_a_maildir_needs_no_password(tmp_path: Path) -> None:
    assert open_inbox(parse_inbox(f"maildir:{tmp_path}"), password=None) is not None
