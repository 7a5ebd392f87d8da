"""Programs replace message templates kind by kind; the delivered email uses them."""

from __future__ import annotations

import email
import mailbox
from email import policy
from pathlib import Path

from tests.conftest import Invoke


def _outbox(isolated: Path) -> list[email.message.EmailMessage]:
    box = mailbox.Maildir(isolated / "home" / "data" / "sessionctl" / "outbox", create=False)
    return [email.message_from_bytes(m.as_bytes(), policy=policy.default) for m in box]  # type: ignore[misc]


def test_custom_subject_and_body_are_used_and_the_rest_stays_default(
    cli: Invoke, isolated: Path
) -> None:
    assert cli("program", "add", "coffee", "--no-opt-in", "--title", "Coffee").code == 0
    for address in ("ana@example.com", "bob@example.com"):
        assert cli("member", "add", "coffee", address, "--name", address[:3]).code == 0
    changed = cli("program", "template", "coffee", "match", "--subject", "$program: meet $name")
    assert changed.code == 0, changed.stderr
    body = cli("program", "template", "coffee", "match", "--body", "-", input="Hi $name!\n$group\n")
    assert body.code == 0, body.stderr
    shown = cli("program", "template", "coffee", "--json").json()
    assert [(t["kind"], t["custom"]) for t in shown] == [
        ("opt_in", False),
        ("match", True),
        ("no_match", False),
        ("notice", False),
        ("reminder", False),
    ]
    assert shown[1]["subject"] == "$program: meet $name"

    assert cli("schedule", "coffee", "--match", "now").code == 0
    assert cli("run-due").code == 0
    messages = sorted(_outbox(isolated), key=lambda m: str(m["To"]))
    assert [str(m["Subject"]) for m in messages] == ["Coffee: meet ana", "Coffee: meet bob"]
    text = messages[0].get_body(preferencelist=("plain",))
    assert text is not None
    assert text.get_content().startswith("Hi ana!\nbob <bob@example.com>")


def test_an_unknown_placeholder_is_refused_and_nothing_changes(cli: Invoke) -> None:
    assert cli("program", "add", "coffee").code == 0
    before = cli("program", "template", "coffee", "--json").json()
    result = cli("program", "template", "coffee", "opt_in", "--subject", "Hi $nobody")
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: unknown placeholder $nobody in the subject template")
    assert len(result.stderr.splitlines()) == 1
    assert cli("program", "template", "coffee", "--json").json() == before


def test_reset_goes_back_to_the_default(cli: Invoke) -> None:
    assert cli("program", "add", "coffee").code == 0
    default = cli("program", "template", "coffee", "no_match", "--json").json()
    assert cli("program", "template", "coffee", "no_match", "--subject", "x").code == 0
    assert cli("program", "template", "coffee", "no_match", "--reset").code == 0
    assert cli("program", "template", "coffee", "no_match", "--json").json() == default


def test_an_unknown_kind_is_refused(cli: Invoke) -> None:
    assert cli("program", "add", "coffee").code == 0
    result = cli("program", "template", "coffee", "invitation", "--subject", "x")
    assert (result.code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: invalid message kind 'invitation': "
        "use opt_in, match, no_match, notice or reminder\n"
    )
