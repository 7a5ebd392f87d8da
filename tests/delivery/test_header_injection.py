"""No name, title, subject template or sender name can add a header or a recipient (issue 8).

Python 3.11.7 and 3.12.1 (this machine's interpreter among them) decode RFC 2047 encoded words
while folding a header and write a decoded CR/LF raw: a real ``Bcc:`` appears, or a blank line
ends the headers and the rest becomes body (the CVE-2024-6923 class). These tests put encoded
words in every place user text reaches a header, through the real CLI and the files it writes or
the SMTP server it talks to, and through ``compose`` for text the CLI no longer accepts.
"""

from __future__ import annotations

import base64
import dataclasses
import email
import mailbox
import re
import time
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from sessionctl.delivery.compose import (
    Envelope,
    Kind,
    Person,
    UnsafeHeader,
    compose,
    envelope_recipients,
    verify_headers,
)
from sessionctl.errors import InputError
from tests.conftest import Invoke, ok
from tests.delivery.conftest import SmtpServer

HEADERS = [
    "From",
    "To",
    "Date",
    "Subject",
    "Message-ID",
    "List-Unsubscribe",
    "Auto-Submitted",
    "MIME-Version",
    "Content-Type",
]
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
LINK_BASE = "https://coffee.example.com"


def _b(text: str, charset: str = "utf-8") -> str:
    """``text`` as one RFC 2047 encoded word in the b (base64) form."""
    return f"=?{charset}?b?{base64.b64encode(text.encode(charset)).decode()}?="


Q_BCC = "=?utf-8?q?X=0D=0ABcc:_a@evil.test?="
B_BCC = _b("X\r\nBcc: a@evil.test")
B_BODY = _b("\r\n\r\nEVIL body https://evil.test/")
SEEN_BCC = "X Bcc: a@evil.test"  # what a reader must see instead: the decoded text, on one line

# name -> (text typed by someone, the one line a reader sees in the header)
ENCODED = {
    "q": (Q_BCC, SEEN_BCC),
    "b": (B_BCC, SEEN_BCC),
    "b-blank-line": (B_BODY, "EVIL body https://evil.test/"),
    "q-lf-only": ("=?utf-8?q?X=0ABcc:_a@evil.test?=", SEEN_BCC),
    "q-cr-only": ("=?utf-8?Q?X=0dBcc:_a@evil.test?=", SEEN_BCC),
    "q-latin-1": ("=?iso-8859-1?q?Zo=EB=0D=0ABcc:_a@evil.test?=", "Zoë Bcc: a@evil.test"),
    "b-utf-16": (_b("X\r\nBcc: a@evil.test", "utf-16"), SEEN_BCC),
    "mid-word": (f"Al{Q_BCC}ice", "AlX Bcc: a@evil.testice"),
    "in-quotes": (f'"{Q_BCC}"', f'"{SEEN_BCC}"'),
    "nested": (_b(Q_BCC), SEEN_BCC),
    "nested-3": (_b(_b(B_BCC)), SEEN_BCC),
    "space-inside": ("=?utf-8?q?X=0D=0ABcc: a@evil.test?=", SEEN_BCC),
    "unknown-charset": ("=?x-unknown?q?X=0D=0ABcc:_a@evil.test?=", SEEN_BCC),
    "unicode-escape": ("=?unicode_escape?q?X\\r\\nBcc:_a@evil.test?=", SEEN_BCC),
    "nul-and-esc": ("=?utf-8?q?X=00=1B[2JBcc:_a@evil.test?=", "X [2JBcc: a@evil.test"),
    "line-separator": (_b("X\u2028Bcc: a@evil.test"), SEEN_BCC),
    "bidi-override": (_b("Ana \u202egnp.exe"), "Ana gnp.exe"),
}
# Text the CLI refuses today, as it could still come from an older database or another caller.
PLAIN = {
    "crlf": ("X\r\nBcc: a@evil.test", SEEN_BCC),
    "lf": ("X\nBcc: a@evil.test", SEEN_BCC),
    "cr": ("X\rBcc: a@evil.test", SEEN_BCC),
    "blank-line": ("X\r\n\r\nEVIL body", "X EVIL body"),
    "nul": ("X\x00Bcc: a@evil.test", SEEN_BCC),
    "esc": ("X\x1bBcc: a@evil.test", SEEN_BCC),
    "nel": ("X\x85Bcc: a@evil.test", SEEN_BCC),
    "vt-ff": ("X\x0b\x0cBcc: a@evil.test", SEEN_BCC),
    "u2028": ("X\u2028Bcc: a@evil.test", SEEN_BCC),
    "u2029": ("X\u2029Bcc: a@evil.test", SEEN_BCC),
    "bidi": ("Ana \u202egnp.exe", "Ana gnp.exe"),
}
HUMAN = ["Zoë Ünal", "李雷", "Ана", 'Eve "E", Mallory <m@evil.test>', "O'Brien; (Sales)"]


