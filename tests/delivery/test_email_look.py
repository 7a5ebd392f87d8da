"""The emails as members see them: each kind's HTML part in a real headless Chromium (Debian's
``chromium`` and ``chromedriver``), at phone (375 px) and desktop (1,024 px) widths, in light and
dark mode; and the text part, checked for the same facts."""

from __future__ import annotations

import dataclasses
import email
import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from sessionctl.delivery.compose import Envelope, Kind, Person, compose
from tests.browser import chromium

WIDTHS = (375, 1024)
BASE = "https://coffee.example.com"
SENDER = Person("coffee@example.com", "Coffee Paris")
# Whatever members and admins type shows as typed, in both parts: none of it may become markup.
ANA = Person("ana@example.com", "<script>alert(1)</script>", "R&D")
BOB = Person("bob@example.com", '"><img src=x>', "Finance")
CHLOE = Person("chloe.lefebvre-dumont@example.com", "Chloé Lefebvre-Dumont", "Legal")
DAVID = Person("david@example.com", "David", "")
ICEBREAKER = "What is the best thing you learned this year?"
MANAGE = f"{BASE}/me/m4n4g3-t0k3n"


@dataclass(frozen=True)
class Case:
    """A message, the links a member must find in it (label -> where it goes) and the facts
    both parts must show."""

    env: Envelope
    links: Mapping[str, str] = field(default_factory=dict)
    facts: tuple[str, ...] = ()
    templates: Mapping[Kind, tuple[str, str]] | None = None


def _env(kind: Kind, **changes: Any) -> Envelope:
    base = Envelope(
        kind=kind,
        sender=SENDER,
        recipient=ANA,
        message_id=f"<sessionctl.3.12.{kind}@example.com>",
        date=datetime(2026, 6, 4, 7, 0, tzinfo=UTC),
        program_title="Coffee <Paris> & friends",
        round_number=12,
        opt_in_at="Thursday 4 June 2026, 09:00 CEST",
        match_at="Wednesday 10 June 2026, 09:00 CEST",
    )
    return dataclasses.replace(base, **changes)


def _mailto(*people: Person, subject: str) -> str:
    addresses = ",".join(p.email for p in people)
    return f"mailto:{addresses}?subject={subject}"


