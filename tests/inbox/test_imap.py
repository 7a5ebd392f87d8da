"""Reading and filing replies on a real Dovecot, over IMAPS and STARTTLS."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from sessionctl.errors import RunError
from sessionctl.inbox import PROCESSED_FOLDER, InboxUnavailable, open_inbox
from sessionctl.inbox.spec import InboxSpec
from tests.imapserver import (
    HOST,
    PASSWORD,
    UNICODE_PASSWORD,
    UNICODE_USER,
    Account,
    Dovecot,
    make_certificate,
)
from tests.inbox.mails import GMAIL_REPLY, thunderbird_reply

TLS_SCHEMES = ["imaps", "imap+starttls"]


@pytest.mark.parametrize("scheme", TLS_SCHEMES)
def test_items_are_the_messages_oldest_first_with_their_arrival_time(
    imap_account: Account, scheme: str
) -> None:
    arrived = datetime(2026, 3, 29, 3, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    first = imap_account.append(thunderbird_reply(), when=arrived)
    second = imap_account.append(GMAIL_REPLY, when=arrived + timedelta(minutes=1))

    with open_inbox(imap_account.spec(scheme), password=PASSWORD) as inbox:
        items = list(inbox.items())

    assert [(item.key, item.raw) for item in items] == [
        (str(first), thunderbird_reply()),
        (str(second), GMAIL_REPLY),
    ]
    assert items[0].received_at == datetime(2026, 3, 29, 1, 30, 5, tzinfo=UTC)
    assert items[0].received_at.tzinfo is UTC
    assert items[1].received_at == datetime(2026, 3, 29, 1, 31, 5, tzinfo=UTC)


def test_reading_leaves_messages_unseen_and_in_place(imap_account: Account) -> None:
    imap_account.append(thunderbird_reply())
    imap_account.append(GMAIL_REPLY, flags=r"(\Flagged)")

    with open_inbox(imap_account.spec(), password=PASSWORD) as inbox:
        assert len(list(inbox.items())) == 2

    stored = imap_account.messages()
    assert [r"\Seen" in message.flags for message in stored] == [False, False]
    assert r"\Flagged" in stored[1].flags
    assert imap_account.processed() == []


def test_an_empty_folder_has_no_items(imap_account: Account) -> None:
    with open_inbox(imap_account.spec(), password=PASSWORD) as inbox:
        assert list(inbox.items()) == []


@pytest.mark.parametrize("scheme", TLS_SCHEMES)
def test_file_moves_a_message_to_the_processed_folder_once(
    imap_account: Account, scheme: str
) -> None:
    keep = imap_account.append(thunderbird_reply())
    imap_account.append(GMAIL_REPLY)

    with open_inbox(imap_account.spec(scheme), password=PASSWORD) as inbox:
        for item in inbox.items():
            if item.raw == GMAIL_REPLY:
                inbox.file(item.key)
                inbox.file(item.key)  # filed already: no error, nothing more moved

    assert [message.uid for message in imap_account.messages()] == [keep]
    assert [message.raw for message in imap_account.processed()] == [GMAIL_REPLY]


def test_a_message_filed_by_another_run_is_no_error(imap_account: Account) -> None:
    imap_account.append(GMAIL_REPLY)
    spec = imap_account.spec()
    with open_inbox(spec, password=PASSWORD) as first, open_inbox(spec, password=PASSWORD) as other:
        [item] = first.items()
        [same] = other.items()
        other.file(same.key)
        first.file(item.key)
        assert list(first.items()) == []
    assert [message.raw for message in imap_account.processed()] == [GMAIL_REPLY]


def test_the_processed_folder_that_exists_already_is_used(imap_account: Account) -> None:
    imap_account.create(PROCESSED_FOLDER)
    imap_account.append(thunderbird_reply(), folder=PROCESSED_FOLDER)
    imap_account.append(GMAIL_REPLY)
    with open_inbox(imap_account.spec(), password=PASSWORD) as inbox:
        for item in inbox.items():
            inbox.file(item.key)
    assert [m.raw for m in imap_account.processed()] == [thunderbird_reply(), GMAIL_REPLY]


def test_a_folder_below_another_and_with_spaces_is_read(imap_account: Account) -> None:
    # This Dovecot separates levels with "."; the setting writes them with "/".
    imap_account.create("Lists.Coffee roulette")
    imap_account.append(GMAIL_REPLY, folder="Lists.Coffee roulette")
    spec = imap_account.spec(folder="Lists/Coffee roulette")
    with open_inbox(spec, password=PASSWORD) as inbox:
        [item] = inbox.items()
        inbox.file(item.key)
    assert imap_account.messages("Lists.Coffee roulette") == []
    assert [m.raw for m in imap_account.processed()] == [GMAIL_REPLY]


def test_a_folder_name_beyond_ascii_is_sent_as_imap_writes_it(imap_account: Account) -> None:
    imap_account.create("R&AOk-ponses")  # "Réponses" in IMAP's modified UTF-7
    imap_account.append(GMAIL_REPLY, folder="R&AOk-ponses")
    with open_inbox(imap_account.spec(folder="Réponses"), password=PASSWORD) as inbox:
        assert [item.raw for item in inbox.items()] == [GMAIL_REPLY]


def test_the_inbox_knows_its_address(imap_account: Account) -> None:
    with open_inbox(imap_account.spec(), password=PASSWORD) as inbox:
        assert inbox.address == imap_account.user


def test_plain_imap_on_this_machine_works(imap_account: Account) -> None:
    imap_account.append(GMAIL_REPLY)
    with open_inbox(imap_account.spec("imap"), password=PASSWORD) as inbox:
        assert [item.raw for item in inbox.items()] == [GMAIL_REPLY]


@pytest.mark.parametrize("scheme", TLS_SCHEMES)
def test_a_wrong_password_is_a_run_error_that_does_not_show_it(
    imap_account: Account, scheme: str
) -> None:
    wrong = "Tr0ub4dor&3-not-it"
    with pytest.raises(RunError) as caught, open_inbox(imap_account.spec(scheme), password=wrong):
        pass
    assert not isinstance(caught.value, InboxUnavailable)
    message = str(caught.value)
    assert message.startswith(f"IMAP login failed for {imap_account.user} on {HOST}: ")
    assert message.endswith("; check SESSIONCTL_IMAP_PASSWORD")
    assert wrong not in message
    assert caught.value.exit_code == 1


def test_a_password_with_non_ascii_characters_logs_in(
    imap_account: Account, dovecot: Dovecot
) -> None:
    account = Account(dovecot, UNICODE_USER, UNICODE_PASSWORD)
    with open_inbox(account.spec(), password=UNICODE_PASSWORD) as inbox:
        assert inbox.address == UNICODE_USER
    with pytest.raises(RunError) as caught, open_inbox(account.spec(), password="mötley crüe"):
        pass
    assert "mötley" not in str(caught.value)
    assert str(caught.value).startswith(f"IMAP login failed for {UNICODE_USER} on {HOST}: ")


def test_a_port_nobody_listens_on_is_unavailable(imap_account: Account) -> None:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        spec = InboxSpec("imaps", HOST, port, imap_account.user)
        with pytest.raises(InboxUnavailable) as caught, open_inbox(spec, password=PASSWORD):
            pass
    assert str(caught.value).startswith(f"cannot reach IMAP server {HOST}:{port}: ")
    assert str(caught.value).endswith("; the inbox is read on the next run")
    assert PASSWORD not in str(caught.value)


def test_a_server_that_does_not_answer_is_unavailable_after_the_timeout(
    imap_account: Account,
) -> None:
    with socket.create_server((HOST, 0)) as silent:  # accepts, never greets
        spec = InboxSpec("imaps", HOST, silent.getsockname()[1], imap_account.user)
        slow = open_inbox(spec, password=PASSWORD, timeout=0.3)
        with pytest.raises(InboxUnavailable) as caught, slow:
            pass
    assert "no answer within 0.3 seconds" in str(caught.value)


def test_an_unknown_folder_is_unavailable(imap_account: Account) -> None:
    spec = imap_account.spec(folder="Replies")
    with pytest.raises(InboxUnavailable) as caught, open_inbox(spec, password=PASSWORD):
        pass
    assert str(caught.value).startswith(
        f"cannot open folder 'Replies' of {imap_account.user} on {HOST}: "
    )
    assert "doesn't exist" in str(caught.value)


@pytest.mark.parametrize("scheme", TLS_SCHEMES)
def test_a_certificate_not_trusted_is_refused(
    imap_account: Account, scheme: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other, _ = make_certificate(tmp_path / "other")
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    with (
        pytest.raises(RunError) as caught,
        open_inbox(imap_account.spec(scheme), password=PASSWORD),
    ):
        pass
    assert not isinstance(caught.value, InboxUnavailable)
    port = imap_account.spec(scheme).port
    assert str(caught.value).startswith(
        f"TLS certificate of IMAP server {HOST}:{port} not trusted: "
    )


def test_items_and_file_need_the_with_block(imap_account: Account) -> None:
    inbox = open_inbox(imap_account.spec(), password=PASSWORD)
    with pytest.raises(RuntimeError):
        list(inbox.items())
    with pytest.raises(RuntimeError):
        inbox.file("1")


def test_without_move_a_message_is_copied_then_expunged_alone(
    dovecot_without_move: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot_without_move.cert))
    account = dovecot_without_move.new_account()
    keep = account.append(thunderbird_reply())
    deleted_by_someone = account.append(thunderbird_reply(2), flags=r"(\Deleted)")
    account.append(GMAIL_REPLY)
    with open_inbox(account.spec(), password=PASSWORD) as inbox:
        assert "MOVE" not in inbox._capabilities  # the fallback is what runs here
        items = list(inbox.items())
        assert [item.key for item in items] == [str(keep), str(keep + 2)]  # not the deleted
        inbox.file(items[1].key)
        inbox.file(items[1].key)
    # UID EXPUNGE removed only the filed message, not one someone else marked deleted.
    assert [message.uid for message in account.messages()] == [keep, deleted_by_someone]
    assert [message.raw for message in account.processed()] == [GMAIL_REPLY]
    assert r"\Deleted" not in account.processed()[0].flags


def test_a_thousand_messages_are_read_in_order_in_batches(imap_account: Account) -> None:
    raws = [thunderbird_reply(n) if n % 2 else GMAIL_REPLY for n in range(1000)]
    imap_account.deliver(raws)
    started = time.perf_counter()
    with open_inbox(imap_account.spec(), password=PASSWORD) as inbox:
        items = list(inbox.items())
    elapsed = time.perf_counter() - started
    print(f"\n1000 messages read from Dovecot over IMAPS in {elapsed:.3f} s")  # measured, not held
    assert [item.raw for item in items] == raws  # IMAP sends lines ending in CRLF
    assert [int(item.key) for item in items] == sorted(int(item.key) for item in items)
    assert all(item.received_at is not None for item in items)
    assert not any(r"\Seen" in message.flags for message in imap_account.messages())
