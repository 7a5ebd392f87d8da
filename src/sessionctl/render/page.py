"""The member's answer page and the pages after it, as HTML strings.

One small stylesheet inline (the policy allows exactly it, by its hash) and nothing loaded from
elsewhere: no script, image or font. Every form posts to the page's own address, so the pages
work behind a proxy that serves them under any path. Whatever a member or admin typed (names,
titles, emails) goes through ``_e``, so a name like ``<script>`` shows as it is written.
"""

from __future__ import annotations

import base64
import hashlib
import html
from datetime import date, timedelta

from sessionctl.domain.times import WEEKDAYS
from sessionctl.services.answer_page import Outcome, PageFacts

STYLE = """\
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1b1f;--muted:#4a4a52;--card:#f1f1f4;\
--accent:#0b57d0;--on-accent:#fff;--danger:#b3261e;--focus:#e8710a;--line:#767680}
@media (prefers-color-scheme:dark){:root{--bg:#131316;--fg:#ececf0;--muted:#c0c0c8;\
--card:#23232a;--accent:#a8c7fa;--on-accent:#062e6f;--danger:#ffb4ab;--focus:#fdd663;\
--line:#8e8e96}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);overflow-wrap:anywhere;\
font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:36rem;margin:0 auto;padding:1.5rem 1rem 3rem}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}
h2{font-size:1.125rem;margin:2rem 0 .5rem}
p{margin:.5rem 0}
a{color:var(--accent)}
.note{background:var(--card);border-radius:.5rem;padding:.75rem 1rem}
.muted{color:var(--muted)}
.choices{display:grid;gap:.75rem;margin:1rem 0}
button,input{font:inherit;color:inherit}
button{display:block;width:100%;min-height:3rem;padding:.75rem 1rem;font-weight:600;\
border:2px solid var(--accent);border-radius:.5rem;background:transparent;cursor:pointer}
button.primary{background:var(--accent);color:var(--on-accent)}
button.danger{border-color:var(--danger);color:var(--danger)}
label{display:block;font-weight:600;margin:.5rem 0 .25rem}
input{display:block;width:100%;min-height:3rem;padding:.5rem .75rem;margin-bottom:.75rem;\
border:2px solid var(--line);border-radius:.5rem;background:var(--bg)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
"""
# The policy names the stylesheet by its hash: 'unsafe-inline' would let injected styles in.
STYLE_SOURCE = "'sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode() + "'"


def document(title: str, body: str) -> bytes:
    """A whole page: ``title`` is plain text, ``body`` HTML built here."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    ).encode()


def notice(title: str, message: str) -> bytes:
    """A page that says one thing: a refusal, an error, the server's state."""
    return document(title, f"<h1>{_e(title)}</h1><p>{_e(message)}</p>")


def answer_page(facts: PageFacts) -> bytes:
    """The page a join or skip link opens: answer, pause or leave. Answers once closed, the
    page says so and still offers pause and leave."""
    title = f"{facts.program_title}: round {facts.round_number}"
    parts = [f"<h1>{_e(facts.program_title)}</h1>", f"<p>Hi {_e(facts.name)},</p>"]
    if not facts.active:
        parts.append(f'<p class="note">{_e(_gone(facts.program_title))}</p>')
        return document(title, "".join(parts))
    parts.append(_round_part(facts))
    if facts.paused_until is not None and facts.paused_until > facts.today:
        back = _day(facts.paused_until)
        parts.append(f'<p class="note">You are paused: you are invited again from {back}.</p>')
    parts += [_pause_form(facts), _leave_form(facts.program_title)]
    return document(title, "".join(parts))


def leave_page(facts: PageFacts) -> bytes:
    """The page an unsubscribe link opens: one button that leaves, as mail providers do."""
    title = f"Leave {facts.program_title}"
    parts = [f"<h1>{_e(title)}</h1>", f"<p>Hi {_e(facts.name)},</p>"]
    if not facts.active:
        parts.append(f'<p class="note">{_e(_gone(facts.program_title))}</p>')
        return document(title, "".join(parts))
    parts += [
        f"<p>Leaving takes {_e(facts.email)} out of {_e(facts.program_title)}: no more "
        "invitations or matches from it. Your past rounds stay as they were.</p>",
        '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit" class="danger">Leave this program</button></form>',
    ]
    return document(title, "".join(parts))


