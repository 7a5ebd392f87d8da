"""program template NAME KIND --preview / --test-send: the message before it goes out."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

    from sessionctl.delivery.compose import Kind


def show_or_send(
    ctx: typer.Context,
    name: str,
    kind: Kind,
    *,
    member: str | None,
    round_id: int | None,
    test_send: str | None,
) -> None:
    """Print the message as the member gets it, or send it once, as a test, to ``test_send``."""
    import os

    from sessionctl import clock
    from sessionctl.cli.state import state
    from sessionctl.delivery.compose import envelope_recipients
    from sessionctl.delivery.transports import open_transport, parse_transport
    from sessionctl.errors import DeliveryError
    from sessionctl.render import console
    from sessionctl.render.preview import message_text
    from sessionctl.services.preview import preview, test_message

    db = state(ctx).database()
    found = preview(db, name, kind, member=member, round_id=round_id, clock=clock.now)
    for note in found.notes:
        console.note(note)
    if test_send is None:
        for line in message_text(found.message).splitlines():
            console.line(console.plain(line))
        return
    msg = test_message(found, to=test_send)
    settings = state(ctx).settings()
    spec = parse_transport(settings.transport, default_maildir=settings.data_dir / "outbox")
    password = os.environ.get("SESSIONCTL_SMTP_PASSWORD")
    with open_transport(spec, password=password) as transport:
        result = transport.send(msg, to=envelope_recipients(msg))
    if not result.ok:
        raise DeliveryError(f"test message to {test_send} not sent: {result.reply}")
    console.line(console.plain(f"Test message sent to {test_send} through {spec.describe()}."))
