"""The answer page in a real browser, at a phone's width: what it shows, each button, the
keyboard, the policy; every answer read back through the CLI."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import Invoke, ok, sql
from tests.web.conftest import NAME, TITLE, Links, fetch, figures, is_png, member

MATCH = "Thu 2099-01-01 09:00 CET"  # the round's zone, Europe/Paris, in winter


def _text(page: Any, css: str) -> str:
    return str(page.find_element(By.CSS_SELECTOR, css).text)


def _button(page: Any, label: str) -> Any:
    [found] = [b for b in page.find_elements(By.TAG_NAME, "button") if b.text.startswith(label)]
    return found


def _press(page: Any, label: str) -> None:
    """Click the button labelled ``label`` and wait for the page it posts to."""
    _after(page, lambda: _button(page, label).click())


def _after(page: Any, action: Callable[[], object]) -> None:
    """Do ``action`` and wait until the browser left the page for the next."""
    old = page.find_element(By.TAG_NAME, "html")
    action()
    WebDriverWait(page, 10).until(staleness_of(old))


def test_the_page_shows_the_round_and_a_get_records_nothing(
    cli: Invoke, page: Any, server: str, links: Links
) -> None:
    page.get(f"{server}/answer/{links.join}")
    assert page.title == f"{TITLE}: round 1"
    assert _text(page, "h1") == TITLE
    assert f"Hi {NAME}," in _text(page, "main")
    assert f"Round 1 is matched on {MATCH}." in _text(page, "main")
    # Typed text stays text: no element came out of the name or the title.
    assert page.find_elements(By.TAG_NAME, "img") == []
    assert page.find_elements(By.TAG_NAME, "script") == []
    assert [b.text for b in page.find_elements(By.TAG_NAME, "button")] == [
        "Join this round",
        "Skip this round",
        "Pause",
        "Leave this program",
    ]
    assert figures(cli) == (0, 0)


def test_skip_records_a_skip_and_the_page_then_marks_it(
    cli: Invoke, page: Any, server: str, links: Links
) -> None:
    page.get(f"{server}/answer/{links.join}")  # the join link: the member changed their mind
    _press(page, "Skip this round")
    assert _text(page, "h1") == "You are skipping", _text(page, "main")
    assert f"You are skipping round 1 of {TITLE}." in _text(page, "main")
    assert figures(cli) == (0, 1)
    _after(page, page.find_element(By.LINK_TEXT, "Back to your answer page").click)
    assert "Your answer so far: you are skipping." in _text(page, "main")
    assert _button(page, "Skip this round").text == "Skip this round (your answer)"
    assert figures(cli) == (0, 1)  # going back is a GET: nothing recorded again


def test_skip_by_keyboard_alone(cli: Invoke, page: Any, server: str, links: Links) -> None:
    page.get(f"{server}/answer/{links.join}")
    ActionChains(page).send_keys(Keys.TAB).perform()
    focused = page.switch_to.active_element
    assert focused.text == "Join this round"
    # Focus shows: the stylesheet's outline, not the browser's faint default.
    assert focused.value_of_css_property("outline-style") == "solid"
    assert focused.value_of_css_property("outline-width") == "3px"
    ActionChains(page).send_keys(Keys.TAB).perform()
    assert page.switch_to.active_element.text == "Skip this round"
    _after(page, ActionChains(page).send_keys(Keys.ENTER).perform)
    assert _text(page, "h1") == "You are skipping"
    assert figures(cli) == (0, 1)


def test_join_records_a_join(cli: Invoke, page: Any, server: str, links: Links) -> None:
    page.get(f"{server}/answer/{links.skip}")  # the skip link: the member changed their mind
    _press(page, "Join this round")
    assert _text(page, "h1") == "You are in"
    assert f"Your match arrives by email at {MATCH}." in _text(page, "main")
    assert figures(cli) == (1, 0)


def test_pause_until_a_date(cli: Invoke, page: Any, server: str, links: Links) -> None:
    ok(cli("respond", "1", "ana@example.com", "yes"))
    page.get(f"{server}/answer/{links.join}")
    until = date.today() + timedelta(days=30)  # the server's clock: the real one
    field = page.find_element(By.CSS_SELECTOR, "label[for=until]")
    assert field.text == "Pause until…"
    box = page.find_element(By.ID, "until")
    box.send_keys(until.strftime("%m%d%Y"))
    _press(page, "Pause")
    shown = f"{until:%A} {until.isoformat()}"
    assert _text(page, "h1") == f"Paused until {shown}"
    assert "Your answer to round 1 is recorded as skip." in _text(page, "main")
    assert figures(cli) == (0, 1)
    [(paused,)] = sql("SELECT paused_until FROM member WHERE id = 1")
    assert str(paused) == until.isoformat()  # SQLite gives the text, PostgreSQL a date
    assert member(cli)["active"] is True
    _after(page, page.find_element(By.LINK_TEXT, "Back to your answer page").click)
    assert f"You are paused: you are invited again from {shown}." in _text(page, "main")


def test_leave_from_the_page(cli: Invoke, page: Any, server: str, links: Links) -> None:
    page.get(f"{server}/answer/{links.join}")
    assert "Leaving takes you out of Coffee <Paris>" in _text(page, "main")
    _press(page, "Leave this program")
    assert _text(page, "h1") == f"You have left {TITLE}"
    assert member(cli)["active"] is False
    assert sql("SELECT left_reason FROM member WHERE id = 1") == [("left from the answer page",)]
    page.get(f"{server}/answer/{links.join}")
    assert "You are no longer a member of Coffee <Paris>" in _text(page, "main")
    assert page.find_elements(By.TAG_NAME, "button") == []


def test_a_closed_round_still_offers_pause_and_leave(
    cli: Invoke, page: Any, server: str, links: Links
) -> None:
    ok(cli("update", "1", "--match", "now"))
    ok(cli("run-due"))
    page.get(f"{server}/answer/{links.join}")
    assert "Answers to round 1 are closed." in _text(page, "main")
    assert [b.text for b in page.find_elements(By.TAG_NAME, "button")] == [
        "Pause",
        "Leave this program",
    ]


def test_the_unsubscribe_page_leaves_with_one_button(
    cli: Invoke, page: Any, server: str, links: Links
) -> None:
    page.get(f"{server}/leave/{links.leave}")
    assert _text(page, "h1") == f"Leave {TITLE}"
    assert member(cli)["active"] is True  # a GET (a mail scanner) leaves nothing
    [button] = page.find_elements(By.TAG_NAME, "button")
    _after(page, button.click)
    assert _text(page, "h1") == f"You have left {TITLE}"
    assert member(cli)["active"] is False


def test_fits_a_phone_and_reads_in_dark_mode(
    page: Any, server: str, links: Links, tmp_path: Path
) -> None:
    page.get(f"{server}/answer/{links.join}")
    width = page.execute_script("return [document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1] <= 375
    heights = {b.text: b.size["height"] for b in page.find_elements(By.TAG_NAME, "button")}
    assert min(heights.values()) >= 44  # a thumb's tap target
    shot = tmp_path / "answer-page.png"
    assert page.save_screenshot(str(shot))
    assert is_png(shot)
    light = page.find_element(By.TAG_NAME, "body").value_of_css_property("background-color")
    page.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    try:
        dark = page.find_element(By.TAG_NAME, "body").value_of_css_property("background-color")
    finally:
        page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    assert (light, dark) == ("rgba(255, 255, 255, 1)", "rgba(19, 19, 22, 1)")


def test_the_policy_holds_and_lets_the_stylesheet_in(page: Any, server: str, links: Links) -> None:
    reply = fetch(f"{server}/answer/{links.join}")
    [style] = re.findall(r"<style>(.*?)</style>", reply.page, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert reply.headers["content-security-policy"] == (
        f"default-src 'none'; style-src 'sha256-{digest}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    page.get(f"{server}/answer/{links.join}")
    # Applied, so allowed: the page's width is the stylesheet's.
    assert page.find_element(By.TAG_NAME, "main").value_of_css_property("max-width") == "576px"
    _press(page, "Skip this round")
    page.get(f"{server}/answer/nope")
    assert [
        e["message"] for e in page.get_log("browser") if "Content Security" in e["message"]
    ] == []
