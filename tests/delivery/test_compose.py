"""compose: MIME messages that parse back exactly, and no header injection from user text."""

from __future__ import annotations

import dataclasses
import email
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest

from sessionctl.cli.templates import template
from sessionctl.delivery.compose import (
    DEFAULT_TEMPLATES,
    PLACEHOLDERS,
    Envelope,
    Kind,
    Person,
    compose,
    default_templates,
    envelope_recipients,
    render_template,
    validate_template,
)
from sessionctl.errors import InputError

SENDER = Person("coffee@example.com", "Coffee Paris")
ALICE = Person("alice@example.com", "Alice Martin")
DATE = datetime(2026, 6, 4, 9, 0, 41, tzinfo=timezone(timedelta(hours=2)))
LEAVE_BY_MAIL = "To pause or leave Coffee Paris, write to coffee@example.com."


def _envelope(**changes: Any) -> Envelope:
    base = Envelope(
        kind=Kind.OPT_IN,
        sender=SENDER,
        recipient=ALICE,
        message_id="<r12.m7.opt_in@sessionctl.example.com>",
        date=DATE,
        program_title="Coffee Paris",
        round_number=12,
        opt_in_at="2026-06-04 09:00 CEST",
        match_at="2026-06-10 09:00 CEST",
        join_url="https://coffee.example.com/r?t=join-token&a=1",
        skip_url="https://coffee.example.com/r?t=skip-token",
    )
    return dataclasses.replace(base, **changes)


