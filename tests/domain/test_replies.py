"""Reading inbound mail: raw messages as real clients and servers write them (tests/domain/mail).

The answer must come from the member's own words, never from the quoted invitation below it
(which says "reply yes or no"); automatic mail and bounces are never answers.
"""

from __future__ import annotations

import encodings.aliases
import time
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionctl.domain.replies import Bounce, Inbound, Intent, read_message

MAIL = Path(__file__).parent / "mail"
TODAY = date(2026, 12, 1)


def read(name: str, *, today: date = TODAY) -> Inbound:
    return read_message((MAIL / name).read_bytes(), today=today)


def plain(body: str, *, subject: str = "Re: Coffee roulette: are you in this round?") -> bytes:
    """A plain-text reply as a simple client writes it (CRLF, UTF-8, 8bit)."""
    head = (
        "From: Ann Example <ann@example.org>\r\n"
        "To: Coffee Roulette <roulette@example.com>\r\n"
        f"Subject: {subject}\r\n"
        "Date: Tue, 01 Dec 2026 10:00:00 +0100\r\n"
        "Message-ID: <reply.1@example.org>\r\n"
        "In-Reply-To: <sessionctl.1.2.opt_in.a1b2c3d4e5f6@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return (head + body.replace("\n", "\r\n")).encode()


def answer(body: str, *, today: date = TODAY) -> Inbound:
    return read_message(plain(body), today=today)


# --- replies from real clients --------------------------------------------------------------

CLIENT_REPLIES = [
    # fixture, intent, sender, the member's own words
    ("gmail_yes.eml", Intent.JOIN, "clara.dupont@gmail.com", "Yes!"),
    ("gmail_html_only.eml", Intent.SKIP, "ravi.k@gmail.com", "Hi there,\n\nnot this time, sorry"),
    ("outlook_web_html.eml", Intent.SKIP, "juergen.mueller@contoso.com", "No, leider nicht"),
    ("outlook_desktop_plain.eml", Intent.JOIN, "priya.nair@contoso.com", "Count me in"),
    ("outlook_original_message.eml", Intent.SKIP, "tom.baker@fabrikam.example", "skip\n\nTom"),
    ("apple_mail.eml", Intent.JOIN, "sam.lee@icloud.com", "Yes please, see you there.\n\nSam"),
    ("apple_mail_at.eml", Intent.SKIP, "nora@fastmail.example", "Out this time — sorry!"),
    ("thunderbird.eml", Intent.JOIN, "jane.doe@posteo.example", "I'm in!"),
    ("thunderbird_bottom_post.eml", Intent.SKIP, "karl@posteo.example", "No, sorry. Next time!"),
    ("iphone_short.eml", Intent.JOIN, "mia.chen@me.example", "Y"),
    ("french_iphone.eml", Intent.JOIN, "adele.martin@orange.example", "Bonjour,\n\nOui,"),
    ("german_pause_base64.eml", Intent.PAUSE, "hans.schmidt@web.example", "Hallo,\n\npause"),
]


@pytest.mark.parametrize(("name", "intent", "sender", "words"), CLIENT_REPLIES)
def test_a_client_reply_is_read_from_the_members_own_words(
    name: str, intent: Intent, sender: str, words: str
) -> None:
    got = read(name)
    assert (got.intent, got.sender, got.auto, got.bounce) == (intent, sender, None, None)
    assert got.text.startswith(words)
    # the quoted invitation ("Are you in? Reply yes or no") and the attribution are gone
    for quoted in ("Reply yes or no", "Répondez", "wrote", "a écrit", "schrieb", "From:", ">"):
        assert quoted not in got.text
    assert got.refs and got.refs[0].startswith("<sessionctl.12.")
    assert got.date is not None and got.date.utcoffset() is not None


def test_gmail_reply_keeps_ids_date_subject_and_drops_the_wrapped_attribution() -> None:
    got = read("gmail_yes.eml")
    assert got.message_id == "<CAFz2Nq1xYbYk3vA8d0p9+q7Zq=Rh4bQ@mail.gmail.com>"
    assert got.refs == ("<sessionctl.12.34.opt_in.a1b2c3d4e5f6@example.com>",)
    assert got.date == datetime(2026, 12, 1, 10, 12, 31, tzinfo=timezone(timedelta(hours=1)))
    assert got.subject == "Re: Coffee roulette: are you in this round?"
    assert got.text == "Yes!"  # "On Tue, … <roulette@example.com>\nwrote:" is not the answer


def test_outlook_html_is_cut_at_the_reply_header_and_sign_offs_go() -> None:
    got = read("outlook_web_html.eml")
    assert got.text == "No, leider nicht – I'm travelling that week."
    assert got.subject == "AW: Coffee roulette: are you in this round?"  # ISO-8859-1 encoded word
    assert got.message_id.startswith("<AM9PR07MB72031C9E") and got.message_id.endswith(".com>")


def test_outlook_plain_reply_loses_its_header_block_signature_and_windows_1252_dash() -> None:
    got = read("outlook_desktop_plain.eml")
    assert got.text == "Count me in – thanks for organising!"
    # In-Reply-To first, then References newest first, each once
    assert got.refs == (
        "<sessionctl.12.37.reminder.123456abcdef@example.com>",
        "<sessionctl.12.37.opt_in.fedcba654321@example.com>",
    )


def test_french_reply_in_latin_1_with_iphone_signature() -> None:
    got = read("french_iphone.eml")
    assert got.text == "Bonjour,\n\nOui, avec plaisir\xa0!"
    assert got.subject == "Réf. : Coffee roulette : êtes-vous de la partie ?"  # no-break space too


def test_base64_reply_pauses_until_next_januarys_date() -> None:
    got = read("german_pause_base64.eml")
    assert (got.intent, got.pause_until) == (Intent.PAUSE, date(2027, 1, 15))
    assert got.text == "Hallo,\n\npause until 15 January"  # "Viele Grüße / Hans" is a sign-off


def test_a_reply_written_below_the_quote_is_read() -> None:
    got = read("thunderbird_bottom_post.eml")
    assert got.text == "No, sorry. Next time!\n\nKarl"


OUR_ORIGINAL = (
    "From: Coffee Roulette <roulette@example.com>\n"
    "Sent: Tuesday, December 1, 2026 09:00\n"
    "To: Ana Silva <ana.silva@contoso.com>\n"
    "Subject: Coffee roulette: are you in this round?\n\n"
    "Hi Ana,\nWould you like to join this time?\n"
)


@pytest.mark.parametrize(
    "name", ["outlook_desktop_empty.eml", "outlook_web_empty_html.eml", "outlook_ios_empty.eml"]
)
def test_an_empty_outlook_reply_is_not_read_from_our_unquoted_original(name: str) -> None:
    """Outlook puts our message below a header block, unmarked: "join" there is our word."""
    got = read(name)
    assert (got.intent, got.text, got.auto) == (Intent.UNKNOWN, "", None)
    assert got.refs == ("<sessionctl.12.39.opt_in.ab12cd34ef56@example.com>",)


@pytest.mark.parametrize(
    "body",
    [
        "\n\n" + OUR_ORIGINAL,
        "\n________________________________\n" + OUR_ORIGINAL,
        "-----Original Message-----\n" + OUR_ORIGINAL,
        # words below the original are read as the original's, never as the member's
        OUR_ORIGINAL + "\nyes\n",
    ],
)
def test_nothing_after_an_outlook_header_block_or_separator_is_the_members(body: str) -> None:
    got = answer(body)
    assert (got.intent, got.text) == (Intent.UNKNOWN, "")


def test_the_members_words_above_an_outlook_header_block_still_count() -> None:
    got = answer("\n\nSkip this one, thanks\n\n" + OUR_ORIGINAL)
    assert (got.intent, got.text) == (Intent.SKIP, "Skip this one, thanks")


# --- automatic mail -------------------------------------------------------------------------

AUTOMATIC = [
    ("exchange_ooo.eml", "Auto-Submitted: auto-generated"),
    ("gmail_vacation.eml", "Auto-Submitted: auto-replied"),
    ("out_of_office_subject.eml", "automatic reply subject"),
    ("mailing_list.eml", "Precedence: list"),
]


@pytest.mark.parametrize(("name", "reason"), AUTOMATIC)
def test_automatic_mail_is_never_an_answer_whatever_it_says(name: str, reason: str) -> None:
    got = read(name)
    assert (got.auto, got.intent, got.bounce) == (reason, Intent.UNKNOWN, None)
    assert got.text  # kept for the organiser to read: each says "yes", "no" or "oui"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: auto-replied; owner-email=a@example.org", "Auto-Submitted: auto-replied"),
        ("X-Autoreply: yes", "X-Autoreply"),
        ("X-Autorespond: Out of office", "X-Autorespond"),
        ("Precedence: junk", "Precedence: junk"),
        ("Precedence: auto_reply", "Precedence: auto_reply"),
        ("Precedence: BULK", "Precedence: bulk"),
        ("List-Id: <coffee.lists.example.org>", "mailing list (List-Id)"),
        ("List-Unsubscribe: <mailto:x@example.org>", "mailing list (List-Unsubscribe)"),
        ("Auto-Submitted: no", None),
        ("X-Auto-Response-Suppress: All", None),
        ("Precedence: first-class", None),
    ],
)
def test_automatic_mail_markers(headers: str, reason: str | None) -> None:
    raw = plain("yes").replace(b"MIME-Version", f"{headers}\r\nMIME-Version".encode(), 1)
    got = read_message(raw, today=TODAY)
    assert got.auto == reason
    assert got.intent == (Intent.UNKNOWN if reason else Intent.JOIN)


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: Coffee roulette",
        "AUTO: Jane is out of the office",
        "Out of Office: back on Monday",
        "Réponse automatique : absent",
        "Abwesenheitsnotiz: Coffee roulette",
    ],
)
def test_out_of_office_subjects_are_automatic(subject: str) -> None:
    got = read_message(plain("Yes, I am away", subject=subject), today=TODAY)
    assert (got.auto, got.intent) == ("automatic reply subject", Intent.UNKNOWN)


