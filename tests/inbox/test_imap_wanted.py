"""Reading only what may be ours from a real Dovecot: the inbox may be the admin's own."""

from __future__ import annotations

import re
import time

from sessionctl.inbox import Item, may_be_ours, open_inbox
from sessionctl.inbox.spec import InboxSpec
from tests.imapserver import HOST, PASSWORD, Account
from tests.inbox.mails import personal_mail, reply_to_us
from tests.inbox.relay import Relay


def test_with_wanted_only_the_wanted_messages_are_downloaded(imap_account: Account) -> None:
    imap_account.append(personal_mail(1))
    ours = imap_account.append(reply_to_us(1))
    imap_account.append(personal_mail(2))
    headers: list[bytes] = []

    def wanted(header: bytes) -> bool:
        headers.append(header)
        return may_be_ours(header)

    with Relay(imap_account.server.imap_port) as relay:
        spec = InboxSpec("imap", HOST, relay.port, imap_account.user)
        with open_inbox(spec, password=PASSWORD) as inbox:
            items = list(inbox.items(wanted))

    assert [(item.key, item.raw) for item in items] == [(str(ours), reply_to_us(1))]
    assert items[0].received_at is not None
    # wanted saw each header, and nothing of any body.
    assert headers == [
        raw.partition(b"\r\n\r\n")[0] + b"\r\n\r\n"
        for raw in (personal_mail(1), reply_to_us(1), personal_mail(2))
    ]
    whole = [line for line in relay.commands if b"BODY.PEEK[]" in line]
    assert [re.search(rb"UID FETCH (\S+) ", line)[1] for line in whole] == [  # type: ignore[index]
        str(ours).encode()
    ]
    assert _seen(imap_account) == []


def test_without_wanted_every_message_is_read(imap_account: Account) -> None:
    imap_account.append(personal_mail(1))
    imap_account.append(reply_to_us(1))
    with open_inbox(imap_account.spec(), password=PASSWORD) as inbox:
        assert [item.raw for item in inbox.items()] == [personal_mail(1), reply_to_us(1)]


def test_a_folder_with_nothing_wanted_yields_nothing(imap_account: Account) -> None:
    imap_account.append(personal_mail(1))
    with open_inbox(imap_account.spec(), password=PASSWORD) as inbox:
        assert list(inbox.items(lambda header: False)) == []
    assert _seen(imap_account) == []


def test_a_thousand_messages_of_which_ten_are_ours(imap_account: Account) -> None:
    raws = [reply_to_us(n) if n % 100 == 7 else personal_mail(n) for n in range(1000)]
    imap_account.deliver(raws)
    spec = imap_account.spec()

    def timed(*args: object) -> tuple[list[Item], float]:
        started = time.perf_counter()
        with open_inbox(spec, password=PASSWORD) as inbox:
            items = list(inbox.items(*args))  # type: ignore[arg-type]
        return items, time.perf_counter() - started

    every, every_seconds = timed()
    ours, ours_seconds = timed(may_be_ours)
    print(  # measured, not held: headers then 10 messages, against all 1000 messages
        f"\n1000 messages, 10 ours, over IMAPS: all {every_seconds:.3f} s "
        f"({sum(len(i.raw) for i in every)} bytes), "
        f"with wanted {ours_seconds:.3f} s ({sum(len(i.raw) for i in ours)} bytes)"
    )
    assert len(every) == 1000
    assert [item.raw for item in ours] == [reply_to_us(n) for n in range(7, 1000, 100)]
    assert all(item.received_at is not None for item in ours)


def _seen(account: Account) -> list[int]:
    return [m.uid for m in account.messages() if r"\Seen" in m.flags]