def result_page(outcome: Outcome, *, back: bool = True) -> bytes:
    """What a POST recorded and what happens next; ``back`` links to the answer page again."""
    title, lines = _result_text(outcome)
    parts = [f"<h1>{_e(title)}</h1>", *(f"<p>{_e(line)}</p>" for line in lines)]
    if back:
        # The empty address is this very page's: a GET of it shows the answer page again.
        parts.append('<p><a href="">Back to your answer page</a></p>')
    return document(title, "".join(parts))


def _round_part(facts: PageFacts) -> str:
    when = f"<strong>{_e(facts.match_at)}</strong>"
    number = facts.round_number
    if not facts.taking_answers:
        return (
            f'<p class="note">Answers to round {number} are closed. You can still pause '
            "or leave below.</p>"
        )
    intro = f"<p>Round {number} is matched on {when}. Do you want to join?</p>"
    if facts.suggested is None:  # a leave link: it may not answer
        return intro + (
            f'<p class="note">To answer, use the links in your invitation to round {number}.</p>'
        )
    so_far = ""
    if facts.current is not None:
        said = "you are in" if facts.current else "you are skipping"
        so_far = f'<p class="note">Your answer so far: {said}. You can change it until then.</p>'
    return intro + so_far + _choices(facts)


def _choices(facts: PageFacts) -> str:
    """The two answers; the one the link carries is the filled button, the recorded one says
    so in its label, which screen readers read too."""
    buttons = []
    for value, label, answer in (("join", "Join", True), ("skip", "Skip", False)):
        css = ' class="primary"' if facts.suggested is answer else ""
        mark = " (your answer)" if facts.current is answer else ""
        buttons.append(
            f'<button type="submit" name="choice" value="{value}"{css}>'
            f"{label} this round{mark}</button>"
        )
    return f'<form method="post" class="choices">{"".join(buttons)}</form>'


def _pause_form(facts: PageFacts) -> str:
    first = facts.today + timedelta(days=1)
    return (
        "<h2>Pause</h2>"
        '<form method="post"><input type="hidden" name="choice" value="pause">'
        '<label for="until">Pause until…</label>'
        '<p id="until-help" class="muted">No invitations before that day; you are back by '
        "yourself on it.</p>"
        f'<input type="date" id="until" name="until" required min="{first}" '
        f'max="{facts.last_pause_day}" aria-describedby="until-help">'
        '<button type="submit">Pause</button></form>'
    )


def _leave_form(program_title: str) -> str:
    return (
        "<h2>Leave</h2>"
        f'<form method="post"><p id="leave-help">Leaving takes you out of {_e(program_title)}: '
        "no more invitations or matches. Your past rounds stay as they were.</p>"
        '<input type="hidden" name="choice" value="leave">'
        '<button type="submit" class="danger" aria-describedby="leave-help">'
        "Leave this program</button></form>"
    )


def _result_text(o: Outcome) -> tuple[str, list[str]]:
    where = f"round {o.round_number} of {o.program_title}"
    if o.kind == "join":
        return "You are in", [
            f"You are in for {where}.",
            f"Your match arrives by email at {o.match_at}. Changed your mind? "
            "You can answer again until then.",
        ]
    if o.kind == "skip":
        return "You are skipping", [
            f"You are skipping {where}.",
            "You will be invited to the next round as usual. Changed your mind? "
            f"You can answer again until {o.match_at}.",
        ]
    if o.kind == "pause":
        assert o.until is not None
        back = _day(o.until)
        lines = [f"You get no invitations from {o.program_title} before {back}."]
        if o.skipped_round:
            lines.append(f"Your answer to round {o.round_number} is recorded as skip.")
        lines.append(f"You are back by yourself on {back}.")
        return f"Paused until {back}", lines
    if o.already:
        return "You had left already", [_gone(o.program_title)]
    return f"You have left {o.program_title}", [
        "You will get no more invitations or matches from it. Your past rounds stay as they were.",
        "Changed your mind? Ask its organisers to add you back.",
    ]


def _gone(program_title: str) -> str:
    return f"You are no longer a member of {program_title}: you get no more emails from it."


def _day(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day.isoformat()}"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
