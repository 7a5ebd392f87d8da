"""A composed message as text for the terminal: its headers as a reader sees them, then its
text part. Everything in it is user text: shown literally."""

from __future__ import annotations

from email.message import EmailMessage

# The headers a member's mail client shows or acts on, in this order.
SHOWN = ("From", "To", "Reply-To", "Subject", "Date", "List-Unsubscribe", "Message-ID")


def message_text(msg: EmailMessage) -> str:
    lines = [f"{name}: {' '.join(str(msg[name]).split())}" for name in SHOWN if msg[name]]
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    return "\n".join(lines) + "\n\n" + text.rstrip("\n") + "\n"
