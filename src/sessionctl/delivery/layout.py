"""One look for every email: a body template laid out as text and as a small HTML document.

A body is split into paragraphs at blank lines. A paragraph whose last line is one placeholder
alone (``$links``, ``$group``, ``$group_mailto``, ``$icebreaker``…) is a *block*: in the HTML it
is drawn as buttons, a list of partners or a note set apart, its other lines as the lead; a
block with nothing to show (no conversation starter, no page link) leaves its whole paragraph
out, in both parts. Every other paragraph is text. So the default templates and an admin's own
get the same look, and the text part always says what the HTML does.

The HTML is written for mail clients, not browsers: styles inline on each element, a table
column of at most 600 px (and a fixed-width table for Outlook, which ignores max-width), one
``<style>`` only for dark mode and small screens, no image, font or stylesheet to fetch. Every
value arrives escaped from ``compose``; the template itself is escaped here before it is filled.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from string import Template
from urllib.parse import quote

BLOCKS = frozenset(
    {"links", "group", "group_mailto", "icebreaker", "how_to_leave", "manage_url"}
    | {"join_url", "skip_url"}
)
"""Placeholders drawn as a designed block when alone on the last line of a paragraph."""

_BREAK = re.compile(r"(\n[ \t]*\n\s*)")  # a paragraph break, kept to rebuild the text as written
_LONE = re.compile(r"\$(?:([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*)\})", re.IGNORECASE)

_FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
_TEXT = "#1f2937"  # on white: 14.7:1
_MUTED = "#4b5563"  # on white 7.6:1, on the page's grey 6.9:1
_ACCENT = "#1d4ed8"  # white on it, and it on white: 6.7:1
_P = f"margin:0 0 16px;{_FONT}font-size:16px;line-height:1.5;color:{_TEXT};"
_BUTTON = (
    f"display:inline-block;margin:0 8px 8px 0;padding:12px 20px;border-radius:6px;{_FONT}"
    "font-size:16px;font-weight:600;line-height:1.25;text-decoration:none;"
)
_PRIMARY = f"{_BUTTON}background:{_ACCENT};color:#ffffff;border:2px solid {_ACCENT};"
_SECONDARY = f"{_BUTTON}background:#ffffff;color:{_ACCENT};border:2px solid {_ACCENT};"
_LINK = f"color:{_ACCENT};text-decoration:underline;"
# Inline styles win over a stylesheet, so the dark and narrow rules need !important.
_STYLE = """\
@media (prefers-color-scheme: dark) {
  body, .sc-page, .sc-foot { background: #111827 !important; }
  .sc-card { background: #1f2937 !important; }
  .sc-card p, .sc-card li, .sc-card strong { color: #f3f4f6 !important; }
  .sc-head { background: #1e3a8a !important; color: #ffffff !important; }
  .sc-muted, .sc-foot, .sc-foot p { color: #d1d5db !important; }
  .sc-card a, .sc-foot a { color: #93c5fd !important; }
  .sc-card a.sc-primary { background: #2563eb !important; border-color: #2563eb !important;
    color: #ffffff !important; }
  .sc-card a.sc-secondary { background: #1f2937 !important; border-color: #93c5fd !important; }
  .sc-note { background: #422006 !important; border-color: #f59e0b !important; }
  .sc-card .sc-note p { color: #fef3c7 !important; }
}
@media (max-width: 480px) {
  .sc-page { padding: 0 !important; }
  .sc-card { padding: 20px 16px !important; }
  .sc-head, .sc-foot { padding-left: 16px !important; padding-right: 16px !important; }
  a.sc-primary, a.sc-secondary { display: block !important; margin-right: 0 !important;
    text-align: center !important; }
}
"""


def text_body(template: str, values: Mapping[str, str]) -> str:
    """The text part: ``template`` filled with ``values``, its paragraphs and breaks as written,
    leaving out each paragraph whose block placeholder is empty."""
    kept: list[str] = []
    for separator, paragraph in _paragraphs(template):
        block = _block_of(paragraph)
        if block is not None and not values[block]:
            continue
        kept.extend((separator if kept else "", Template(paragraph).substitute(values)))
    return "".join(kept)


def html_content(template: str, inline: Mapping[str, str], blocks: Mapping[str, str]) -> str:
    """The HTML content area: each paragraph as ``<p>`` filled with ``inline`` values, each block
    as its ``blocks`` HTML after its lead (left out when that HTML is empty)."""
    parts: list[str] = []
    for _, paragraph in _paragraphs(template):
        paragraph = paragraph.strip("\n")
        block = _block_of(paragraph)
        if block is None:
            parts.append(_paragraph(paragraph, inline))
        elif blocks[block]:
            lead = paragraph.rpartition("\n")[0] if "\n" in paragraph else ""
            lead_html = _paragraph(lead, inline) if lead.strip() else ""
            parts.append(_WRAPPERS.get(block, _after_lead)(lead_html, blocks[block]))
    return "\n".join(parts)


def document(*, language: str, title: str, subject: str, content: str, footer: str) -> str:
    """The whole HTML document; ``title`` and ``subject`` are escaped here, ``content`` is HTML
    from ``html_content`` and ``footer`` escaped HTML whose line breaks become ``<br>``."""
    footer_html = footer and (
        f'<p style="margin:0;{_FOOT_TEXT}">' + footer.replace("\n", "<br>\n") + "</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="{html.escape(language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="supported-color-schemes" content="light dark">
<title>{html.escape(subject)}</title>
<style>
{_STYLE}</style>
</head>
<body style="margin:0;padding:0;background:#f3f4f6;">
<div class="sc-page" style="margin:0;padding:24px 12px;background:#f3f4f6;">
<!--[if mso]><table role="presentation" width="600" align="center" cellpadding="0" \
cellspacing="0" border="0"><tr><td><![endif]-->
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" \
style="width:100%;max-width:600px;margin:0 auto;border-collapse:collapse;table-layout:fixed;">
<tr><td class="sc-head" style="padding:16px 24px;background:{_ACCENT};color:#ffffff;{_FONT}\
font-size:20px;font-weight:700;line-height:1.3;overflow-wrap:anywhere;word-break:break-word;">\
{html.escape(title)}</td></tr>
<tr><td class="sc-card" style="padding:24px;background:#ffffff;color:{_TEXT};\
overflow-wrap:anywhere;word-break:break-word;">
{content}
</td></tr>
<tr><td class="sc-foot" style="padding:16px 24px;background:#f3f4f6;\
overflow-wrap:anywhere;word-break:break-word;">
{footer_html}
</td></tr>
</table>
<!--[if mso]></td></tr></table><![endif]-->
</div>
</body>
</html>
"""


def link(url: str, *, label: str | None = None) -> str:
    """``url`` as a link when it is a web or mail address, else as escaped text: never a
    ``javascript:`` or ``data:`` link."""
    if not url:
        return ""
    shown = html.escape(label if label is not None else url)
    if not url.lower().startswith(("https://", "http://", "mailto:")):
        return html.escape(url)
    return f'<a href="{html.escape(url)}" style="{_LINK}">{shown}</a>'


def button(url: str, label: str, *, primary: bool = True) -> str:
    """A link drawn as a button; a URL that may not be a link is written out instead."""
    if not url.lower().startswith(("https://", "http://", "mailto:")):
        return f"<span>{html.escape(label)}: {html.escape(url)}</span><br>" if url else ""
    kind, style = ("sc-primary", _PRIMARY) if primary else ("sc-secondary", _SECONDARY)
    return f'<a href="{html.escape(url)}" class="{kind}" style="{style}">{html.escape(label)}</a>'


def buttons(items: Sequence[str], *, lines: Sequence[str] = ()) -> str:
    """Buttons (from ``button``) side by side, then ``lines`` of text under them."""
    row = f'<p style="margin:0 0 8px;">{"".join(items)}</p>' if any(items) else ""
    text = "\n".join(lines).replace("$", "$$")
    return row + (_paragraph(text, {}) if text else "")


def partners(people: Sequence[tuple[str, str, str]]) -> str:
    """(name, team, email) of each partner as a list: the name, the team, the address as a
    mailto link."""
    items = []
    for name, team, email in people:
        who = f'<strong style="color:{_TEXT};">{html.escape(name)}</strong>' if name else ""
        if team:
            who += f' <span class="sc-muted" style="color:{_MUTED};">· {html.escape(team)}</span>'
        address = link(f"mailto:{quote(email, safe='@')}", label=email)
        items.append(
            f'<li style="margin:0;padding:10px 0;border-top:1px solid #e5e7eb;{_FONT}'
            f'font-size:16px;line-height:1.5;color:{_TEXT};">{who}{"<br>" if who else ""}'
            f"{address}</li>"
        )
    return f'<ul style="margin:0 0 16px;padding:0;list-style:none;">{"".join(items)}</ul>'


_FOOT_TEXT = f"{_FONT}font-size:13px;line-height:1.5;color:{_MUTED};"


def _paragraphs(template: str) -> list[tuple[str, str]]:
    """(the break before it, the paragraph) for each paragraph of ``template``."""
    pieces = _BREAK.split(template)
    return list(zip(["", *pieces[1::2]], pieces[::2], strict=True))


def _block_of(paragraph: str) -> str | None:
    lines = [line for line in paragraph.split("\n") if line.strip()]
    found = _LONE.fullmatch(lines[-1].strip()) if lines else None
    if found is None:
        return None
    name = found[1] or found[2]
    return name if name in BLOCKS else None


def _paragraph(text: str, values: Mapping[str, str], *, style: str = _P) -> str:
    filled = Template(html.escape(text)).substitute(values)
    return f'<p style="{style}">' + filled.replace("\n", "<br>\n") + "</p>"


def _after_lead(lead: str, block: str) -> str:
    return lead + block


def _note(lead: str, block: str) -> str:
    """The conversation starter set apart: a tinted box holding its lead and the question."""
    title = lead.replace(f'style="{_P}"', f'style="{_P}margin:0 0 4px;font-weight:600;"')
    question = f'<p style="{_P}margin:0;font-style:italic;">{block}</p>'
    return (
        '<div class="sc-note" style="margin:0 0 16px;padding:12px 16px;background:#fef3c7;'
        f'border-left:4px solid #b45309;border-radius:4px;">{title}{question}</div>'
    )


def _small(lead: str, block: str) -> str:
    return lead + f'<p class="sc-muted" style="margin:0 0 16px;{_FOOT_TEXT}">{block}</p>'


_WRAPPERS: Mapping[str, Callable[[str, str], str]] = {"icebreaker": _note, "how_to_leave": _small}