GROUP_SUBJECT = "Coffee%20%3CParis%3E%20%26%20friends%3A%20round%2012"
CASES = {
    "opt_in-links": Case(
        _env(Kind.OPT_IN, join_url=f"{BASE}/answer/j0in", skip_url=f"{BASE}/answer/sk1p"),
        {"Join this round": f"{BASE}/answer/j0in", "Skip this round": f"{BASE}/answer/sk1p"},
        (
            "Hi <script>alert(1)</script>,",
            "Wednesday 10 June 2026, 09:00 CEST",
            "To pause or leave Coffee <Paris> & friends, write to coffee@example.com.",
        ),
    ),
    "opt_in-links-and-page-fr": Case(
        _env(
            Kind.OPT_IN,
            language="fr",
            match_at="mercredi 10 juin 2026, 09:00 CEST",
            join_url=f"{BASE}/answer/j0in",
            skip_url=f"{BASE}/answer/sk1p",
            manage_url=MANAGE,
            replies=True,
        ),
        {
            "Participer à ce tour": f"{BASE}/answer/j0in",
            "Passer ce tour": f"{BASE}/answer/sk1p",
            MANAGE: MANAGE,
        },
        (
            "Bonjour <script>alert(1)</script>,",
            "jusqu'au mercredi 10 juin 2026, 09:00 CEST",
            "Ou répondez à cet e-mail par oui ou par non.",
            "répondez « stop »",
        ),
    ),
    "opt_in-replies-only": Case(
        _env(Kind.OPT_IN, replies=True, reply_to="answers@example.com"),
        {},
        (
            "Reply to this email with yes or no.",
            'To take a break, reply "pause until" and a date',
        ),
    ),
    "opt_in-neither": Case(
        _env(Kind.OPT_IN, reply_to="answers@example.com"),
        {},
        (
            "To answer, write to answers@example.com.",
            "To pause or leave Coffee <Paris> & friends, write to answers@example.com.",
        ),
    ),
    "match-one": Case(
        _env(Kind.MATCH, group=(DAVID,), icebreaker=ICEBREAKER),
        {
            "david@example.com": "mailto:david@example.com",
            "Write to your group": _mailto(DAVID, ANA, subject=GROUP_SUBJECT),
        },
        ("David", "Something to talk about:", ICEBREAKER),
    ),
    "match-three": Case(
        _env(
            Kind.MATCH,
            group=(BOB, CHLOE, DAVID),
            icebreaker=ICEBREAKER,
            manage_url=MANAGE,
        ),
        {
            "bob@example.com": "mailto:bob@example.com",
            "chloe.lefebvre-dumont@example.com": "mailto:chloe.lefebvre-dumont@example.com",
            "david@example.com": "mailto:david@example.com",
            "Write to your group": _mailto(BOB, CHLOE, DAVID, ANA, subject=GROUP_SUBJECT),
            MANAGE: MANAGE,
        },
        ('"><img src=x>', "Finance", "Chloé Lefebvre-Dumont", "Legal", ICEBREAKER),
    ),
    "match-three-fr": Case(
        _env(Kind.MATCH, language="fr", group=(BOB, CHLOE, DAVID), icebreaker=ICEBREAKER),
        {
            "Écrire à votre groupe": _mailto(
                BOB,
                CHLOE,
                DAVID,
                ANA,
                subject=GROUP_SUBJECT.replace("%3A%20round", "%20%3A%20tour"),
            ),
            "bob@example.com": "mailto:bob@example.com",
            "chloe.lefebvre-dumont@example.com": "mailto:chloe.lefebvre-dumont@example.com",
            "david@example.com": "mailto:david@example.com",
        },
        ("De quoi lancer la conversation :", "Chloé Lefebvre-Dumont", "Bonne rencontre !"),
    ),
    "no_match-next": Case(
        _env(Kind.NO_MATCH, next_round="Wednesday 24 June 2026, 09:00 CEST"),
        {},
        ("left over in round 12", "The next round opens on Wednesday 24 June 2026, 09:00 CEST."),
    ),
    "no_match-none-fr": Case(
        _env(Kind.NO_MATCH, language="fr"),
        {},
        ("Aucun prochain tour n'est encore prévu",),
    ),
    "notice-moved": Case(
        _env(
            Kind.NOTICE,
            match_at="Thursday 11 June 2026, 10:00 CEST",
            join_url=f"{BASE}/answer/j0in",
            skip_url=f"{BASE}/answer/sk1p",
        ),
        {"Join this round": f"{BASE}/answer/j0in", "Skip this round": f"{BASE}/answer/sk1p"},
        (
            "Round 12 of Coffee <Paris> & friends now forms its groups on "
            "Thursday 11 June 2026, 10:00 CEST.",
            "Answers still count until then, and you can change yours:",
        ),
    ),
    "notice-cancelled-fr": Case(
        _env(Kind.NOTICE, language="fr", cancelled=True, answers_open=False, replies=True),
        {},
        (
            "Bonjour <script>alert(1)</script>,",
            "Le tour 12 de Coffee <Paris> & friends est annulé.",
        ),
    ),
    "reminder-links-and-page": Case(
        _env(
            Kind.REMINDER,
            join_url=f"{BASE}/answer/j0in",
            skip_url=f"{BASE}/answer/sk1p",
            manage_url=MANAGE,
            replies=True,
        ),
        {
            "Join this round": f"{BASE}/answer/j0in",
            "Skip this round": f"{BASE}/answer/sk1p",
            MANAGE: MANAGE,
        },
        (
            "The groups of round 12 of Coffee <Paris> & friends are formed on "
            "Wednesday 10 June 2026, 09:00 CEST, and we have not heard from you yet.",
            "Or reply to this email with yes or no.",
        ),
    ),
    "reminder-replies-only-fr": Case(
        _env(
            Kind.REMINDER,
            language="fr",
            match_at="mercredi 10 juin 2026, 09:00 CEST",
            replies=True,
            reply_to="answers@example.com",
        ),
        {},
        (
            "seront formés le mercredi 10 juin 2026, 09:00 CEST",
            "Répondez à cet e-mail par oui ou par non.",
        ),
    ),
    "custom-match": Case(
        _env(Kind.MATCH, group=(BOB, CHLOE), icebreaker=ICEBREAKER, manage_url=MANAGE),
        {
            "bob@example.com": "mailto:bob@example.com",
            "chloe.lefebvre-dumont@example.com": "mailto:chloe.lefebvre-dumont@example.com",
            "Write to your group": _mailto(BOB, CHLOE, ANA, subject=GROUP_SUBJECT),
            MANAGE: MANAGE,
        },
        ("Ciao <script>alert(1)</script> <b>!</b>", "Domanda: " + ICEBREAKER, '"><img src=x>'),
        {
            Kind.MATCH: (
                "Round $round",
                "Ciao $name <b>!</b>\n\n$group\n\n$group_mailto\n\nDomanda: $icebreaker\n",
            )
        },
    ),
}

