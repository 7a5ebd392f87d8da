"""What a request to the answer pages carries: the site it comes from, and its form.

Kept apart from the HTTP handler in ``web``: plain functions of headers and bytes.
"""

from __future__ import annotations

import re
from datetime import date
from email import policy as email_policy
from email.message import Message
from email.parser import BytesParser
from urllib.parse import parse_qs

_MAX_FIELDS = 8
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def is_cross_site(headers: Message) -> bool:
    """True when the browser says the POST comes from another site than this page's own.

    Sec-Fetch-Site ``same-site`` counts too: answers are only sent from our own page. Without
    either header (curl, old clients) the POST is taken: it is no browser acting for a site.
    """
    site = headers.get("Sec-Fetch-Site", "").strip().lower()
    if site not in ("", "same-origin", "none"):
        return True
    origins = headers.get_all("Origin") or []
    if not origins:
        return False
    host = _without_default_port(headers.get("Host", "").strip().lower())
    return len(origins) > 1 or not host or _origin_authority(origins[0]) != host


def _origin_authority(origin: str) -> str:
    """``host[:port]`` of an Origin header; empty for ``null`` or anything malformed.

    The scheme is left out: behind a TLS proxy the browser's https is plain http here.
    """
    _, sep, authority = origin.strip().lower().partition("://")
    if not sep or not authority or "/" in authority:
        return ""
    return _without_default_port(authority)


def _without_default_port(authority: str) -> str:
    for port in (":80", ":443"):
        authority = authority.removesuffix(port)
    return authority


def parse_form(body: bytes, *, content_type: str) -> dict[str, list[str]]:
    """The fields of a urlencoded or a multipart/form-data body (RFC 8058 allows either for a
    one-click unsubscribe); none for anything else."""
    if content_type.partition(";")[0].strip().lower() == "multipart/form-data":
        return _multipart_fields(body, content_type=content_type)
    try:
        return parse_qs(body.decode("ascii"), keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return {}


def _multipart_fields(body: bytes, *, content_type: str) -> dict[str, list[str]]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    parsed = BytesParser(policy=email_policy.HTTP).parsebytes(head + body)
    fields: dict[str, list[str]] = {}
    if not parsed.is_multipart():
        return fields
    for part in [p for p in parsed.walk() if p is not parsed][:_MAX_FIELDS]:
        name = part.get_param("name", header="content-disposition")
        value = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(value, bytes):
            fields.setdefault(name, []).append(value.decode("utf-8", "replace"))
    return fields


def field(form: dict[str, list[str]], name: str) -> str | None:
    """A field's value; None when absent, empty when given more than once."""
    values = form.get(name)
    if values is None:
        return None
    return values[0] if len(values) == 1 else ""


def form_date(text: str | None) -> date | None:
    """A ``YYYY-MM-DD`` date, as a date input posts it; None for anything else."""
    if text is None or not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