# --- bounces --------------------------------------------------------------------------------

BOUNCES = [
    (
        "postfix_dsn.eml",
        Bounce(
            original_id="<sessionctl.12.50.opt_in.50505050abcd@example.com>",
            recipient="bob@example.org",
            hard=True,
            failed=True,
            status="5.1.1",
            diagnostic="smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected: "
            "User unknown in virtual mailbox table",
        ),
    ),
    (
        "exim_dsn.eml",
        Bounce(
            original_id="<sessionctl.12.51.match.51515151abcd@example.com>",
            recipient="carol@unknown-host.example",
            hard=True,
            failed=True,
            status="5.0.0",
            diagnostic="X-Exim; all relevant MX records point to non-existent hosts",
        ),
    ),
    (
        # Postfix gives up after days of retries: a final failure with a temporary status
        "postfix_expired_dsn.eml",
        Bounce(
            original_id="<sessionctl.12.54.match.54545454abcd@example.com>",
            recipient="frank@down.example",
            hard=False,
            failed=True,
            status="4.4.7",
            diagnostic="X-Postfix; message expired: connect to mx.down.example[192.0.2.81]:25: "
            "Connection timed out",
        ),
    ),
    (
        "delayed_dsn_no_report_type.eml",
        Bounce(
            original_id="<sessionctl.12.53.notice.53535353abcd@example.com>",
            recipient="erin@slow.example",
            hard=False,
            failed=False,
            status="4.4.1",
            diagnostic="X-Postfix; connect to mx.slow.example[192.0.2.80]:25: Connection timed out",
        ),
    ),
]