_PAGE = """
const lum = (color) => {
  const [r, g, b] = color.match(/[\\d.]+/g).slice(0, 3).map((v) => {
    v = Number(v) / 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const background = (el) => {
  for (; el; el = el.parentElement) {
    const c = getComputedStyle(el).backgroundColor;
    if (c !== "rgba(0, 0, 0, 0)" && c !== "transparent") return c;
  }
  return "rgb(255, 255, 255)";
};
const contrast = (el) => {
  const [a, b] = [lum(getComputedStyle(el).color), lum(background(el))];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
};
const texts = [...document.body.querySelectorAll("*")].filter((el) =>
  [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()));
const worst = texts.map((el) => [contrast(el), el.textContent.trim().slice(0, 40)])
  .sort((x, y) => x[0] - y[0])[0];
const column = document.querySelector("table[role=presentation]").getBoundingClientRect();
return {
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  column: column.width,
  lang: document.documentElement.lang,
  text: document.body.innerText,
  links: [...document.querySelectorAll("a")].map((a) => [a.innerText.trim(), a.href,
    a.getAttribute("href")]),
  buttons: [...document.querySelectorAll("a")].filter((a) =>
    getComputedStyle(a).display !== "inline").map((a) => a.getBoundingClientRect().width),
  sources: [...document.querySelectorAll("[src], [srcset], [background], link, img, script")]
    .map((el) => el.outerHTML),
  resources: performance.getEntriesByType("resource").map((r) => r.name),
  worst: worst,
};
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    with chromium() as driver:
        yield driver


def _parts(case: Case) -> tuple[str, str]:
    """The (text, HTML) parts of the message as a mail client reads them off the wire."""
    raw = compose(case.env, templates=case.templates).as_bytes()
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    plain, rich = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and rich is not None
    return str(plain.get_content()).replace("\r\n", "\n"), str(rich.get_content())


def _show(browser: Any, page: str, *, folder: Path, width: int, dark: bool = False) -> None:
    path = folder / "message.html"
    path.write_text(page, encoding="utf-8")
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    scheme = {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [scheme]})
    browser.get(path.as_uri())


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", CASES)
def test_each_message_fits_links_where_it_should_and_fetches_nothing(
    browser: Any, tmp_path: Path, name: str, width: int
) -> None:
    case = CASES[name]
    plain, page = _parts(case)
    _show(browser, page, folder=tmp_path, width=width)
    seen = browser.execute_script(_PAGE)

    assert seen["innerWidth"] == width
    assert seen["scrollWidth"] <= width, "something is wider than the screen"
    assert seen["column"] <= min(600, width)
    assert seen["lang"] == case.env.language
    assert seen["worst"][0] >= 4.5, seen["worst"]
    # Nothing is fetched: no image, script, stylesheet or frame, and only the member's own links.
    assert seen["sources"] == [] and seen["resources"] == []
    assert {raw for _, _, raw in seen["links"]} == set(case.links.values())
    by_label = {label: raw for label, _, raw in seen["links"]}
    for label, href in case.links.items():
        assert by_label.get(label) == href, label
        # The text part writes every link out; a partner's address is the link.
        assert href.removeprefix("mailto:") in plain if label in href else href in plain
    assert all(width_ <= min(600, width) - 32 for width_ in seen["buttons"])
    shown = _flat(seen["text"])
    for fact in case.facts:
        assert _flat(fact) in shown, fact
        assert fact in plain, fact
    assert _flat(case.env.program_title) in shown  # the header


EVERY_KIND = ["opt_in-links", "match-three", "no_match-next", "notice-moved"]
EVERY_KIND += ["notice-cancelled-fr", "reminder-links-and-page"]


@pytest.mark.parametrize("name", EVERY_KIND)
def test_dark_mode_keeps_every_text_readable(browser: Any, tmp_path: Path, name: str) -> None:
    _, page = _parts(CASES[name])
    _show(browser, page, folder=tmp_path, width=375, dark=True)
    seen = browser.execute_script(_PAGE)
    background = browser.execute_script(
        "return getComputedStyle(document.querySelector('.sc-card')).backgroundColor"
    )

    assert background == "rgb(31, 41, 55)"  # the dark card, not white
    assert seen["worst"][0] >= 4.5, seen["worst"]
    assert seen["scrollWidth"] <= 375


def test_user_text_shows_literally_and_never_runs(browser: Any, tmp_path: Path) -> None:
    case = CASES["match-three"]
    plain, page = _parts(case)
    _show(browser, page, folder=tmp_path, width=375)
    seen = browser.execute_script(_PAGE)
    alerts = browser.execute_script("return document.querySelectorAll('script, img').length")

    assert alerts == 0
    for typed in (ANA.name, BOB.name, case.env.program_title):
        assert typed in seen["text"]
        assert typed in plain
    assert "<script>" not in page and "<img" not in page
    assert html.escape(BOB.name) in page


def test_the_text_part_says_what_the_html_does(browser: Any, tmp_path: Path) -> None:
    plain, _ = _parts(CASES["match-three"])

    assert "\nbob@example.com" not in plain  # each partner is one line: name, team, address
    assert '"><img src=x> (Finance) <bob@example.com>\n' in plain
    assert "Chloé Lefebvre-Dumont (Legal) <chloe.lefebvre-dumont@example.com>\n" in plain
    assert "David <david@example.com>\n" in plain
    assert f"Something to talk about:\n{ICEBREAKER}\n" in plain
    assert plain.endswith(
        f"\n-- \nTo pause or leave Coffee <Paris> & friends, open your page: {MANAGE}\n"
    )


@pytest.mark.parametrize("name", EVERY_KIND)
def test_a_phone_screenshot_of_each_kind(browser: Any, tmp_path: Path, name: str) -> None:
    _, page = _parts(CASES[name])
    _show(browser, page, folder=tmp_path, width=375)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 375, "height": height, "deviceScaleFactor": 1, "mobile": True},
    )
    shot = tmp_path / f"{name}-375.png"

    assert browser.get_screenshot_as_file(str(shot))
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    assert re.search(rb"IHDR\x00\x00\x01\x77", data)  # 375 px wide
