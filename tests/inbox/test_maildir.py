"""A Maildir on this machine as the inbox, filled as a delivery agent fills it."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sessionctl.inbox import InboxUnavailable, may_be_ours, open_inbox, parse_inbox
from tests.inbox.mails import GMAIL_REPLY, personal_mail, reply_to_us, thunderbird_reply


def _maildir(path: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


def _deliver(maildir: Path, name: str, raw: bytes, *, sub: str = "new") -> Path:
    """Write ``raw`` as a delivery agent does: into tmp/, then renamed into new/."""
    temp = maildir / "tmp" / name.partition(":")[0]
    temp.write_bytes(raw.replace(b"\r\n", b"\n"))  # Maildir files use the local line ending
    target = maildir / sub / name
    temp.rename(target)
    return target


def test_items_are_new_and_seen_messages_oldest_first(tmp_path: Path) -> None:
    box = _maildir(tmp_path / "Maildir")
    _deliver(box, "1780300000.M1P10Q1.mx", GMAIL_REPLY)
    _deliver(box, "1780200000.M9P10Q2.mx:2,RS", thunderbird_reply(), sub="cur")
    undated = _deliver(box, "courier-style-name", thunderbird_reply(3))
    os.utime(undated, (1780250000, 1780250000))
    (box / "new" / ".hidden").write_bytes(b"not a message")

    with open_inbox(parse_inbox(f"maildir:{box}"), password=None) as inbox:
        items = list(inbox.items())
        assert inbox.address is None

    assert [item.key for item in items] == [
        "1780200000.M9P10Q2.mx",
        "courier-style-name",
        "1780300000.M1P10Q1.mx",
    ]
    assert items[0].raw == thunderbird_reply().replace(b"\r\n", b"\n")
    assert [item.received_at for item in items] == [
        datetime.fromtimestamp(1780200000, UTC),
        datetime.fromtimestamp(1780250000, UTC),
        datetime.fromtimestamp(1780300000, UTC),
    ]
    # Reading moved nothing and flagged nothing.
    assert sorted(os.listdir(box / "new")) == [
        ".hidden",
        "1780300000.M1P10Q1.mx",
        "courier-style-name",
    ]
    assert os.listdir(box / "cur") == ["1780200000.M9P10Q2.mx:2,RS"]


def test_with_wanted_only_headers_are_read_until_a_message_is_wanted(tmp_path: Path) -> None:
    box = _maildir(tmp_path / "Maildir")
    _deliver(box, "1780100000.M1P10Q1.mx", personal_mail(1))
    _deliver(box, "1780200000.M2P10Q1.mx:2,S", reply_to_us(2), sub="cur")
    _deliver(box, "1780300000.M3P10Q1.mx", personal_mail(3).replace(b"\r\n", b"\n"))
    headers: list[bytes] = []

    def wanted(header: bytes) -> bool:
        headers.append(header)
        return may_be_ours(header)

    with open_inbox(parse_inbox(f"maildir:{box}"), password=None) as inbox:
        items = list(inbox.items(wanted))

    assert [(item.key, item.raw) for item in items] == [
        ("1780200000.M2P10Q1.mx", reply_to_us(2).replace(b"\r\n", b"\n"))
    ]
    assert headers == [
        raw.replace(b"\r\n", b"\n").partition(b"\n\n")[0] + b"\n\n"
        for raw in (personal_mail(1), reply_to_us(2), personal_mail(3))
    ]
    assert sorted(os.listdir(box / "new")) == ["1780100000.M1P10Q1.mx", "1780300000.M3P10Q1.mx"]


def test_a_file_without_a_blank_line_is_all_header(tmp_path: Path) -> None:
    box = _maildir(tmp_path / "Maildir")
    _deliver(box, "1780100000.M1P10Q1.mx", b"From: MAILER-DAEMON@mx.example.com\nSubject: x")
    with open_inbox(parse_inbox(f"maildir:{box}"), password=None) as inbox:
        [item] = inbox.items(may_be_ours)
    assert item.raw == b"From: MAILER-DAEMON@mx.example.com\nSubject: x"


def test_file_flags_a_message_seen_and_moves_it_to_the_processed_folder(tmp_path: Path) -> None:
    box = _maildir(tmp_path / "Maildir")
    _deliver(box, "1780300000.M1P10Q1.mx", GMAIL_REPLY)
    _deliver(box, "1780200000.M9P10Q2.mx:2,FR", thunderbird_reply(), sub="cur")

    with open_inbox(parse_inbox(f"maildir:{box}"), password=None) as inbox:
        for item in inbox.items():
            inbox.file(item.key)
            inbox.file(item.key)  # filed already: no error
        assert list(inbox.items()) == []

    processed = box / ".sessionctl-processed"
    assert sorted(os.listdir(processed / "cur")) == [
        "1780200000.M9P10Q2.mx:2,FRS",
        "1780300000.M1P10Q1.mx:2,S",
    ]
    assert (processed / "maildirfolder").exists()  # Maildir++: mail clients show the folder
    assert (processed / "cur" / "1780300000.M1P10Q1.mx:2,S").read_bytes() == GMAIL_REPLY.replace(
        b"\r\n", b"\n"
    )
    assert os.listdir(box / "new") == os.listdir(box / "cur") == []


def test_a_message_a_mail_client_moved_to_cur_meanwhile_is_filed(tmp_path: Path) -> None:
    box = _maildir(tmp_path / "Maildir")
    delivered = _deliver(box, "1780300000.M1P10Q1.mx", GMAIL_REPLY)
    with open_inbox(parse_inbox(f"maildir:{box}"), password=None) as inbox:
        [item] = inbox.items()
        delivered.rename(box / "cur" / "1780300000.M1P10Q1.mx:2,S")
        inbox.file(item.key)
    assert os.listdir(box / ".sessionctl-processed" / "cur") == ["1780300000.M1P10Q1.mx:2,S"]


def test_a_message_filed_by_another_run_is_no_error(tmp_path: Path) -> None:
    box = _maildir(tmp_path / "Maildir")
    _deliver(box, "1780300000.M1P10Q1.mx", GMAIL_REPLY)
    spec = parse_inbox(f"maildir:{box}")
    with open_inbox(spec, password=None) as first, open_inbox(spec, password=None) as other:
        [item] = first.items()
        [same] = other.items()
        other.file(same.key)
        first.file(item.key)
    assert os.listdir(box / ".sessionctl-processed" / "cur") == ["1780300000.M1P10Q1.mx:2,S"]


def test_a_missing_maildir_is_unavailable_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "Maildir"
    inbox = open_inbox(parse_inbox(f"maildir:{missing}"), password=None)
    with pytest.raises(InboxUnavailable) as caught, inbox:
        pass
    assert str(caught.value) == f"inbox maildir {missing} does not exist"
    assert caught.value.exit_code == 1
    assert not (tmp_path / "nowhere").exists()


def test_a_folder_that_is_not_a_maildir_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "mail" / "new").mkdir(parents=True)
    inbox = open_inbox(parse_inbox(f"maildir:{tmp_path / 'mail'}"), password=None)
    with pytest.raises(InboxUnavailable) as caught, inbox:
        pass
    assert str(caught.value) == (
        f"inbox {tmp_path / 'mail'} is not a Maildir: it has no cur, tmp folder"
    )


@pytest.mark.parametrize("key", ["", "../x", ".sessionctl-processed", "a:2,S"])
def test_file_refuses_what_is_not_a_key(tmp_path: Path, key: str) -> None:
    box = _maildir(tmp_path / "Maildir")
    with (
        open_inbox(parse_inbox(f"maildir:{box}"), password=None) as inbox,
        pytest.raises(ValueError),
    ):
        inbox.file(key)