def _read(raw: bytes, *, to: str) -> EmailMessage:
    """``raw`` parsed as a mail reader would, after checking every promise about its headers:
    exactly our header names, one recipient (``to``), no control after decoding, two parts."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    # Programs with a link base add the one-click unsubscribe (RFC 8058) after the list header.
    one_click = ["List-Unsubscribe-Post"] if "List-Unsubscribe-Post" in msg else []
    assert msg.keys() == [*HEADERS[:6], *one_click, *HEADERS[6:]]
    if one_click:
        assert (
            msg["List-Unsubscribe"].strip().endswith(">") and LINK_BASE in msg["List-Unsubscribe"]
        )
    assert [address.addr_spec for address in msg["To"].addresses] == [to]
    assert len(msg["From"].addresses) == 1
    for name, value in msg.items():
        assert not CONTROL.search(str(value)), f"{name}: {str(value)!r}"
    assert [part.get_content_type() for part in msg.iter_parts()] == ["text/plain", "text/html"]
    assert not msg.defects
    return msg


def _text(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body((subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")  # a message read from the wire keeps its CRLF


# --- compose, given any text -------------------------------------------------------------------


def _envelope(**changes: Any) -> Envelope:
    base = Envelope(
        kind=Kind.OPT_IN,
        sender=Person("coffee@example.com", "Coffee"),
        recipient=Person("ana@example.com", "Ana"),
        message_id="<sessionctl.1.2.opt_in.0a1b2c3d4e5f@example.com>",
        date=datetime(2026, 6, 4, 9, 0, tzinfo=UTC),
        program_title="Coffee",
        round_number=1,
        opt_in_at="2026-06-04 09:00 UTC",
        match_at="2026-06-10 09:00 UTC",
        join_url=f"{LINK_BASE}/answer/join-token",
        skip_url=f"{LINK_BASE}/answer/skip-token",
    )
    return dataclasses.replace(base, **changes)


def _composed_both_ways(env: Envelope, **kwargs: Any) -> list[EmailMessage]:
    """The message as SMTP sends it (CRLF) and as the Maildir stores it (LF), each read back."""
    msg = compose(env, **kwargs)
    assert envelope_recipients(msg) == [env.recipient.email]
    wire = msg.as_bytes()
    stored = msg.as_bytes(policy=msg.policy.clone(linesep="\n"))
    return [_read(raw, to=env.recipient.email) for raw in (wire, stored)]


@pytest.mark.parametrize(
    ("text", "seen"), [*ENCODED.values(), *PLAIN.values()], ids=[*ENCODED, *PLAIN]
)
@pytest.mark.parametrize("place", ["recipient name", "sender name", "title", "subject template"])
def test_no_text_in_any_header_adds_a_header_or_a_recipient(
    text: str, seen: str, place: str
) -> None:
    templates = None
    if place == "recipient name":
        env = _envelope(recipient=Person("ana@example.com", text))
    elif place == "sender name":
        env = _envelope(sender=Person("coffee@example.com", text))
    elif place == "title":
        env = _envelope(program_title=text)
    else:
        env = _envelope()
        templates = {Kind.OPT_IN: (f"{text} / round $round", "Hi $name,\n\n$links\n")}

    for msg in _composed_both_ways(env, templates=templates):
        if place == "recipient name":
            assert msg["To"].addresses[0].display_name == seen
        elif place == "sender name":
            assert msg["From"].addresses[0].display_name == seen
        elif place == "title":
            assert msg["Subject"] == f"{seen}: are you in for round 1?"
        else:
            assert msg["Subject"] == f"{seen} / round 1"
        plain = _text(msg, "plain")
        assert plain.startswith("Hi ")
        assert f"Join this round: {LINK_BASE}/answer/join-token" in plain
        assert f"Skip this round: {LINK_BASE}/answer/skip-token" in plain
        assert f'<a href="{LINK_BASE}/answer/join-token" ' in _text(msg, "html")


@pytest.mark.parametrize("name", HUMAN)
def test_human_names_and_titles_read_back_exactly(name: str) -> None:
    env = _envelope(
        recipient=Person("ana@example.com", name),
        sender=Person("coffee@example.com", name),
        program_title=name,
    )
    for msg in _composed_both_ways(env):
        assert msg["To"].addresses[0].display_name == name
        assert msg["From"].addresses[0].display_name == name
        assert msg["Subject"] == f"{name}: are you in for round 1?"
        assert _text(msg, "plain").startswith(f"Hi {name},\n")


# Long names that are not plain ASCII words are left out: the email library itself (3.11 to 3.13)
# reads them back with spaces moved where it folded inside encoded words or quotes.
@pytest.mark.parametrize("word", ["Anastasia", "O'Brien-Smith", "J.R.", "=?x"])
def test_long_names_fold_and_read_back_exactly(word: str) -> None:
    name = " ".join([word] * 200)[:200].strip()  # as long as the CLI accepts, folded on the wire
    env = _envelope(
        recipient=Person("ana@example.com", name),
        sender=Person("coffee@example.com", name),
        program_title=name,
    )
    for msg in _composed_both_ways(env):
        assert msg["To"].addresses[0].display_name == name
        assert msg["From"].addresses[0].display_name == name
        assert msg["Subject"] == f"{name}: are you in for round 1?"


def test_a_huge_text_full_of_near_encoded_words_is_made_inert_quickly() -> None:
    name = "=?a?q?x" * 15_000  # no word ever closes: a backtracking search would take minutes
    started = time.process_time()
    for msg in _composed_both_ways(_envelope(recipient=Person("ana@example.com", name))):
        assert msg["To"].addresses[0].display_name == name
    assert time.process_time() - started < 2


def test_an_encoded_name_is_shown_decoded() -> None:
    env = _envelope(recipient=Person("zoe@example.com", "=?utf-8?q?Zo=C3=AB_=C3=9Cnal?="))
    for msg in _composed_both_ways(env):
        assert msg["To"].addresses[0].display_name == "Zoë Ünal"


def test_words_nested_too_deep_are_refused() -> None:
    deep = _b(_b(_b(_b(Q_BCC))))  # five decodings to reach the CR/LF
    assert len(deep) <= 200  # short enough for a name the CLI accepts

    with pytest.raises(UnsafeHeader, match="nests encoded words"):
        compose(_envelope(recipient=Person("ana@example.com", deep)))


@pytest.mark.parametrize(
    "address", [f"{Q_BCC}@example.com", "ana@=?utf-8?q?x=0D=0A?=", "=?utf-8?q?a=40b?=@example.com"]
)
def test_an_encoded_word_in_an_address_is_refused(address: str) -> None:
    with pytest.raises(InputError, match="not a valid email address"):
        compose(_envelope(recipient=Person(address, "Ana")))
    with pytest.raises(InputError, match="not a valid email address"):
        compose(_envelope(sender=Person(address, "Coffee")))


def test_verify_headers_refuses_what_the_library_alone_would_write() -> None:
    # Set through the email library alone, as before the fix: this interpreter writes a Bcc,
    # a fixed one an encoded CR/LF; either way the message must not go out.
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = "coffee@example.com"
    msg["To"] = "ana@example.com"
    msg["Subject"] = Q_BCC
    with pytest.raises(UnsafeHeader):
        verify_headers(msg, recipient="ana@example.com")


def test_verify_headers_refuses_a_second_recipient() -> None:
    msg = EmailMessage(policy=policy.SMTP)
    msg["To"] = "ana@example.com, eve@evil.test"
    with pytest.raises(UnsafeHeader, match="To header"):
        verify_headers(msg, recipient="ana@example.com")


# --- the real CLI: run-due writes the Maildir, or talks to a real SMTP server -------------------

VECTORS = [Q_BCC, B_BCC, B_BODY]


def _outbox(isolated: Path) -> list[bytes]:
    box = mailbox.Maildir(isolated / "home" / "data" / "sessionctl" / "outbox", create=False)
    return [message.as_bytes() for message in box]


def _program(cli: Invoke, vector: str, *opt_in: str) -> dict[str, str]:
    """A program whose title (the From name and $program), subject template and member names
    hold ``vector``; returns each member's address with the name they were added with."""
    ok(cli("program", "add", "coffee", "--tz", "UTC", "--title", vector, *opt_in,
           "--sender", "coffee@example.com", "--link-base", LINK_BASE))  # fmt: skip
    for kind in ("opt_in", "match"):
        ok(cli("program", "template", "coffee", kind, "--subject", f"{vector} $name r$round"))
    members = {"ana@example.com": vector, "bob@example.com": B_BODY, "cai@example.com": Q_BCC}
    members.update({f"human{i}@example.com": name for i, name in enumerate(HUMAN)})
    for address, name in members.items():
        ok(cli("member", "add", "coffee", address, "--name", name))
    return members


