"""Message templates per program: the defaults, replaced kind by kind."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sessionctl.delivery.compose import Kind, default_templates, validate_template
from sessionctl.errors import InputError
from sessionctl.services.programs import get_program
from sessionctl.store.engine import Database

KINDS = "opt_in, match, no_match, notice or reminder"


@dataclass(frozen=True)
class TemplateInfo:
    kind: str
    subject: str
    body: str
    custom: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "body": self.body,
            "custom": self.custom,
        }


def parse_kind(text: str) -> Kind:
    try:
        return Kind(text)
    except ValueError:
        raise InputError(f"invalid message kind {text!r}: use {KINDS}") from None


def custom_templates(stored: str | None) -> dict[Kind, tuple[str, str]]:
    """The program's replacements, as ``compose`` takes them."""
    if not stored:
        return {}
    raw = json.loads(stored)
    return {Kind(kind): (pair[0], pair[1]) for kind, pair in raw.items()}


def show_templates(db: Database, program: str) -> list[TemplateInfo]:
    with db.session() as s:
        prog = get_program(s, program)
        custom, defaults = custom_templates(prog.templates), default_templates(prog.language)
    return [_info(kind, custom, defaults) for kind in Kind]


def set_template(
    db: Database, program: str, kind: Kind, *, subject: str | None, body: str | None
) -> TemplateInfo:
    """Replace a kind's subject and/or body (the other part stays); validated before it is kept."""
    with db.session(write=True) as s:
        prog = get_program(s, program)
        custom, defaults = custom_templates(prog.templates), default_templates(prog.language)
        current = custom.get(kind, defaults[kind])
        pair = (
            subject if subject is not None else current[0],
            body if body is not None else current[1],
        )
        validate_template(*pair)
        custom[kind] = pair
        prog.templates = _dump(custom)
        s.add(prog)
        return _info(kind, custom, defaults)


def reset_template(db: Database, program: str, kind: Kind) -> TemplateInfo:
    with db.session(write=True) as s:
        prog = get_program(s, program)
        custom = custom_templates(prog.templates)
        custom.pop(kind, None)
        prog.templates = _dump(custom) if custom else None
        s.add(prog)
        return _info(kind, custom, default_templates(prog.language))


def _info(
    kind: Kind,
    custom: Mapping[Kind, tuple[str, str]],
    defaults: Mapping[Kind, tuple[str, str]],
) -> TemplateInfo:
    """``kind``'s template: the program's own, else the default in the program's language."""
    subject, body = custom.get(kind, defaults[kind])
    return TemplateInfo(str(kind), subject, body, kind in custom)


def _dump(custom: Mapping[Kind, tuple[str, str]]) -> str:
    return json.dumps({str(kind): list(pair) for kind, pair in sorted(custom.items())})
