"""`planning` and `list` for a fixed world, compared with reviewed snapshots in snapshots/.

Run with SNAPSHOT_UPDATE=1 to rewrite the files, then read them before committing.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from tests.conftest import Invoke

SNAPSHOTS = Path(__file__).parent / "snapshots"
BUILT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # Monday 1 June, when the rounds were scheduled
VIEWED = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)  # Wednesday 10 June, when they are looked at
WORLD = [
    ["program", "add", "coffee-paris", "--tz", "Europe/Paris"],
    ["program", "add", "lunch-nyc", "--tz", "America/New_York", "--no-opt-in"],
    # rounds 1-5: Monday 14:00 to Thursday 10:00 in Paris
    ["schedule", "coffee-paris", "--opt-in", "2026-06-01 14:00", "--match", "2026-06-04 10:00",
     "--repeat", "weekly", "--count", "5"],
    # rounds 6-11: Wednesday noon in New York, no opt-in
    ["schedule", "lunch-nyc", "--match", "2026-06-03 12:00", "--repeat", "weekly", "--count", "6"],
    # round 12 crosses a week; 13 is a one-off lunch; 14 is cancelled
    ["schedule", "coffee-paris", "--opt-in", "2026-06-12 09:00", "--match", "2026-06-16 17:30"],
    ["schedule", "lunch-nyc", "--match", "2026-06-19 12:30"],
    ["schedule", "coffee-paris", "--opt-in", "2026-06-20 10:00", "--match", "2026-06-24 10:00"],
    ["cancel", "14"],
]  # fmt: skip
VIEWS = {
    "planning-all": ["planning", "--from", "2026-06-01", "--weeks", "5"],
    "planning-coffee-paris": ["planning", "coffee-paris", "--from", "2026-06-01", "--weeks", "5"],
    "list-all": ["list"],
    "list-coffee-paris": ["list", "coffee-paris"],
}


@pytest.fixture(autouse=True)
def fresh_console() -> Iterator[None]:
    """The console is cached per process and reads COLUMNS when first made."""
    yield


@pytest.fixture
def world(cli: Invoke) -> None:
    with time_machine.travel(BUILT, tick=False):
        for args in WORLD:
            result = cli(*args)
            assert result.code == 0, result.stderr


@pytest.mark.parametrize("columns", [80, 160])
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_view_matches_its_snapshot(
    cli: Invoke, world: None, monkeypatch: pytest.MonkeyPatch, view: str, columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    with time_machine.travel(VIEWED, tick=False):
        result = cli(*VIEWS[view])
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    # Every round got a random colour; off a terminal none of it may show.
    assert "\x1b" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= columns
    _compare(SNAPSHOTS / f"{view}-{columns}.txt", result.stdout)


def _compare(path: Path, actual: str) -> None:
    if os.environ.get("SNAPSHOT_UPDATE"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path.name}: run with SNAPSHOT_UPDATE=1 and review it"
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"snapshots/{path.name}",
            tofile="actual",
        )
        pytest.fail("output differs from its snapshot:\n" + "".join(diff), pytrace=False)
