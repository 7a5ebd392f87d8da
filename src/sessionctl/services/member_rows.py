"""Member rows as typed or imported: one validation for every path, and the member CSV.

A CSV names its columns in a header row. ``email`` is required; ``name`` and ``team`` are read
when present; any other column is ignored and reported. Commas, semicolons or tabs separate the
fields, as the header row shows. Every row has as many fields as the header, neither fewer nor
more: a short or long row is more likely a misplaced separator than data to guess at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sessionctl.domain import validation
from sessionctl.domain.csvtext import detect_separator, header_name, numbered_rows
from sessionctl.errors import InputError

KNOWN_COLUMNS = ("email", "name", "team")


@dataclass(frozen=True)
class MemberRow:
    """One member to write, from ``member add``, ``member set`` or one CSV line.

    ``name`` and ``team`` are None when not given (a stored value stays); an empty team clears it.
    """

    email: str
    name: str | None = None
    team: str | None = None
    line: int = 0


@dataclass(frozen=True)
class MemberCsv:
    rows: list[MemberRow]
    ignored: list[str] = field(default_factory=list)  # other columns, as the header names them


def validated(row: MemberRow) -> MemberRow:
    """The one check of a member's fields, for every path that writes them."""
    email = validation.email(row.email)
    name = None if row.name is None else validation.single_line(row.name.strip(), what="name")
    team = None if row.team is None else validation.single_line(row.team.strip(), what="team")
    return MemberRow(email, name, team, row.line)


def parse_csv(text: str) -> MemberCsv:
    """Validate a whole member CSV; raise on the first bad line, naming it."""
    text = text.removeprefix("\ufeff")
    separator = detect_separator(text, required="email")
    lines = numbered_rows(text, separator=separator)
    header = next(lines, (1, []))[1]
    if not header:
        raise InputError("line 1: the file is empty: expected a header row such as email,name,team")
    columns = _columns(header)
    shape = _shape(header, separator)
    seen: dict[str, int] = {}
    rows = []
    for line, fields in lines:
        if len(fields) != len(header):
            raise InputError(f"line {line}: expected {shape}, got {len(fields)}")
        rows.append(_row(fields, line=line, columns=columns, seen=seen))
    known = set(columns.values())
    ignored = [h.strip() or f"column {i}" for i, h in enumerate(header, start=1) if i not in known]
    return MemberCsv(rows, list(dict.fromkeys(ignored)))


def _columns(header: list[str]) -> dict[str, int]:
    """Where each known column is (1-based); refuses a header without email or with a twice."""
    found: dict[str, int] = {}
    for index, cell in enumerate(header, start=1):
        name = header_name(cell)
        if name not in KNOWN_COLUMNS:
            continue
        if name in found:
            raise InputError(
                f"line 1: the header has two {name} columns (columns {found[name]} and {index})"
            )
        found[name] = index
    if "email" not in found:
        raise InputError(_no_email(header))
    return found


def _no_email(header: list[str]) -> str:
    listed = ", ".join(repr(h.strip()) if len(header) == 1 else h.strip() for h in header)
    if any(_looks_like_an_address(h) for h in header):
        return (
            f"line 1: the first line must be a header row naming the columns, e.g. "
            f"email,name,team (found: {listed})"
        )
    if len(header) == 1:
        # One column only: the fields are likely separated by a character we do not read.
        return (
            f"line 1: the header has no email column (found {listed}): "
            "separate the columns with commas, semicolons or tabs, e.g. email,name,team"
        )
    return (
        f"line 1: the header has no email column (found: {listed}): "
        "name the column of addresses 'email'"
    )


def _looks_like_an_address(cell: str) -> bool:
    try:
        validation.email(cell)
    except InputError:
        return False
    return True


def _shape(header: list[str], separator: str) -> str:
    """How a row must look, for errors: '3 fields (email,name,team)'."""
    names = [h.strip() for h in header]
    fields = "field" if len(header) == 1 else "fields"
    if separator == "\t":
        return f"{len(header)} tab-separated {fields} ({', '.join(names)})"
    return f"{len(header)} {fields} ({separator.join(names)})"


def _row(
    fields: list[str], *, line: int, columns: dict[str, int], seen: dict[str, int]
) -> MemberRow:
    def cell(name: str) -> str | None:
        return fields[columns[name] - 1] if name in columns else None

    try:
        row = validated(MemberRow(cell("email") or "", cell("name"), cell("team"), line))
    except InputError as err:
        raise InputError(f"line {line}: {err}") from None
    key = validation.email_key(row.email)
    if key in seen:
        raise InputError(f"line {line}: {row.email} already appears on line {seen[key]}")
    seen[key] = line
    return row