@pytest.mark.parametrize(("name", "bounce"), BOUNCES)
def test_a_delivery_status_notification_says_which_message_bounced(
    name: str, bounce: Bounce
) -> None:
    got = read(name)
    assert got.bounce == bounce
    assert (got.auto, got.intent) == ("delivery status notification", Intent.UNKNOWN)


def test_gmail_bounce_with_a_folded_multiline_diagnostic() -> None:
    got = read("gmail_dsn.eml")
    assert got.bounce is not None
    assert got.bounce.original_id == "<sessionctl.12.52.no_match.52525252abcd@example.com>"
    assert (got.bounce.recipient, got.bounce.hard, got.bounce.failed, got.bounce.status) == (
        "dave.nobody@gmail.com",
        True,
        True,
        "5.1.1",
    )
    assert got.bounce.diagnostic.startswith("smtp; 550-5.1.1 The email account that you tried")
    assert "\n" not in got.bounce.diagnostic and len(got.bounce.diagnostic) <= 300
    assert got.sender == "mailer-daemon@googlemail.com"


@pytest.mark.parametrize("action", [b"relayed", b"delivered", b"delayed", b"expanded"])
def test_delivered_relayed_or_delayed_reports_are_no_failure(action: bytes) -> None:
    raw = (MAIL / "postfix_dsn.eml").read_bytes().replace(b"Action: failed", b"Action: " + action)
    got = read_message(raw, today=TODAY)
    assert got.bounce is not None
    assert (got.bounce.hard, got.bounce.failed, got.bounce.status) == (False, False, "5.1.1")


