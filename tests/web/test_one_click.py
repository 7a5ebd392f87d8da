"""One-click unsubscribe (RFC 8058) and the answer form's refusals, as plain HTTP clients send
them: a mail provider's server posts with no browser headers at all."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Invoke, ok, sql
from tests.web.conftest import TITLE, Links, fetch, figures, member

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
BOUNDARY = "----provider7MA4YWxkTrZu0gW"
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
# RFC 8058 prefers multipart/form-data: one field, as the providers send it.
ONE_CLICK_MULTIPART = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
    f"One-Click\r\n--{BOUNDARY}--\r\n"
).encode()
BODIES = {
    "urlencoded": (b"List-Unsubscribe=One-Click", FORM),
    "multipart": (ONE_CLICK_MULTIPART, MULTIPART),
}


def _left_reason() -> str | None:
    [(reason,)] = sql("SELECT left_reason FROM member WHERE id = 1")
    return str(reason) if reason is not None else None


@pytest.mark.parametrize("encoding", list(BODIES))
def test_one_click_leaves_at_once(cli: Invoke, server: str, links: Links, encoding: str) -> None:
    body, headers = BODIES[encoding]
    reply = fetch(f"{server}/leave/{links.leave}", data=body, headers=headers)
    assert reply.status == 200
    assert f"You have left {TITLE.replace('<', '&lt;').replace('>', '&gt;')}" in reply.page
    assert member(cli)["active"] is False
    assert _left_reason() == "unsubscribed with the one-click link"
    again = fetch(f"{server}/leave/{links.leave}", data=body, headers=headers)
    assert again.status == 200  # a provider that retries gets a page, not an error
    assert "You had left already" in again.page


def test_the_next_run_says_who_left_once(cli: Invoke, server: str, links: Links) -> None:
    email = member(cli)["email"]
    fetch(f"{server}/leave/{links.leave}", data=b"List-Unsubscribe=One-Click", headers=FORM)

    first = ok(cli("run-due", "--json")).json()
    second = cli("run-due")

    assert first["left"] == [
        {
            "email": email,
            "program": "coffee",
            "reason": "unsubscribed with the one-click link",
        }
    ]
    assert f"{email} left " not in second.stdout
    listed = ok(cli("member", "list", "coffee", "--all")).stdout
    assert "left: unsubscribed with the one-click link" in listed


def test_one_click_works_whatever_the_round_became(cli: Invoke, server: str, links: Links) -> None:
    ok(cli("update", "1", "--match", "now"))
    ok(cli("run-due"))
    reply = fetch(f"{server}/leave/{links.leave}", data=b"List-Unsubscribe=One-Click")
    assert reply.status == 200
    assert member(cli)["active"] is False


def test_one_click_from_a_webmail_page_on_another_site_leaves(
    cli: Invoke, server: str, links: Links
) -> None:
    headers = {**FORM, "Origin": "https://mail.example.net", "Sec-Fetch-Site": "cross-site"}
    reply = fetch(
        f"{server}/leave/{links.leave}", data=b"List-Unsubscribe=One-Click", headers=headers
    )
    assert reply.status == 200
    assert member(cli)["active"] is False


@pytest.mark.parametrize("body", [b"", b"List-Unsubscribe=Later", b"choice=leave"])
def test_a_post_that_is_no_one_click_leaves_nothing(
    cli: Invoke, server: str, links: Links, body: bytes
) -> None:
    reply = fetch(f"{server}/leave/{links.leave}", data=body, headers=FORM)
    assert reply.status == 400
    assert member(cli)["active"] is True


def test_an_answer_posted_from_another_site_is_refused(
    cli: Invoke, server: str, links: Links
) -> None:
    headers = {**FORM, "Origin": "https://evil.example.net"}
    reply = fetch(f"{server}/answer/{links.join}", data=b"choice=leave", headers=headers)
    assert reply.status == 403
    assert member(cli)["active"] is True
    reply = fetch(f"{server}/answer/{links.join}", data=b"choice=join", headers=headers)
    assert reply.status == 403
    assert figures(cli) == (0, 0)


def test_an_unsubscribe_link_cannot_answer(cli: Invoke, server: str, links: Links) -> None:
    for body in (b"choice=join", b""):
        reply = fetch(f"{server}/answer/{links.leave}", data=body, headers=FORM)
        assert reply.status == 400
        assert "This link is not valid" in reply.page
    assert figures(cli) == (0, 0)


def _paris_today() -> datetime:
    return datetime.now(ZoneInfo("Europe/Paris"))


PAUSES = {
    "today": (lambda: f"{_paris_today():%Y-%m-%d}", 409, "Pick a date after today"),
    "past a year": (
        lambda: f"{_paris_today() + timedelta(days=366):%Y-%m-%d}",
        409,
        "Pick a date within a year",
    ),
    "not a date": (lambda: "2026-02-30", 400, "Pick the date your pause ends"),
    "another format": (lambda: "12/31/2026", 400, "Pick the date your pause ends"),
}


@pytest.mark.parametrize("case", list(PAUSES))
def test_a_pause_outside_the_next_year_is_refused(
    cli: Invoke, server: str, links: Links, case: str
) -> None:
    until, status, said = PAUSES[case]
    body = f"choice=pause&until={until()}".encode()
    reply = fetch(f"{server}/answer/{links.join}", data=body, headers=FORM)
    assert (reply.status, said in reply.page) == (status, True)
    assert sql("SELECT paused_until FROM member WHERE id = 1") == [(None,)]
    assert figures(cli) == (0, 0)


def test_an_unknown_choice_records_nothing(cli: Invoke, server: str, links: Links) -> None:
    for body in (b"choice=maybe", b"choice=join&choice=skip"):
        reply = fetch(f"{server}/answer/{links.join}", data=body, headers=FORM)
        assert reply.status == 400
    assert figures(cli) == (0, 0)
