"""Groups through the CLI: no repeats over many rounds, previews, and who met before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import combinations

import time_machine

from tests.conftest import Invoke

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _members(cli: Invoke, program: str, count: int, *, teams: int = 0) -> None:
    lines = ["email,name,team"]
    for i in range(count):
        team = f"t{i % teams}" if teams else ""
        lines.append(f"m{i:02d}@example.com,Member {i:02d},{team}")
    result = cli("member", "import", program, "-", input="\n".join(lines) + "\n")
    assert result.code == 0, result.stderr


def test_forty_members_twelve_weekly_rounds_twenty_pairs_and_no_pair_twice(cli: Invoke) -> None:
    with time_machine.travel(START, tick=False):
        assert cli("program", "add", "coffee", "--tz", "UTC", "--no-opt-in").code == 0
        _members(cli, "coffee", 40, teams=4)
        scheduled = cli("schedule", "coffee", "--match", "2026-11-26 09:00", "--repeat", "weekly",
                        "--count", "12", "--json")  # fmt: skip
        assert scheduled.code == 0, scheduled.stderr
        rounds = [r["id"] for r in scheduled.json()]
    seen: set[frozenset[str]] = set()
    for week, round_id in enumerate(rounds):
        with time_machine.travel(START + timedelta(days=1 + 7 * week), tick=False):
            ran = cli("run-due", "--json")
            assert ran.code == 0, ran.stderr
            assert ran.json()["matched"] == [round_id]
            groups = cli("groups", str(round_id), "--json").json()
        assert groups["round"] == round_id
        assert groups["no_match"] == []
        assert len(groups["groups"]) == 20
        assert all(len(g) == 2 for g in groups["groups"])
        pairs = {frozenset(g) for g in groups["groups"]}
        assert len({m for g in groups["groups"] for m in g}) == 40
        assert not pairs & seen, f"round {round_id} repeats {pairs & seen}"
        seen |= pairs
    shown = cli("show", str(rounds[-1]))
    assert "repeated pairs  0" in shown.stdout


def test_preview_changes_nothing_and_equals_the_groups_formed_later(cli: Invoke) -> None:
    with time_machine.travel(START, tick=False):
        assert cli("program", "add", "lunch", "--tz", "UTC", "--group-size", "3").code == 0
        _members(cli, "lunch", 8)
        assert cli("schedule", "lunch", "--opt-in", "now", "--match", "2026-11-27 09:00").code == 0
        assert cli("run-due").code == 0
        for i in range(7):
            assert cli("respond", "1", f"m{i:02d}@example.com", "yes").code == 0
        before = cli("messages", "--json").json()
        preview = cli("groups", "1", "--preview", "--json")
        assert preview.code == 0, preview.stderr
        assert sorted(len(g) for g in preview.json()["groups"]) == [3, 4]
        assert cli("groups", "1", "--preview", "--json").json() == preview.json()
        assert cli("messages", "--json").json() == before
        assert cli("groups", "1", "--json").json() == {
            "round": 1,
            "groups": [],
            "no_match": [],
            "gave_way": [],
        }
        human = cli("groups", "1", "--preview")
        assert "preview: nothing is stored" in human.stdout
        assert cli("update", "1", "--match", "now").code == 0
        assert cli("run-due").code == 0
        formed = cli("groups", "1", "--json").json()
    assert sorted(map(sorted, formed["groups"])) == sorted(map(sorted, preview.json()["groups"]))


def test_groups_say_which_pairs_met_before_and_when(cli: Invoke) -> None:
    with time_machine.travel(START, tick=False):
        assert cli("program", "add", "duo", "--tz", "UTC", "--no-opt-in").code == 0
        _members(cli, "duo", 2)
        for _ in range(2):
            assert cli("schedule", "duo", "--match", "now").code == 0
            assert cli("run-due").code == 0
        first, second = cli("groups", "1"), cli("groups", "2")
    assert "new" in first.stdout
    assert "no pair has met before" in first.stdout
    assert "Member 00 & Member 01: round 1 (2026-11-25)" in second.stdout
    assert second.stdout.endswith("\n1 repeated pair\n")
    assert "repeated pairs  1" in cli("show", "2").stdout


def test_preview_is_refused_for_a_done_or_planned_round(cli: Invoke) -> None:
    with time_machine.travel(START, tick=False):
        assert cli("program", "add", "duo", "--tz", "UTC").code == 0
        _members(cli, "duo", 2)
        assert cli("schedule", "duo", "--opt-in", "2026-11-26 09:00",
                   "--match", "2026-11-27 09:00").code == 0  # fmt: skip
        planned = cli("groups", "1", "--preview")
    assert (planned.code, planned.stdout) == (2, "")
    assert planned.stderr == "error: round 1 is planned: only an open round can be previewed\n"


def test_every_pair_in_a_group_is_checked(cli: Invoke) -> None:
    # Groups of three: three pairs per group are compared with the history, not just one.
    with time_machine.travel(START, tick=False):
        assert (
            cli("program", "add", "trio", "--tz", "UTC", "--no-opt-in", "--group-size", "3").code
            == 0
        )
        _members(cli, "trio", 3)
        for _ in range(2):
            assert cli("schedule", "trio", "--match", "now").code == 0
            assert cli("run-due").code == 0
        second = cli("groups", "2").stdout
    for a, b in combinations(["Member 00", "Member 01", "Member 02"], 2):
        assert f"{a} & {b}: round 1" in second


def test_an_unknown_tz_is_refused_with_json_too(cli: Invoke) -> None:
    with time_machine.travel(START, tick=False):
        assert cli("program", "add", "duo", "--tz", "UTC").code == 0
        _members(cli, "duo", 2)
        assert cli("schedule", "duo", "--opt-in", "now", "--match", "2026-11-27 09:00").code == 0
        for extra in ([], ["--json"]):
            refused = cli("groups", "1", "--tz", "Nowhere/Town", *extra)
            assert (refused.code, refused.stdout) == (2, "")
            assert refused.stderr.startswith("error: --tz: unknown timezone 'Nowhere/Town'")