def test_an_old_style_bounce_from_mailer_daemon_without_a_report() -> None:
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@relay.example.net>\r\n"
        b"To: roulette@example.com\r\nSubject: Mail delivery failed\r\n"
        b"X-Failed-Recipients: zed@example.org\r\n\r\n"
        b"  zed@example.org\r\n    SMTP error: 550 5.7.1 Relaying denied\r\n"
    )
    got = read_message(raw, today=TODAY)
    assert got.bounce == Bounce(None, "zed@example.org", True, True, "5.7.1", "")
    assert got.intent == Intent.UNKNOWN


# --- the words of an answer -----------------------------------------------------------------

WORDS = [
    ("yes", Intent.JOIN),
    ("Yes!", Intent.JOIN),
    ("yes, see you", Intent.JOIN),
    ("YES.", Intent.JOIN),
    ("Yes please", Intent.JOIN),
    ("y", Intent.JOIN),
    ("Y", Intent.JOIN),
    ("in", Intent.JOIN),
    ("In!", Intent.JOIN),
    ("join", Intent.JOIN),
    ("I'm in", Intent.JOIN),
    ("I’m in, thanks", Intent.JOIN),
    ("Count me in!", Intent.JOIN),
    ("oui", Intent.JOIN),
    ("Yes, no problem", Intent.JOIN),
    ("Yes, see you in the park", Intent.JOIN),
    ("Hi, yes", Intent.JOIN),
    ("Hi Anna,\n\nyes\n\nBest,\nBob", Intent.JOIN),
    ("Hello!\nYes\n-- \nBob\nno phone", Intent.JOIN),
    ("no", Intent.SKIP),
    ("No.", Intent.SKIP),
    ("n", Intent.SKIP),
    ("out", Intent.SKIP),
    ("skip", Intent.SKIP),
    ("Not this time", Intent.SKIP),
    ("not this time, sorry", Intent.SKIP),
    ("non merci", Intent.SKIP),
    ("Count me out", Intent.SKIP),
    ("Hi, no", Intent.SKIP),
    ("yes no", Intent.UNKNOWN),
    ("Yes, but no, I can't", Intent.UNKNOWN),
    ("I don't want to join", Intent.UNKNOWN),
    ("maybe", Intent.UNKNOWN),
    ("Hi Anna,", Intent.UNKNOWN),
    ("", Intent.UNKNOWN),
    ("What time is it?\nyes", Intent.UNKNOWN),  # the first meaningful line decides
    ("il y a un problème", Intent.UNKNOWN),  # a French "y" is no yes
    ("stop", Intent.LEAVE),
    ("STOP!", Intent.LEAVE),
    ("unsubscribe", Intent.LEAVE),
    ("Please unsubscribe me", Intent.LEAVE),
    ("leave", Intent.LEAVE),
    ("STOP.", Intent.LEAVE),
    ("Stop please", Intent.LEAVE),
    ("unsubscribe me please", Intent.LEAVE),
    ("Remove me", Intent.LEAVE),
    ("Please remove me from this list.", Intent.LEAVE),
    ("Unsubscribe, thanks!", Intent.LEAVE),
    ("désinscrire", Intent.LEAVE),
    ("Bonjour,\n\nDésinscrivez-moi, merci", Intent.LEAVE),
    ("Hi Anna,\n\nstop\n\nBob", Intent.LEAVE),
    ("pause", Intent.UNKNOWN),
    ("pause until later", Intent.UNKNOWN),
]


@pytest.mark.parametrize(("body", "intent"), WORDS)
def test_the_first_meaningful_line_decides(body: str, intent: Intent) -> None:
    assert answer(body).intent == intent


