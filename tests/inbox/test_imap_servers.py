"""Servers without MOVE or UIDPLUS, user names with spaces, and connections that drop, on a
real Dovecot (behind a relay where the test needs to see or cut what passes)."""

from __future__ import annotations

import pytest

from sessionctl.inbox import InboxUnavailable, open_inbox
from sessionctl.inbox.spec import InboxSpec
from tests.imapserver import HOST, PASSWORD, SPACE_USER, Account, Dovecot
from tests.inbox.mails import GMAIL_REPLY, personal_mail, reply_to_us
from tests.inbox.relay import Relay


def test_without_move_or_uidplus_filing_touches_no_other_message(
    old_dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(old_dovecot.cert))
    account = old_dovecot.new_account()
    thrown_away = account.append(personal_mail(1), flags=r"(\Deleted)")
    kept = account.append(personal_mail(2))
    ours = account.append(reply_to_us(1))
    with open_inbox(account.spec(), password=PASSWORD) as inbox:
        assert {"MOVE", "UIDPLUS"}.isdisjoint(inbox._capabilities)  # the path under test
        [item] = [item for item in inbox.items() if item.key == str(ours)]
        inbox.file(item.key)
        inbox.file(item.key)  # filed already: not copied twice
        assert [item.key for item in inbox.items()] == [str(kept)]

    # Nothing was expunged: the message someone threw away is still there for them to see.
    stored = {message.uid: message.flags for message in account.messages()}
    assert sorted(stored) == [thrown_away, kept, ours]
    assert r"\Deleted" in stored[thrown_away] and r"\Deleted" in stored[ours]
    assert r"\Deleted" not in stored[kept]
    assert [message.raw for message in account.processed()] == [reply_to_us(1)]
    assert r"\Deleted" not in account.processed()[0].flags


def test_a_later_run_on_such_a_server_leaves_the_filed_message_alone(
    old_dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(old_dovecot.cert))
    account = old_dovecot.new_account()
    account.append(GMAIL_REPLY)
    with open_inbox(account.spec(), password=PASSWORD) as inbox:
        for item in inbox.items():
            inbox.file(item.key)
    with open_inbox(account.spec(), password=PASSWORD) as inbox:
        assert list(inbox.items()) == []
    assert [message.raw for message in account.processed()] == [GMAIL_REPLY]


def test_a_user_with_a_space_logs_in_with_sasl_plain(imap_account: Account) -> None:
    account = Account(imap_account.server, SPACE_USER)
    account.append(GMAIL_REPLY)
    with open_inbox(account.spec(), password=PASSWORD) as inbox:
        assert GMAIL_REPLY in [item.raw for item in inbox.items()]  # one mailbox for all tests


def test_a_user_with_a_space_logs_in_with_login_as_a_quoted_string(imap_account: Account) -> None:
    account = Account(imap_account.server, SPACE_USER)
    # Without AUTH=PLAIN on offer, the client falls back to the LOGIN command.
    with Relay(account.server.imap_port, hide=["AUTH=PLAIN"]) as relay:
        spec = InboxSpec("imap", HOST, relay.port, SPACE_USER)
        with open_inbox(spec, password=PASSWORD) as inbox:
            assert inbox.address == SPACE_USER
    [login] = [line for line in relay.commands if b" LOGIN " in line]
    assert login.split(b" ", 2)[2].startswith(b'"coffee room@example.com" ')
    assert not any(b"AUTHENTICATE" in line for line in relay.commands)


@pytest.mark.parametrize("command", ["CAPABILITY", "CREATE"])
def test_a_connection_dropped_at_any_command_is_unavailable(
    imap_account: Account, command: str
) -> None:
    imap_account.append(GMAIL_REPLY)
    with Relay(imap_account.server.imap_port, drop_on=command) as relay:
        spec = InboxSpec("imap", HOST, relay.port, imap_account.user)
        with (
            pytest.raises(InboxUnavailable) as caught,
            open_inbox(spec, password=PASSWORD) as inbox,
        ):
            for item in inbox.items():
                inbox.file(item.key)
    assert str(caught.value).startswith(f"IMAP server {HOST}:{relay.port} closed the connection: ")
    assert imap_account.processed() == []
    assert [message.raw for message in imap_account.messages()] == [GMAIL_REPLY]
