"""The links of a real match email: the member's own page (pause or leave) answers, and the
group mailto names the whole group."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli.test_serve_hardening import request, serving
from tests.conftest import Invoke
from tests.rundue.conftest import add_program, ok, outbox, schedule


def test_a_match_email_links_to_the_members_page(cli: Invoke, isolated: Path) -> None:
    add_program(cli, "coffee", members=["ana@example.com", "bo@example.com"], opt_in=False)
    ok(cli("program", "set", "coffee", "--link-base", "http://127.0.0.1"))
    round_id = schedule(cli, "coffee", "--match", "2099-01-07 09:00")
    ok(cli("update", str(round_id), "--match", "now"))
    ok(cli("run-due"))
    [to_ana] = [m for m in outbox(isolated) if "ana@" in str(m["To"])]
    body = to_ana.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    [page] = re.findall(r"http://127\.0\.0\.1(/me/\S+)", text)
    [mailto] = re.findall(r"mailto:\S+", text)

    assert mailto.startswith("mailto:bo@example.com,ana@example.com?subject=")
    with serving() as port:
        shown = request(port, "GET", page)
    assert shown.status == 200
    assert b"Pause" in shown.body and b"Leave this program" in shown.body