@pytest.mark.parametrize(
    "body",
    [
        "Don't unsubscribe me, I'm in!",
        "Leave me in for this one",
        "How do I unsubscribe my colleague? Count me in",
        "Stop by my desk, yes I'm in",
        "Yes, but I have to leave at 4",
        "No, stop",
        "stop no",
        "Please don't remove me",
        "unsubscribe my old address, use this one",
        "pause until I leave",
    ],
)
def test_a_leave_word_in_casual_wording_is_not_understood(body: str) -> None:
    """Leaving is the most destructive answer: only a line that says nothing else leaves."""
    assert answer(body).intent == Intent.UNKNOWN


def test_quoted_words_below_never_answer() -> None:
    body = "Hi,\n\n> Are you in? Reply yes or no.\n> yes\n"
    assert answer(body).intent == Intent.UNKNOWN
    assert answer("On Tue, Anna wrote:\n> Are you in?\nyes\n").intent == Intent.JOIN


@pytest.mark.parametrize(
    ("body", "until"),
    [
        ("pause until 15 January", date(2027, 1, 15)),
        ("Pause until Jan 15.", date(2027, 1, 15)),
        ("pause until 2027-01-15", date(2027, 1, 15)),
        ("pause until 15 January please", date(2027, 1, 15)),
        ("pause till Dec 2", date(2026, 12, 2)),
        ("pause until Dec 1", date(2027, 12, 1)),  # today, written without a year: next year's
        ("Hi,\npause until 2026-12-24!", date(2026, 12, 24)),
        ("pause until tomorrow", date(2026, 12, 2)),
    ],
)
def test_pause_until_a_date(body: str, until: date) -> None:
    got = answer(body)
    assert (got.intent, got.pause_until) == (Intent.PAUSE, until)


@pytest.mark.parametrize(
    "body", ["pause until 2026-12-01", "pause until 2026-06-01", "pause until 1 Dec 2026"]
)
def test_a_pause_to_a_past_date_with_its_year_is_not_understood(body: str) -> None:
    got = answer(body)
    assert (got.intent, got.pause_until) == (Intent.UNKNOWN, None)


# --- unsubscribe and tokens -----------------------------------------------------------------


def test_a_list_unsubscribe_mailto_leaves_and_names_our_message() -> None:
    got = read("unsubscribe_mailto.eml")
    assert (got.intent, got.auto, got.text) == (Intent.LEAVE, None, "")
    assert got.tokens == ("sessionctl.12.34.opt_in.a1b2c3d4e5f6",)
    assert got.refs == ()


def test_an_unsubscribe_subject_with_a_client_note_in_the_body_still_leaves() -> None:
    raw = plain("This message was automatically generated by Gmail.", subject="unsubscribe x")
    assert read_message(raw, today=TODAY).intent == Intent.LEAVE


def test_tokens_are_found_in_the_text_in_order_once_each() -> None:
    got = answer(
        "Yes\n\nmailto:u@example.com?subject=unsubscribe%20sessionctl.7.8.match.0123456789ab\n"
        "> sessionctl.7.8.reminder.ba9876543210 and sessionctl.7.8.match.0123456789ab again\n"
        "not ours: xsessionctl.7.8.match.0123456789ab sessionctl.7.8.bogus.0123456789ab "
        "sessionctl.7.8.match.0123456789abc"
    )
    assert got.tokens == (
        "sessionctl.7.8.match.0123456789ab",
        "sessionctl.7.8.reminder.ba9876543210",
    )


# --- malformed mail -------------------------------------------------------------------------


def test_garbage_bytes_read_as_nothing_understood() -> None:
    got = read("garbage.eml")
    assert (got.intent, got.message_id, got.sender, got.date, got.bounce) == (
        Intent.UNKNOWN,
        "",
        "",
        None,
        None,
    )
    assert all(ch in "\n\t" or ch.isprintable() for ch in got.text + got.subject)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Date: Tue, 01 Dec 2026 10:00:00 -0000", datetime(2026, 12, 1, 10, tzinfo=UTC)),
        ("Date: yesterday", None),
        ("Date: Tue, 01 Dec 2026 25:00:00 +0000", None),
    ],
)
def test_dates_are_aware_or_none(header: str, expected: datetime | None) -> None:
    raw = plain("yes").replace(b"Date: Tue, 01 Dec 2026 10:00:00 +0100", header.encode())
    assert read_message(raw, today=TODAY).date == expected


