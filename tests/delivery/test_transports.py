"""Transports against a real Maildir and a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import mailbox
import socket
import ssl
import subprocess
import sys
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from sessionctl.delivery.compose import Envelope, Kind, Person, compose, envelope_recipients
from sessionctl.delivery.transports import (
    SendResult,
    TransportSpec,
    TransportUnavailable,
    open_transport,
    parse_transport,
)
from sessionctl.errors import DeliveryError, InputError

from .conftest import PASSWORD, TEMPFAIL_PASSWORD, USER, SmtpServer, StartServer

DEFAULT_MAILDIR = Path("/data/sessionctl/outbox")
SENDER = Person("coffee@example.com", "Coffee Paris")


def _message(
    to: str = "alice@example.com", *, name: str = "Alice", number: int = 1
) -> EmailMessage:
    return compose(
        Envelope(
            kind=Kind.NO_MATCH,
            sender=SENDER,
            recipient=Person(to, name),
            message_id=f"<r12.m{number}@sessionctl.example.com>",
            date=datetime(2026, 6, 10, 7, 0, tzinfo=UTC),
            program_title="Coffee Paris",
            round_number=12,
            opt_in_at=None,
            match_at="2026-06-10 09:00 CEST",
        )
    )


def _send(transport_spec: TransportSpec, *messages: EmailMessage, **kw: str) -> list[SendResult]:
    with open_transport(transport_spec, password=kw.get("password"), timeout=5) as transport:
        return [transport.send(msg, to=envelope_recipients(msg)) for msg in messages]


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- parse_transport -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("maildir:", TransportSpec("maildir", path=DEFAULT_MAILDIR)),
        ("maildir", TransportSpec("maildir", path=DEFAULT_MAILDIR)),
        ("maildir:/var/mail/out", TransportSpec("maildir", path=Path("/var/mail/out"))),
        ("smtp://mail.example.com", TransportSpec("smtp", host="mail.example.com", port=25)),
        ("smtp://127.0.0.1:2525", TransportSpec("smtp", host="127.0.0.1", port=2525)),
        ("smtp://[::1]:2525", TransportSpec("smtp", host="::1", port=2525)),
        (
            "smtp://robot@localhost:25",
            TransportSpec("smtp", host="localhost", port=25, user="robot"),
        ),
        (
            "smtp+starttls://alice@Mail.Example.com",
            TransportSpec("smtp+starttls", host="mail.example.com", port=587, user="alice"),
        ),
        (
            " smtps://alice%40example.com@mail.example.com:4650/ ",
            TransportSpec("smtps", host="mail.example.com", port=4650, user="alice@example.com"),
        ),
        ("SMTPS://mail.example.com", TransportSpec("smtps", host="mail.example.com", port=465)),
    ],
)
def test_parse_transport(text: str, expected: TransportSpec) -> None:
    assert parse_transport(text, default_maildir=DEFAULT_MAILDIR) == expected


def test_parse_maildir_expands_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))

    spec = parse_transport("maildir:~/outbox", default_maildir=DEFAULT_MAILDIR)

    assert spec.path == tmp_path / "outbox"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "mbox:/tmp/x",
        "smtp",
        "smtp:mail.example.com",
        "smtp://",
        "smtp://mail.example.com:0",
        "smtp://mail.example.com:99999",
        "smtp://mail.example.com:twenty-five",
        "smtp://mail.example.com/path",
        "smtp://mail.example.com?x=1",
        "https://mail.example.com",
    ],
)
def test_parse_transport_rejects_bad_specs(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_transport(text, default_maildir=DEFAULT_MAILDIR)

    assert str(caught.value) == (
        f"invalid transport {text.strip()!r}: use maildir:PATH, smtp://HOST:PORT, "
        "smtp+starttls://USER@HOST:587 or smtps://USER@HOST:465"
    )
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    "text", ["smtps://alice:s3cret-pw@mail.example.com", "ftp://alice:s3cret-pw@mail.example.com"]
)
def test_a_password_in_the_spec_is_refused_without_echoing_it(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_transport(text, default_maildir=DEFAULT_MAILDIR)

    assert "s3cret-pw" not in str(caught.value)
    assert "alice:***@mail.example.com" in str(caught.value)


def test_plain_smtp_login_only_to_loopback() -> None:
    with pytest.raises(InputError, match="unencrypted"):
        parse_transport("smtp://alice@mail.example.com:25", default_maildir=DEFAULT_MAILDIR)


@pytest.mark.parametrize(
    "text",
    [
        "maildir:/var/mail/out",
        "smtp://mail.example.com:25",
        "smtp+starttls://alice@mail.example.com:587",
        "smtps://alice@example.com@mail.example.com:465",
        "smtp://[::1]:2525",
    ],
)
def test_describe_round_trips(text: str) -> None:
    spec = parse_transport(text, default_maildir=DEFAULT_MAILDIR)

    assert spec.describe() == text
    assert parse_transport(spec.describe(), default_maildir=DEFAULT_MAILDIR) == spec


def test_login_without_password_is_an_input_error() -> None:
    spec = TransportSpec("smtps", host="mail.example.com", port=465, user="alice")

    with pytest.raises(InputError, match="SESSIONCTL_SMTP_PASSWORD"):
        open_transport(spec, password=None)
    with pytest.raises(InputError, match="non-ASCII") as caught:
        open_transport(spec, password="pässword")
    assert "pässword" not in str(caught.value)


# --- maildir -----------------------------------------------------------------------------------


def test_maildir_writes_a_readable_message_in_private_folders(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "outbox"
    msg = _message()

    [result] = _send(TransportSpec("maildir", path=folder), msg)

    assert result.ok and not result.temporary
    [written] = list((folder / "new").iterdir())
    assert str(written) in result.reply
    stored = mailbox.Maildir(folder, create=False)
    [key] = stored.keys()
    assert stored[key]["Message-ID"] == "<r12.m1@sessionctl.example.com>"
    raw = written.read_bytes()
    assert b"\r\n" not in raw
    assert email.message_from_bytes(raw, policy=policy.default)["To"] == msg["To"]
    for sub in (folder, folder / "tmp", folder / "new", folder / "cur", folder.parent):
        assert sub.stat().st_mode & 0o777 == 0o700, sub
    assert list((folder / "tmp").iterdir()) == []


def test_maildir_completes_an_existing_empty_folder(tmp_path: Path) -> None:
    results = _send(TransportSpec("maildir", path=tmp_path), _message(), _message(number=2))

    assert [r.ok for r in results] == [True, True]
    assert len(list((tmp_path / "new").iterdir())) == 2


def test_unusable_maildir_is_a_delivery_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")

    with pytest.raises(DeliveryError, match="cannot use maildir"):
        _send(TransportSpec("maildir", path=tmp_path / "file" / "outbox"), _message())


def test_importing_transports_does_not_import_smtplib_or_ssl() -> None:
    code = (
        "import sys, sessionctl.delivery.transports;"
        "print(sorted({'smtplib', 'ssl', 'mailbox'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]"


# --- smtp: delivery and classification ---------------------------------------------------------


def test_smtp_sends_to_the_explicit_envelope_recipient(smtp_server: SmtpServer) -> None:
    msg = _message("alice@example.com", name="Eve, Mallory <m@evil.example>")

    [result] = _send(smtp_server.spec(), msg)

    assert result == SendResult(ok=True, temporary=False, code=250, reply="accepted by 127.0.0.1")
    [received] = smtp_server.handler.received
    assert received.mail_from == "coffee@example.com"
    assert received.rcpt_tos == ["alice@example.com"]
    parsed = email.message_from_bytes(received.content, policy=policy.default)
    assert parsed["Message-ID"] == "<r12.m1@sessionctl.example.com>"
    assert [a.addr_spec for a in parsed["To"].addresses] == ["alice@example.com"]


def test_smtp_envelope_recipients_come_from_the_caller_not_headers(
    smtp_server: SmtpServer,
) -> None:
    with open_transport(smtp_server.spec(), password=None) as transport:
        result = transport.send(_message("alice@example.com"), to=["archive@example.com"])

    assert result.ok
    assert smtp_server.handler.received[0].rcpt_tos == ["archive@example.com"]


def test_one_connection_serves_a_whole_run(smtp_server: SmtpServer) -> None:
    messages = [_message(f"m{i}@example.com", number=i) for i in range(5)]

    results = _send(smtp_server.spec(), *messages)

    assert all(result.ok for result in results)
    assert len({received.peer for received in smtp_server.handler.received}) == 1


def test_451_is_temporary_and_a_later_attempt_succeeds(smtp_server: SmtpServer) -> None:
    # Every recipient refused: smtplib raises SMTPRecipientsRefused, here carrying a 4xx.
    smtp_server.handler.script(
        "RCPT", "bob@example.com", "451 4.7.1 greylisted, try later", times=2
    )
    msg = _message("bob@example.com")

    first, second, third = _send(smtp_server.spec(), msg, msg, msg)

    assert first == SendResult(False, True, 451, "451 4.7.1 greylisted, try later")
    assert second == first
    assert third.ok
    assert len(smtp_server.handler.received) == 1


def test_550_is_permanent_keeps_the_reply_and_blocks_no_one(smtp_server: SmtpServer) -> None:
    smtp_server.handler.script("RCPT", "ghost@example.com", "550 5.1.1 no such user")

    bad, good = _send(smtp_server.spec(), _message("ghost@example.com"), _message(number=2))

    assert bad == SendResult(ok=False, temporary=False, code=550, reply="550 5.1.1 no such user")
    assert good.ok
    assert [r.rcpt_tos for r in smtp_server.handler.received] == [["alice@example.com"]]


@pytest.mark.parametrize(
    ("stage", "reply", "temporary"),
    [
        ("MAIL", "553 5.7.1 sender not allowed", False),
        ("MAIL", "452 4.3.1 insufficient storage", True),
        ("DATA", "554 5.7.1 message rejected as spam", False),
        ("DATA", "451 4.3.0 local error in processing", True),
    ],
)
def test_mail_and_data_refusals_are_classified_by_code(
    smtp_server: SmtpServer, stage: str, reply: str, temporary: bool
) -> None:
    address = "coffee@example.com" if stage == "MAIL" else "alice@example.com"
    smtp_server.handler.script(stage, address, reply)

    [result] = _send(smtp_server.spec(), _message())

    assert result == SendResult(False, temporary, int(reply[:3]), reply)


def test_several_recipients_one_refused(smtp_server: SmtpServer) -> None:
    smtp_server.handler.script("RCPT", "b@example.com", "550 5.1.1 no such user")
    smtp_server.handler.script("RCPT", "c@example.com", "451 4.7.1 later")

    with open_transport(smtp_server.spec(), password=None) as transport:
        result = transport.send(_message(), to=["a@example.com", "b@example.com", "c@example.com"])

    assert not result.ok and not result.temporary and result.code == 550
    assert result.reply == "b@example.com: 550 5.1.1 no such user; c@example.com: 451 4.7.1 later"


def test_421_is_temporary_and_the_next_message_reconnects(smtp_server: SmtpServer) -> None:
    smtp_server.handler.script("RCPT", "bob@example.com", "421 4.7.0 too busy, closing")

    busy, after = _send(smtp_server.spec(), _message("bob@example.com"), _message(number=2))

    assert busy == SendResult(False, True, 421, "421 4.7.0 too busy, closing")
    assert after.ok


def test_a_dropped_connection_is_reopened_once(start_smtp: StartServer) -> None:
    server = start_smtp(idle_timeout=0.2)
    with open_transport(server.spec(), password=None, timeout=5) as transport:
        first = transport.send(_message(), to=["alice@example.com"])
        server.handler.wait_closed(server.handler.received[0].peer)  # idle clients are dropped
        second = transport.send(_message(number=2), to=["alice@example.com"])

    assert first.ok and second.ok
    assert len({received.peer for received in server.handler.received}) == 2


def test_a_server_gone_mid_run_makes_the_rest_temporary(start_smtp: StartServer) -> None:
    server = start_smtp(idle_timeout=0.2)
    with open_transport(server.spec(), password=None, timeout=5) as transport:
        first = transport.send(_message(), to=["alice@example.com"])
        server.handler.wait_closed(server.handler.received[0].peer)
        server.stop()
        second = transport.send(_message(number=2), to=["alice@example.com"])
        third = transport.send(_message(number=3), to=["alice@example.com"])

    assert first.ok
    assert (second.ok, second.temporary, second.code) == (False, True, None)
    assert "cannot reach SMTP server" in second.reply
    assert third == second


def test_send_outside_a_with_block_is_a_programming_error(smtp_server: SmtpServer) -> None:
    transport = open_transport(smtp_server.spec(), password=None)

    with pytest.raises(RuntimeError):
        transport.send(_message(), to=["alice@example.com"])
    with transport, pytest.raises(TypeError):
        transport.send(_message(), to="alice@example.com")


# --- smtp: connecting, TLS and authentication --------------------------------------------------


def test_connection_refused_is_transport_unavailable() -> None:
    spec = TransportSpec("smtp", host="127.0.0.1", port=_closed_port())

    with pytest.raises(TransportUnavailable, match=r"cannot reach SMTP server 127\.0\.0\.1:\d+"):
        _send(spec, _message())


def test_login_with_the_right_password(start_smtp: StartServer) -> None:
    server = start_smtp(auth=True)

    [result] = _send(server.spec(user=USER), _message(), password=PASSWORD)

    assert result.ok


def test_wrong_password_is_a_delivery_error_that_never_shows_it(start_smtp: StartServer) -> None:
    server = start_smtp(auth=True)
    transport = open_transport(server.spec(user=USER), password="wrong-Pa55word")

    with pytest.raises(DeliveryError) as caught, transport:
        pass

    assert type(caught.value) is DeliveryError  # not TransportUnavailable: retrying won't help
    assert str(caught.value) == (
        f"SMTP authentication failed for {USER}@127.0.0.1: check SESSIONCTL_SMTP_PASSWORD"
    )
    assert caught.value.exit_code == 1
    assert "wrong-Pa55word" not in f"{caught.value!r} {caught.value.__cause__!r} {transport!r}"
    assert server.handler.received == []


def test_starttls_verifies_the_certificate_and_logs_in(
    start_smtp: StartServer, server_tls: ssl.SSLContext, trust_test_cert: None
) -> None:
    server = start_smtp(auth=True, tls=server_tls)

    [result] = _send(server.spec("smtp+starttls", user=USER), _message(), password=PASSWORD)

    assert result.ok
    assert server.handler.received[0].tls


def test_smtps_verifies_the_certificate(
    start_smtp: StartServer, server_tls: ssl.SSLContext, trust_test_cert: None
) -> None:
    server = start_smtp(tls=server_tls, implicit_tls=True)

    [result] = _send(server.spec("smtps"), _message())

    assert result.ok
    assert server.handler.received[0].tls


@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
def test_an_untrusted_certificate_is_a_delivery_error(
    start_smtp: StartServer,
    server_tls: ssl.SSLContext,
    scheme: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    server = start_smtp(tls=server_tls, implicit_tls=scheme == "smtps")

    with pytest.raises(DeliveryError, match=r"certificate .* not trusted") as caught:
        _send(server.spec(scheme), _message())

    assert type(caught.value) is DeliveryError


def test_a_server_without_starttls_is_a_delivery_error(smtp_server: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match="does not offer STARTTLS") as caught:
        _send(smtp_server.spec("smtp+starttls"), _message())

    assert type(caught.value) is DeliveryError


def test_a_temporary_auth_failure_is_transport_unavailable(start_smtp: StartServer) -> None:
    server = start_smtp(auth=True)

    with pytest.raises(TransportUnavailable, match=r"454 4\.7\.0 try again later") as caught:
        _send(server.spec(user=USER), _message(), password=TEMPFAIL_PASSWORD)

    assert TEMPFAIL_PASSWORD not in str(caught.value)


def test_a_user_for_a_server_without_auth_is_a_delivery_error(smtp_server: SmtpServer) -> None:
    with pytest.raises(DeliveryError, match="does not offer login"):
        _send(smtp_server.spec(user=USER), _message(), password=PASSWORD)