def _parsed(msg: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _text(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body((subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")  # a parsed message keeps the wire's CRLF


def test_headers_parse_back_exactly() -> None:
    parsed = _parsed(compose(_envelope()))

    assert parsed.keys() == [
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
    assert parsed["From"] == "Coffee Paris <coffee@example.com>"
    assert parsed["To"] == "Alice Martin <alice@example.com>"
    assert parsed["Date"] == "Thu, 04 Jun 2026 09:00:41 +0200"
    assert parsed["Date"].datetime == DATE
    assert parsed["Subject"] == "Coffee Paris: are you in for round 12?"
    assert parsed["Message-ID"] == "<r12.m7.opt_in@sessionctl.example.com>"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert all("MIME-Version" not in part for part in parsed.iter_parts())


def test_wire_form_is_seven_bit_with_crlf() -> None:
    raw = compose(_envelope(recipient=Person("zoe@example.com", "Zoë Ærø"))).as_bytes()

    assert raw.isascii()
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_opt_in_body_has_links_and_times() -> None:
    body = _text(compose(_envelope()), "plain")

    assert body.startswith("Hi Alice Martin,\n")
    assert "Join this round: https://coffee.example.com/r?t=join-token&a=1\n" in body
    assert "Skip this round: https://coffee.example.com/r?t=skip-token\n" in body
    assert "2026-06-10 09:00 CEST" in body


def test_opt_in_asks_for_a_reply_only_when_replies_are_read() -> None:
    read = _text(compose(_envelope(join_url=None, skip_url=None, replies=True)), "plain")
    unread = _text(compose(_envelope(join_url=None, skip_url=None)), "plain")
    both = _text(compose(_envelope(replies=True)), "plain")

    assert "Reply to this email with yes or no.\n" in read
    assert (
        'reply "pause until" and a date' in read and 'to leave Coffee Paris, reply "stop"' in read
    )
    assert "Join this round" not in read
    assert "Reply to" not in unread and "reply" not in unread
    assert f"To answer, write to {SENDER.email}.\n" in unread
    assert "Join this round: " in both and "Or reply to this email with yes or no.\n" in both


def test_list_unsubscribe_goes_as_written_folded_between_its_targets() -> None:
    # Mail providers read the URIs as they are: never RFC 2047 encoded words, however long.
    address = "answers-for-the-coffee-roulette-of-the-paris-office@example.com"
    leave = "https://coffee.example.com/leave/" + "T" * 120
    raw = compose(_envelope(reply_to=address, leave_url=leave)).as_bytes()

    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    start = head.index("List-Unsubscribe: ")
    lines = head[start:].split("\r\n")[:3]
    assert lines == [
        f"List-Unsubscribe: <mailto:{address}?subject=unsubscribe%20r12.m7.opt_in>,",
        f" <{leave}>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    ]
    assert "=?" not in head


def test_reply_to_and_list_unsubscribe_headers() -> None:
    plain = _parsed(compose(_envelope(join_url=None, skip_url=None)))
    linked = _parsed(
        compose(
            _envelope(reply_to="answers@example.com", leave_url="https://c.example.com/leave/T")
        )
    )

    assert plain["Reply-To"] is None
    # A value too long for the header's first line is folded before it: read back unfolded.
    assert plain["List-Unsubscribe"].strip() == (
        f"<mailto:{SENDER.email}?subject=unsubscribe%20r12.m7.opt_in>"
    )
    assert plain["List-Unsubscribe-Post"] is None  # RFC 8058: only with an https link
    assert linked["Reply-To"] == "answers@example.com"
    assert linked["List-Unsubscribe"].strip() == (
        "<mailto:answers@example.com?subject=unsubscribe%20r12.m7.opt_in>, "
        "<https://c.example.com/leave/T>"
    )
    assert linked["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_match_lists_the_other_members() -> None:
    group = (Person("bob@example.com", "Bob"), Person("carol@example.com", ""))
    msg = compose(_envelope(kind=Kind.MATCH, group=group))

    html_part = _text(msg, "html")
    assert "\nBob <bob@example.com>\ncarol@example.com\n" in _text(msg, "plain")
    assert '<a href="mailto:bob@example.com" ' in html_part
    assert '<a href="mailto:carol@example.com" ' in html_part
    assert ">Bob</strong>" in html_part
    assert msg["Subject"] == "Coffee Paris: your match for round 12"


def test_no_match_message() -> None:
    msg = compose(_envelope(kind=Kind.NO_MATCH))

    assert msg["Subject"] == "Coffee Paris: no match for you in round 12"
    assert "next round" in _text(msg, "plain")


def test_empty_name_greets_by_address() -> None:
    msg = _parsed(compose(_envelope(recipient=Person("alice@example.com", ""))))

    assert msg["To"] == "alice@example.com"
    assert _text(msg, "plain").startswith("Hi alice@example.com,")


def test_name_with_comma_and_address_stays_one_display_name() -> None:
    eve = Person("eve@example.com", "Eve, Mallory <m@evil.example>")
    msg = compose(_envelope(recipient=eve))
    parsed = _parsed(msg)

    [address] = parsed["To"].addresses
    assert address.addr_spec == "eve@example.com"
    assert address.display_name == "Eve, Mallory <m@evil.example>"
    assert envelope_recipients(msg) == ["eve@example.com"]
    assert envelope_recipients(parsed) == ["eve@example.com"]


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r", "\x85", "\u2028"])
def test_line_breaks_in_names_add_no_header(newline: str) -> None:
    injected = f"Eve{newline}Bcc: x@evil.example{newline}Subject: hacked"
    env = _envelope(
        recipient=Person("eve@example.com", injected),
        sender=Person("coffee@example.com", injected),
        program_title=injected,
    )
    parsed = _parsed(compose(env))

    assert "Bcc" not in parsed
    assert parsed.get_all("Subject") == [
        "Eve Bcc: x@evil.example Subject: hacked: are you in for round 12?"
    ]
    assert [a.addr_spec for a in parsed["To"].addresses] == ["eve@example.com"]
    assert [a.addr_spec for a in parsed["From"].addresses] == ["coffee@example.com"]
    assert parsed["To"].addresses[0].display_name == "Eve Bcc: x@evil.example Subject: hacked"


def test_line_breaks_in_a_subject_template_add_no_header() -> None:
    templates = {Kind.OPT_IN: ("Hi\r\nBcc: x@evil.example\r\n\r\n$program", "Body")}
    parsed = _parsed(compose(_envelope(), templates=templates))

    assert "Bcc" not in parsed
    assert parsed["Subject"] == "Hi Bcc: x@evil.example Coffee Paris"
    assert _text(parsed, "plain") == f"Body\n\n-- \n{LEAVE_BY_MAIL}\n"


def test_non_ascii_names_and_subject_are_encoded_and_round_trip() -> None:
    env = _envelope(
        sender=Person("coffee@example.com", "Café Zürich — Équipe"),
        recipient=Person("zoe@example.com", "Zoë Ærø"),
        program_title="Café Zürich",
    )
    msg = compose(env)
    raw = msg.as_bytes()
    parsed = _parsed(msg)

    assert b"=?utf-8?" in raw
    assert parsed["From"].addresses[0].display_name == "Café Zürich — Équipe"
    assert parsed["To"].addresses[0].display_name == "Zoë Ærø"
    assert parsed["Subject"] == "Café Zürich: are you in for round 12?"
    assert "Hi Zoë Ærø," in _text(parsed, "plain")


def test_html_part_escapes_every_value() -> None:
    env = _envelope(
        recipient=Person("alice@example.com", "<script>alert(1)</script>"),
        program_title='Coffee "&" <b>',
    )
    html_part = _text(_parsed(compose(env)), "html")

    assert "<script>" not in html_part
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_part
    assert "Coffee &quot;&amp;&quot; &lt;b&gt;" in html_part
    assert '<a href="https://coffee.example.com/r?t=join-token&amp;a=1" ' in html_part


def test_html_part_escapes_the_template_and_links_only_web_urls() -> None:
    templates = {Kind.OPT_IN: ("s", "<img src=x onerror=alert(1)> $join_url $links")}
    env = _envelope(join_url="javascript:alert(1)", skip_url=None)
    html_part = _text(compose(env, templates=templates), "html")

    assert "<img" not in html_part
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_part
    assert "href" not in html_part
    assert "Join this round: javascript:alert(1)" in html_part


def test_custom_templates_replace_only_their_kind() -> None:
    templates = {Kind.MATCH: ("$program round $round: $$5 coffee", "Hello $name\n\n$group\n")}
    custom = compose(_envelope(kind=Kind.MATCH, group=[ALICE]), templates=templates)
    default = compose(_envelope(), templates=templates)

    assert custom["Subject"] == "Coffee Paris round 12: $5 coffee"
    assert _text(custom, "plain") == (
        f"Hello Alice Martin\n\nAlice Martin <alice@example.com>\n\n-- \n{LEAVE_BY_MAIL}\n"
    )
    assert default["Subject"] == "Coffee Paris: are you in for round 12?"


def test_unknown_placeholder_raises_input_error_naming_it() -> None:
    templates = {Kind.OPT_IN: ("Hi $first_name", "body")}

    with pytest.raises(InputError) as caught:
        compose(_envelope(), templates=templates)

    message = str(caught.value)
    assert "$first_name" in message
    assert "opt_in subject template" in message
    assert "$name, $program, $round, $match_at" in message
    assert caught.value.exit_code == 2


def test_render_template_lists_known_placeholders() -> None:
    assert render_template("$a and ${b}", {"a": "1", "b": "2"}) == "1 and 2"
    with pytest.raises(InputError, match=r"unknown placeholders \$x, \$y in the template: use \$a"):
        render_template("$x $y", {"a": "1"})


def test_stray_dollar_is_an_input_error_with_its_position() -> None:
    with pytest.raises(InputError, match=r"line 2, col 5.*\$\$"):
        render_template("ok\nfor $5 only", {"name": ""})


def test_validate_template() -> None:
    validate_template("$program: round $round", "Hi $name,\n\n$links\n$group $opt_in_at")
    for subject, body in DEFAULT_TEMPLATES.values():
        validate_template(subject, body)
    with pytest.raises(InputError, match="one line"):
        validate_template("two\nlines", "body")
    with pytest.raises(InputError, match="empty"):
        validate_template("subject", "  \n")
    with pytest.raises(InputError, match=r"\$nom"):
        validate_template("subject", "Bonjour $nom")


def test_default_templates_are_read_only() -> None:
    with pytest.raises(TypeError):
        DEFAULT_TEMPLATES[Kind.OPT_IN] = ("x", "y")  # type: ignore[index]


def test_international_domain_goes_out_in_punycode() -> None:
    msg = compose(_envelope(recipient=Person("zoe@bücher.example", "Zoë")))

    assert envelope_recipients(msg) == ["zoe@xn--bcher-kva.example"]


@pytest.mark.parametrize(
    "address", ["", "not-an-address", "a@b@c", "x@evil.example>, y@evil.example", "zoë@x.example"]
)
def test_invalid_recipient_address_is_an_input_error(address: str) -> None:
    with pytest.raises(InputError, match="cannot send to"):
        compose(_envelope(recipient=Person(address, "X")))


def test_caller_contract_violations_are_value_errors() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compose(_envelope(date=datetime(2026, 6, 4, 9, 0)))
    with pytest.raises(ValueError, match="Message-ID"):
        compose(_envelope(message_id="<a@b>\r\nBcc: x@evil.example"))
    with pytest.raises(ValueError, match="Message-ID"):
        compose(_envelope(message_id="no-brackets@example.com"))


def test_date_is_kept_in_utc_too() -> None:
    msg = compose(_envelope(date=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)))

    assert msg["Date"] == "Fri, 02 Jan 2026 03:04:05 +0000"


# --- what the messages say (issue 14) ------------------------------------------------------------

BOB = Person("bob@example.com", "Bob Dupont", "Finance")
CAROL = Person("carol+coffee@example.com", "", "Legal")


def _match(**changes: Any) -> Envelope:
    return _envelope(
        **{
            "kind": Kind.MATCH,
            "message_id": "<r12.m7.match@sessionctl.example.com>",
            "group": (BOB, CAROL),
            "icebreaker": "What did you want to be as a child?",
            **changes,
        }
    )


def test_match_names_each_partner_with_team_and_the_whole_group_in_one_mailto() -> None:
    plain = _text(compose(_match()), "plain")

    assert "matched you with:\nBob Dupont (Finance) <bob@example.com>\n" in plain
    assert "carol+coffee@example.com (Legal)\n" in plain
    assert (
        "Write to the whole group at once:\nmailto:bob@example.com,carol%2Bcoffee@example.com,"
        "alice@example.com?subject=Coffee%20Paris%3A%20round%2012\n"
    ) in plain
    assert "Something to talk about:\nWhat did you want to be as a child?\n" in plain


def test_a_paragraph_whose_block_is_empty_is_left_out() -> None:
    plain = _text(compose(_match(icebreaker="")), "plain")
    html_part = _text(compose(_match(icebreaker="")), "html")

    assert "Something to talk about" not in plain and "Something to talk about" not in html_part
    assert "\n\n\n" not in plain
    assert "Write to the whole group at once:" in plain


def test_how_to_leave_names_only_what_is_set_up() -> None:
    page = "https://coffee.example.com/me/T0K3N"
    with_page = _text(compose(_match(manage_url=page)), "plain")
    with_page_and_replies = _text(compose(_match(manage_url=page, replies=True)), "plain")
    by_reply = _text(compose(_match(replies=True, reply_to="answers@example.com")), "plain")
    by_mail = _text(compose(_match(reply_to="answers@example.com")), "plain")

    assert with_page.endswith(f"\n-- \nTo pause or leave Coffee Paris, open your page: {page}\n")
    assert "reply" not in with_page.lower() and "write to" not in with_page
    assert with_page_and_replies.endswith(
        f"open your page: {page}\nTo take a break, reply "
        + (
            '"pause until" and a date (e.g. "pause until 15 January"); to leave Coffee Paris, '
            'reply "stop".\n'
        )
    )
    assert by_reply.endswith('to leave Coffee Paris, reply "stop".\n')
    assert "open your page" not in by_reply and "write to" not in by_reply
    assert by_mail.endswith(
        "\n-- \nTo pause or leave Coffee Paris, write to answers@example.com.\n"
    )


def test_no_match_says_when_the_next_round_opens() -> None:
    planned = compose(
        _envelope(kind=Kind.NO_MATCH, next_round="Wednesday 24 June 2026, 09:00 CEST")
    )
    unplanned = compose(_envelope(kind=Kind.NO_MATCH))

    assert "The next round opens on Wednesday 24 June 2026, 09:00 CEST.\n" in _text(
        planned, "plain"
    )
    assert "No next round is planned yet" in _text(unplanned, "plain")
    assert "No next round is planned yet" in _text(unplanned, "html")


def test_french_defaults_and_words() -> None:
    opt_in = compose(
        _envelope(language="fr", match_at="mercredi 10 juin 2026, 09:00 CEST", replies=True)
    )
    match = compose(_match(language="fr", manage_url="https://coffee.example.com/me/T"))
    lonely = compose(_envelope(kind=Kind.NO_MATCH, language="fr"))

    assert opt_in["Subject"] == "Coffee Paris : vous participez au tour 12 ?"
    text = _text(opt_in, "plain")
    assert text.startswith("Bonjour Alice Martin,\n")
    assert "Participer à ce tour : https://coffee.example.com/r?t=join-token&a=1\n" in text
    assert "Ou répondez à cet e-mail par oui ou par non.\n" in text
    assert "jusqu'au mercredi 10 juin 2026, 09:00 CEST" in text
    assert "répondez « stop »" in text
    assert '<html lang="fr">' in _text(opt_in, "html")
    assert match["Subject"] == "Coffee Paris : votre groupe pour le tour 12"
    assert "?subject=Coffee%20Paris%20%3A%20tour%2012" in _text(match, "plain")
    assert "ouvrez votre page : https://coffee.example.com/me/T" in _text(match, "plain")
    assert ">Écrire à votre groupe</a>" in _text(match, "html")
    assert "Aucun prochain tour n'est encore prévu" in _text(lonely, "plain")


def test_custom_templates_use_the_new_placeholders_in_any_language() -> None:
    body = (
        "Hallo $name!\n\n$group\n\nSchreib allen: $group_mailto\n\nFrage: $icebreaker\n\n"
        "$next_round\n\n$how_to_leave\n"
    )
    msg = compose(_match(language="de"), templates={Kind.MATCH: ("Runde $round", body)})
    plain = _text(msg, "plain")

    assert msg["Subject"] == "Runde 12"
    assert plain.startswith("Hallo Alice Martin!\n\nBob Dupont (Finance) <bob@example.com>\n")
    assert "Schreib allen: mailto:bob@example.com," in plain
    assert "Frage: What did you want to be as a child?" in plain
    assert plain.endswith("To pause or leave Coffee Paris, write to coffee@example.com.\n")
    assert "-- \n" not in plain  # $how_to_leave in the body: no footer says it twice
    assert plain.count("To pause or leave") == 1
    assert _text(msg, "html").count("To pause or leave") == 1


def test_every_default_template_is_valid_in_every_language() -> None:
    for language in ("en", "fr"):
        for subject, body in default_templates(language).values():
            validate_template(subject, body)
    assert default_templates("de") == DEFAULT_TEMPLATES
    validate_template("$program", "$group_mailto $icebreaker $next_round $manage_url $how_to_leave")


def test_program_template_help_documents_every_placeholder() -> None:
    doc = template.__doc__ or ""

    for name in PLACEHOLDERS:
        assert f"${name} " in doc or f"${name}:" in doc, name


def test_a_notice_says_what_changed_and_asks_for_an_answer_only_while_the_round_takes_one() -> None:
    custom = {Kind.NOTICE: ("$program: $change", "Round $round $change.\n\nStill:\n$links\n")}
    moved = compose(_envelope(kind=Kind.NOTICE, match_at="Thursday 11 June 2026, 10:00 CEST"))
    cancelled = compose(
        _envelope(
            kind=Kind.NOTICE, cancelled=True, answers_open=False, join_url=None, skip_url=None
        ),
        templates=custom,
    )
    closed_fr = compose(
        _envelope(kind=Kind.NOTICE, language="fr", cancelled=True, answers_open=False)
    )

    assert moved["Subject"] == (
        "Coffee Paris: round 12 now forms its groups on Thursday 11 June 2026, 10:00 CEST"
    )
    assert "Join this round: https://coffee.example.com/r?t=join-token&a=1\n" in _text(
        moved, "plain"
    )
    assert cancelled["Subject"] == "Coffee Paris: is cancelled"
    text = _text(cancelled, "plain")
    assert text.startswith("Round 12 is cancelled.\n\n-- \n")  # "Still:" and $links left out
    assert "Still" not in _text(cancelled, "html")
    assert closed_fr["Subject"] == "Coffee Paris : le tour 12 est annulé"
    # Other kinds have no change to tell.
    other = compose(_envelope(), templates={Kind.OPT_IN: ("[$change]", "$links\n")})
    assert other["Subject"] == "[]"