def test_message_ids_are_normalised_and_a_subject_is_one_clean_line() -> None:
    raw = (
        b"From: =?utf-8?q?Z=C3=B6e?= <zoe@example.org>\r\nMessage-ID: \r\n  zoe.1@example.org\r\n"
        b"Subject: =?utf-8?q?Yes=0D=0A=1B[31m?=\r\n and\ttabs\r\n"
        b"In-Reply-To: <a@x> (Anna's message)\r\nReferences: <b@x>\r\n <a@x>  <c@x>\r\n\r\nyes\r\n"
    )
    got = read_message(raw, today=TODAY)
    assert got.message_id == "<zoe.1@example.org>"
    assert got.sender == "zoe@example.org"
    assert got.subject == "Yes [31m and tabs"
    assert got.refs == ("<a@x>", "<c@x>", "<b@x>")


def test_an_unknown_charset_falls_back_to_utf_8_then_windows_1252() -> None:
    raw = plain("Oui, très bien").replace(b"charset=utf-8", b"charset=x-klingon")
    assert read_message(raw, today=TODAY).text == "Oui, très bien"
    raw = plain("").replace(b"charset=utf-8", b"charset=us-ascii") + "Oui, très".encode("cp1252")
    assert read_message(raw, today=TODAY).text == "Oui, très"


def test_a_huge_hostile_line_is_read_quickly() -> None:
    """A reply parser's attribution pattern backtracks on a long line starting "On "."""
    body = "On " + "a b " * 20_000
    started = time.perf_counter()
    got = answer(body)
    assert time.perf_counter() - started < 2
    assert got.intent == Intent.UNKNOWN and len(got.text) <= 2_000


@pytest.mark.parametrize(
    "raw",
    [
        # an encoded word whose charset name is not ASCII (the header module raises CharsetError)
        b"From: a@example.org\r\nSubject: =?x-unknow\xff?q?a?=\r\n\r\nyes\r\n",
        # an RFC 2231 charset on a body with 8-bit bytes (get_payload() raises TypeError)
        b"From: a@example.org\r\nContent-Type: multipart/report; boundary=x\r\n\r\n--x\r\n"
        b"Content-Type: text/plain; charset*=utf-8''%ff\r\n\r\nyes \xff\r\n--x--\r\n",
    ],
)
def test_malformed_headers_found_by_fuzzing_do_not_raise(raw: bytes) -> None:
    assert read_message(raw, today=TODAY).sender == "a@example.org"


def test_a_mime_bomb_of_nested_multiparts_is_read_as_nothing_understood() -> None:
    """The standard library's parser recurses once per nested multipart."""
    levels = b"".join(
        b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1)
        for i in range(5_000)
    )
    raw = b"From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n" + levels
    got = read_message(raw + b"--b5000\r\n\r\nyes\r\n", today=TODAY)
    assert (got.sender, got.intent) == ("a@example.org", Intent.UNKNOWN)


@pytest.mark.parametrize(
    ("charset", "body", "text"),
    [
        ("undefined", b"\xff hi", "\xff hi"),  # read as Windows-1252
        ("idna", b"xn--", "xn--"),  # read as UTF-8
        ("punycode", b"hi-\x7f", "hi-"),  # DEL, a control, is dropped
        ("rot13", b"\xff hi", "\xff hi"),  # a codec, but no text encoding
    ],
)
def test_a_charset_whose_codec_raises_is_read_as_utf_8_or_windows_1252(
    charset: str, body: bytes, text: str
) -> None:
    """Python's "undefined", "idna" and "punycode" codecs raise a plain UnicodeError."""
    raw = b"From: x@evil\r\nContent-Type: text/plain; charset=%s\r\n\r\n%s" % (
        charset.encode(),
        body,
    )
    got = read_message(raw, today=TODAY)
    assert (got.sender, got.text, got.intent) == ("x@evil", text, Intent.UNKNOWN)


