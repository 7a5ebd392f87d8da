"""may_be_ours: which headers a run downloads whole, told from real clients' and servers' mail."""

from __future__ import annotations

import random

import pytest

from sessionctl.inbox import may_be_ours
from tests.inbox.mails import GMAIL_REPLY, thunderbird_reply

OUR_ID = "<sessionctl.42.7.opt_in.a1b2c3d4e5f6@coffee.example.com>"


def _header(raw: bytes) -> bytes:
    return raw.partition(b"\r\n\r\n")[0] + b"\r\n\r\n"


def _with(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert old in raw
    return _header(raw.replace(old, new))


OUTLOOK_REPLY = (
    b"From: Kim Lee <kim@example.com>\r\n"
    b"To: Coffee roulette <replies@example.com>\r\n"
    b"Subject: RE: Coffee roulette: are you in this round?\r\n"
    b"Thread-Topic: Coffee roulette: are you in this round?\r\n"
    b"Thread-Index: AQHapq1yNfZ0Jk2bR0qhz9bRw0m3xw==\r\n"
    b"Date: Wed, 3 Jun 2026 07:41:02 +0000\r\n"
    b"Message-ID:\r\n"
    b" <AM0PR07MB4321C0FFEE1234ABCDEF@AM0PR07MB4321.eurprd07.prod.outlook.com>\r\n"
    b"References: <CAF=x0q+previous@mail.gmail.com>\r\n"
    b" <sessionctl.42.7.opt_in.a1b2c3d4e5f6@coffee.example.com>\r\n"
    b"In-Reply-To: <sessionctl.42.7.opt_in.a1b2c3d4e5f6@coffee.example.com>\r\n"
    b'Content-Type: text/plain; charset="us-ascii"\r\n'
    b"MIME-Version: 1.0\r\n"
    b"\r\n"
)
POSTFIX_BOUNCE = (
    b"Return-Path: <>\r\n"
    b"From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\n"
    b"To: replies@example.com\r\n"
    b"Auto-Submitted: auto-replied\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/report; report-type=delivery-status;\r\n"
    b'\tboundary="5F3A21C0E2.1780300000/mx.example.com"\r\n'
    b"Message-Id: <20260601080001.5F3A21C0E2@mx.example.com>\r\n"
    b"\r\n"
)
EXIM_BOUNCE = (
    b"From: Mail Delivery System <Mailer-Daemon@mail.example.net>\r\n"
    b"To: replies@example.com\r\n"
    b"Subject: Mail delivery failed: returning message to sender\r\n"
    b"X-Failed-Recipients: gone@example.org\r\n"
    b"Content-Type: text/plain\r\n"
    b"\r\n"
)
NEWSLETTER = (
    b"From: Bakery News <news@bakery.example>\r\n"
    b"To: admin@example.com\r\n"
    b"Subject: =?UTF-8?Q?Fresh_croissants_=E2=80=94_this_week?=\r\n"
    b"List-Unsubscribe: <https://bakery.example/u?x=1>\r\n"
    b"Message-ID: <n.2026.06@bakery.example>\r\n"
    b"Content-Type: multipart/alternative; boundary=b1\r\n"
    b"\r\n"
)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(OUTLOOK_REPLY, id="outlook-reply-folded-references"),
        pytest.param(
            _with(GMAIL_REPLY, b"<opt-in.42.8@sessionctl.example.com>", OUR_ID.encode()),
            id="gmail-reply",
        ),
        pytest.param(
            _with(
                thunderbird_reply(),
                b"In-Reply-To: <opt-in.42.7@sessionctl.example.com>\r\n",
                b"",
            ).replace(b"<opt-in.42.7@sessionctl.example.com>", OUR_ID.encode()),
            id="thunderbird-references-only",
        ),
        pytest.param(POSTFIX_BOUNCE, id="postfix-dsn"),
        pytest.param(EXIM_BOUNCE, id="exim-x-failed-recipients"),
        pytest.param(
            b"From: postmaster@example.org\r\nSubject: Delivery failure\r\n\r\n", id="postmaster"
        ),
        pytest.param(
            b"From: MAILER-DAEMON\r\nSubject: Returned mail\r\n\r\n", id="bare-mailer-daemon"
        ),
        pytest.param(
            b"From: Ana <ana@example.org>\r\n"
            b"Subject: unsubscribe sessionctl.42.7.no_match.0123456789ab\r\n\r\n",
            id="unsubscribe-mailto-subject",
        ),
        pytest.param(
            b"From: Ana <ana@example.org>\r\n"
            b"Subject: =?UTF-8?B?QWJtZWxkZW46IHNlc3Npb25jdGwuNDIuNy5vcHRfaW4uYTFiMmMzZDRlNWY2?=\r\n"
            b"\r\n",
            id="subject-token-in-encoded-word",
        ),
    ],
)
def test_replies_to_us_and_bounces_may_be_ours(header: bytes) -> None:
    assert may_be_ours(header)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(NEWSLETTER, id="newsletter"),
        pytest.param(_header(GMAIL_REPLY), id="reply-to-someone-else"),
        pytest.param(
            b"From: Bob <bob@example.org>\r\nSubject: Re: lunch?\r\n"
            b"In-Reply-To: <x.sessionctl.42.7.opt_in.a1b2c3d4e5f6@example.org>\r\n\r\n",
            id="sessionctl-not-at-the-start-of-the-id",
        ),
        pytest.param(
            b"From: Bob <bob@example.org>\r\n"
            b"Subject: about sessionctl.42.7.opt_in.a1b2c3d4e5f6x\r\n\r\n",
            id="token-run-on",
        ),
        pytest.param(
            b'From: "postmaster@example.org" <bob@example.org>\r\nSubject: hi\r\n\r\n',
            id="postmaster-only-in-the-display-name",
        ),
        pytest.param(b"", id="empty"),
    ],
)
def test_other_mail_is_not_ours(header: bytes) -> None:
    assert not may_be_ours(header)


def test_any_bytes_are_answered_without_raising() -> None:
    pieces = [
        b"From: ",
        b"Subject: =?",
        b"=?x-unknown?Q?abc?=",
        b"=?UTF-8?B?####?=",
        b"In-Reply-To: <",
        b"Content-Type: multipart/",
        b"\r\n",
        b"\n ",
        b"\xff\xfe\x00",
        b"\xc3\xa9",
        b":",
        b'<>@,;"\\',
    ]
    chance = random.Random(20260601)
    for _ in range(3000):
        junk = b"".join(chance.choice(pieces) for _ in range(chance.randint(0, 25)))
        assert may_be_ours(junk) in (True, False)
    assert may_be_ours(bytes(range(256)) * 4) in (True, False)