def _recipient(raw: bytes) -> str:
    """The address of the first To (``_read`` then checks that it is the only one)."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    return str(msg["To"].addresses[0].addr_spec)


def _seen(text: str) -> str:
    return {encoded: seen for encoded, seen in ENCODED.values()}.get(text, text)


@pytest.mark.parametrize("vector", VECTORS, ids=["q", "b", "b-blank-line"])
def test_opt_in_emails_from_run_due_carry_no_injected_header(
    cli: Invoke, isolated: Path, vector: str
) -> None:
    members = _program(cli, vector)
    ok(cli("schedule", "coffee", "--opt-in", "now", "--match", "2099-01-01 09:00"))

    report = ok(cli("run-due", "--json")).json()

    assert (report["sent"], report["failed"]) == (len(members), 0)
    files = {_recipient(raw): raw for raw in _outbox(isolated)}
    assert sorted(files) == sorted(members)
    for to, raw in files.items():
        msg = _read(raw, to=to)
        assert msg["From"].addresses[0].display_name == _seen(vector)
        assert msg["From"].addresses[0].addr_spec == "coffee@example.com"
        assert msg["To"].addresses[0].display_name == _seen(members[to])
        assert msg["Subject"] == f"{_seen(vector)} {_seen(members[to])} r1"
        plain, html_part = _text(msg, "plain"), _text(msg, "html")
        assert plain.startswith("Hi ")
        assert "EVIL" not in plain
        assert plain.count(f"{LINK_BASE}/answer/") == 2
        assert html_part.count(f'<a href="{LINK_BASE}/answer/') == 2


def test_match_emails_list_partners_and_carry_no_injected_header(
    cli: Invoke, isolated: Path
) -> None:
    members = _program(cli, B_BODY, "--no-opt-in")
    ok(cli("schedule", "coffee", "--match", "now"))

    report = ok(cli("run-due", "--json")).json()
    groups = ok(cli("groups", "1", "--json")).json()["groups"]

    assert (report["sent"], report["failed"]) == (len(members), 0)
    partners = {a: [b for b in group if b != a] for group in groups for a in group}
    assert sorted(partners) == sorted(members)
    files = {_recipient(raw): raw for raw in _outbox(isolated)}
    assert sorted(files) == sorted(members)
    for to, raw in files.items():
        msg = _read(raw, to=to)
        assert msg["Subject"] == f"{_seen(B_BODY)} {_seen(members[to])} r1"
        plain = _text(msg, "plain")
        assert "EVIL" not in plain
        for partner in partners[to]:
            assert f" <{partner}>\n" in plain


def test_over_smtp_each_message_has_one_envelope_recipient_and_no_injected_header(
    cli: Invoke, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", f"smtp://{smtp_server.host}:{smtp_server.port}")
    members = _program(cli, B_BCC)
    ok(cli("schedule", "coffee", "--opt-in", "now", "--match", "2099-01-01 09:00"))

    ok(cli("run-due"))

    received = smtp_server.handler.received
    assert sorted(r for message in received for r in message.rcpt_tos) == sorted(members)
    for message in received:
        [to] = message.rcpt_tos
        msg = _read(message.content, to=to)
        assert msg["Subject"] == f"{SEEN_BCC} {_seen(members[to])} r1"


def test_a_name_nested_too_deep_fails_only_its_own_message(cli: Invoke, isolated: Path) -> None:
    ok(cli("program", "add", "coffee", "--tz", "UTC", "--title", "Coffee"))
    ok(cli("member", "add", "coffee", "ana@example.com", "--name", _b(_b(_b(_b(Q_BCC))))))
    ok(cli("member", "add", "coffee", "bob@example.com", "--name", "Bob"))
    ok(cli("schedule", "coffee", "--opt-in", "now", "--match", "2099-01-01 09:00"))

    result = cli("run-due", "--json")

    assert (result.json()["sent"], result.json()["failed"]) == (1, 1)
    failed = ok(cli("messages", "--status", "failed", "--json")).json()
    assert [(m["email"], m["last_error"].partition(":")[0]) for m in failed] == [
        ("ana@example.com", "cannot compose")
    ]
    [raw] = _outbox(isolated)
    assert _read(raw, to="bob@example.com")["To"].addresses[0].display_name == "Bob"