# Every charset name Python knows (some codecs raise, some are no text encoding at all), odd
# transfer encodings, and multiparts left unclosed or nested under the wrong boundary.
CHARSETS = sorted({*encodings.aliases.aliases, *encodings.aliases.aliases.values(), "undefined"})
ENCODINGS = ["base64", "quoted-printable", "x-uuencode", "uuencode", "8bit", "binary", "bogus"]
PART_TYPES = [
    "text/plain",
    "text/html",
    "message/rfc822",
    "message/delivery-status",
    "text/rfc822-headers",
    "multipart/mixed",
    "multipart/report",
    "application/octet-stream",
]
PART_BODIES = st.sampled_from(
    [
        b"yes",
        b"\xff hi",
        b"begin 644 x\r\n#86)C\r\n`\r\nend\r\n",
        b"<hr><div id=divRplyFwdMsg>From: a</div>",
        b"Action: failed\r\nStatus: 4.4.7\r\n",
        b"=\r\n=ZZ",
        b"xn--",
    ]
) | st.binary(max_size=60)


@st.composite
def mime_parts(draw: st.DrawFn, depth: int = 0) -> bytes:
    kind = draw(st.sampled_from(PART_TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    boundary = draw(st.sampled_from([b"b", b"c"]))
    head = b'Content-Type: %s; charset="%s"; boundary=%s\r\n' % (
        kind.encode(),
        charset.encode(),
        boundary,
    )
    head += b"Content-Transfer-Encoding: %s\r\n\r\n" % draw(st.sampled_from(ENCODINGS)).encode()
    if depth >= 3 or not draw(st.booleans()):
        return head + draw(PART_BODIES)
    children = draw(st.lists(mime_parts(depth + 1), max_size=3))
    end = draw(st.sampled_from([b"--" + boundary + b"--", b"", b"--" + boundary]))
    return head + b"".join(b"--" + boundary + b"\r\n" + c + b"\r\n" for c in children) + end


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mime_parts(), st.sampled_from([b"a@example.org", b"MAILER-DAEMON@example.org"]))
def test_any_charset_transfer_encoding_or_broken_multipart_never_raises(
    part: bytes, sender: bytes
) -> None:
    raw = b"From: %s\r\nX-Failed-Recipients: b@example.org\r\n%s" % (sender, part)
    got = read_message(raw, today=TODAY)
    assert got.sender == sender.decode() and isinstance(got.intent, Intent)


FIXTURES = sorted(p.name for p in MAIL.glob("*.eml"))
# Pieces of MIME structure that random bytes rarely form: charsets, encodings, part types.
MIME_PIECES = [
    b"\r\n\r\n",
    b"--",
    b"\r\n ",
    b"=?x-unknown?q?a?=",
    b"=?utf-8?b?////?=",
    b"; charset*=utf-8''%ff",
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n",
    b"Content-Type: message/rfc822\r\n",
    b"Content-Type: message/delivery-status\r\n",
    b"Content-Type: text/rfc822-headers\r\n",
    b"Content-Type: text/html\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"Action: failed\r\nStatus: 5.1.1\r\n",
    b"<blockquote><![CDATA[&#x110000;<!--",
    b"pause until ",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4_000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    got = read_message(raw, today=TODAY)
    assert isinstance(got.intent, Intent) and len(got.text) <= 2_000


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(FIXTURES),
    edits=st.lists(
        st.tuples(
            st.floats(0, 1),
            st.sampled_from(["flip", "cut", "insert"]),
            st.sampled_from(MIME_PIECES) | st.binary(max_size=40),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_mutated_fixtures_never_raise(name: str, edits: list[tuple[float, str, bytes]]) -> None:
    raw = bytearray((MAIL / name).read_bytes())
    for where, how, data in edits:
        at = int(where * len(raw))
        if how == "flip" and at < len(raw):
            raw[at] ^= 0xFF
        elif how == "cut":
            del raw[at : at + len(data) * 8 + 1]
        else:
            raw[at:at] = data
    got = read_message(bytes(raw), today=TODAY)
    assert isinstance(got.intent, Intent)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.dates())
def test_any_pause_text_on_any_day_never_raises(rest: str, today: date) -> None:
    got = answer(f"pause until {rest}", today=today)
    assert got.intent in (Intent.PAUSE, Intent.UNKNOWN)
    assert (got.pause_until is None) == (got.intent is Intent.UNKNOWN)
    if got.pause_until is not None:
        assert got.pause_until > today
