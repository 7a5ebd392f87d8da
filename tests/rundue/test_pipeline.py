"""run-due in process: open, match, deliver to the default Maildir; output, JSON and exit codes.

Time is frozen at T0 (Monday 2026-06-01 09:00 UTC) and moved on where a test needs it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from tests.conftest import Invoke
from tests.rundue.conftest import (
    add_program,
    emails_of,
    figures,
    groups,
    kinds,
    messages,
    ok,
    outbox,
    outbox_count,
    refused,
    schedule,
    show,
)

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
LATER = "2026-06-08 09:00"  # a match time a week ahead of T0


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _due(cli: Invoke, *args: str) -> tuple[int, list[str], str]:
    result = cli("run-due", *args)
    return result.code, result.stdout.splitlines(), result.stderr


def _answer(cli: Invoke, round_id: int, answers: dict[str, str]) -> None:
    text = "email,answer\n" + "".join(f"{e},{a}\n" for e, a in answers.items())
    ok(cli("respond", str(round_id), "--import", "-", input=text))


# --- the example from the seed, end to end ------------------------------------------------------


def test_seed_example_131_invited_3_join_5_decline_one_trio(cli: Invoke, isolated: Path) -> None:
    members = add_program(cli, "coffee-paris", members=131)
    round_id = schedule(cli, "coffee-paris", "--opt-in", "now", "--match", LATER)

    assert _due(cli) == (0, [f"round {round_id} (coffee-paris): opened, 131 opt-in messages",
                             "messages: 131 sent"], "")  # fmt: skip
    assert outbox_count(isolated) == 131

    joining, declining = members[7:10], members[40:45]
    for address in joining:
        ok(cli("respond", str(round_id), address, "yes"))
    _answer(cli, round_id, dict.fromkeys(declining, "no"))
    assert figures(cli, round_id) == (131, 3, 5, 123)
    assert show(cli, round_id)["status"] == "open"

    ok(cli("update", str(round_id), "--match", "now"))
    assert _due(cli) == (0, [f"round {round_id} (coffee-paris): matched 3 people into 1 group",
                             "messages: 3 sent"], "")  # fmt: skip

    assert groups(cli, round_id) == {
        "round": round_id,
        "groups": [sorted(joining)],
        "no_match": [],
        "gave_way": [],
    }
    matches = [m for m in outbox(isolated) if "your match" in str(m["Subject"])]
    assert sorted(str(m["To"]).rpartition("<")[2].rstrip(">") for m in matches) == sorted(joining)
    for m in matches:  # each hears of the two others, listed before the group's mailto
        body = m.get_body(("plain",))
        assert body is not None
        listed, _, mailto = body.get_content().partition("mailto:")
        me = str(m["To"]).rpartition("<")[2].rstrip(">")
        assert [a for a in joining if a in listed] == [a for a in joining if a != me]
        assert all(a in mailto.splitlines()[0] for a in joining)  # the mailto: all three
    assert show(cli, round_id)["status"] == "done"
    assert figures(cli, round_id) == (131, 3, 5, 123)  # the figures stay once done

    nothing = cli("run-due")
    assert (nothing.code, nothing.stdout, nothing.stderr) == (0, "", "")
    assert outbox_count(isolated) == 134


# --- output and exit codes ---------------------------------------------------------------------


def test_nothing_due_prints_nothing_and_exits_0(
    cli: Invoke, empty_db: None, isolated: Path
) -> None:
    assert _due(cli) == (0, [], "")  # a fresh database
    add_program(cli, "coffee", members=4)
    schedule(cli, "coffee", "--opt-in", "2026-06-03 09:00", "--match", LATER)
    assert _due(cli) == (0, [], "")
    assert outbox_count(isolated) == 0
    assert messages(cli) == []


def test_one_line_per_round_acted_on(cli: Invoke) -> None:
    add_program(cli, "coffee", members=4)
    add_program(cli, "lunch", members=6, opt_in=False, group_size=3)
    add_program(cli, "quiet", members=3)
    opening = schedule(cli, "coffee", "--opt-in", "now", "--match", LATER)
    matching = schedule(cli, "lunch", "--match", "now")
    schedule(cli, "quiet", "--opt-in", "2026-06-02 09:00", "--match", LATER)  # not due

    assert _due(cli) == (
        0,
        [
            f"round {opening} (coffee): opened, 4 opt-in messages",
            f"round {matching} (lunch): matched 6 people into 2 groups",
            "messages: 10 sent",
        ],
        "",
    )


def test_json_summary_is_exactly_the_documented_object(cli: Invoke) -> None:
    add_program(cli, "coffee", members=4)
    add_program(cli, "lunch", members=6, opt_in=False, group_size=3)
    opening = schedule(cli, "coffee", "--opt-in", "now", "--match", LATER)
    matching = schedule(cli, "lunch", "--match", "now")

    first = cli("run-due", "--json")
    assert first.code == 0 and first.stderr == ""
    assert first.json() == {
        "opened": [opening],
        "matched": [matching],
        "missed": [],
        "late": [],
        "reminded": [],
        "sent": 10,
        "failed": 0,
        "retrying": 0,
        "held": [],
        "left": [],
        "inbox": None,
    }
    again = cli("run-due", "--json")
    assert again.code == 0 and again.stderr == ""
    assert again.json() == {
        "opened": [],
        "matched": [],
        "missed": [],
        "late": [],
        "reminded": [],
        "sent": 0,
        "failed": 0,
        "retrying": 0,
        "held": [],
        "left": [],
        "inbox": None,
    }


def test_dry_run_shows_what_would_happen_and_changes_nothing(cli: Invoke, isolated: Path) -> None:
    add_program(cli, "coffee", members=4)
    add_program(cli, "lunch", members=6, opt_in=False, group_size=3)
    opening = schedule(cli, "coffee", "--opt-in", "now", "--match", LATER)
    matching = schedule(cli, "lunch", "--match", "now")
    before = (ok(cli("list", "--json")).stdout, ok(cli("messages", "--json")).stdout)

    assert _due(cli, "--dry-run") == (
        0,
        [
            f"would open round {opening} (coffee): 4 opt-in messages",
            f"would match round {matching} (lunch): 6 participants",
        ],
        "",
    )
    preview = cli("run-due", "--dry-run", "--json")
    assert preview.code == 0
    assert preview.json() == {
        "opened": [opening],
        "matched": [matching],
        "missed": [],
        "late": [],
        "reminded": [],
        "sent": 0,
        "failed": 0,
        "retrying": 0,
        "held": [],
        "left": [],
        "inbox": None,
    }
    assert (ok(cli("list", "--json")).stdout, ok(cli("messages", "--json")).stdout) == before
    assert groups(cli, matching)["groups"] == []
    assert outbox_count(isolated) == 0

    # Once opened, pending messages are what a dry run announces.
    ok(cli("run-due"))
    ok(cli("update", str(opening), "--match", "now"))
    assert _due(cli, "--dry-run") == (
        0,
        [f"would match round {opening} (coffee): 0 participants"],
        "",
    )


def test_dry_run_announces_pending_messages_without_sending(cli: Invoke, isolated: Path) -> None:
    add_program(cli, "coffee", members=3)
    schedule(cli, "coffee", "--opt-in", "now", "--match", LATER)
    with pytest.MonkeyPatch.context() as mp:  # an unreachable server: the messages stay pending
        mp.setenv("SESSIONCTL_TRANSPORT", "smtp://127.0.0.1:9")
        assert cli("run-due").code == 1
    before = messages(cli)
    assert {m["status"] for m in before} == {"pending"}

    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        assert _due(cli, "--dry-run") == (0, ["would send 3 pending messages"], "")
        assert messages(cli) == before
    assert outbox_count(isolated) == 0


def test_messages_json_has_exactly_the_documented_fields(cli: Invoke) -> None:
    [address] = add_program(cli, "coffee", members=1)
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", LATER)
    ok(cli("run-due"))

    [message] = messages(cli)
    assert list(message) == [
        "id",
        "round",
        "email",
        "kind",
        "status",
        "attempts",
        "last_error",
        "message_id",
        "sent_at",
        "held_by",
    ]
    assert message["message_id"].startswith("<") and message["message_id"].endswith(">")
    assert message == {
        "id": message["id"],
        "round": round_id,
        "email": address,
        "kind": "opt_in",
        "status": "sent",
        "attempts": 1,
        "last_error": None,
        "message_id": message["message_id"],
        "sent_at": "2026-06-01T09:00:00+00:00",
        "held_by": None,
    }
    assert messages(cli, str(round_id)) == [message]
    assert messages(cli, "--status", "sent") == [message]
    assert messages(cli, "--status", "pending") == []
    assert messages(cli, "--status", "failed") == []


def test_messages_refuses_an_unknown_status_or_round(cli: Invoke, empty_db: None) -> None:
    refused(cli("messages", "--status", "queued"), "--status: invalid status 'queued'")
    refused(cli("messages", "7"), "no round 7")


# --- matching -------------------------------------------------------------------------------------


def test_no_participants_ends_the_round_with_no_groups(cli: Invoke) -> None:
    add_program(cli, "coffee", members=5)
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", LATER)
    ok(cli("run-due"))
    ok(cli("update", str(round_id), "--match", "now"))

    assert _due(cli) == (0, [f"round {round_id} (coffee): matched, no participants, no groups"], "")
    assert show(cli, round_id)["status"] == "done"
    assert groups(cli, round_id) == {
        "round": round_id,
        "groups": [],
        "no_match": [],
        "gave_way": [],
    }
    assert kinds(cli, round_id) == Counter(opt_in=5)


def test_a_lone_participant_gets_a_no_match_message(cli: Invoke, isolated: Path) -> None:
    members = add_program(cli, "coffee", members=5)
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", LATER)
    ok(cli("run-due"))
    ok(cli("respond", str(round_id), members[2], "yes"))
    ok(cli("update", str(round_id), "--match", "now"))

    assert _due(cli) == (
        0,
        [
            f"round {round_id} (coffee): matched 1 person into 0 groups, 1 no-match message",
            "messages: 1 sent",
        ],
        "",
    )
    assert groups(cli, round_id) == {
        "round": round_id,
        "groups": [],
        "no_match": [members[2]],
        "gave_way": [],
    }
    [lonely] = [m for m in messages(cli, str(round_id)) if m["kind"] != "opt_in"]
    assert (lonely["kind"], lonely["email"], lonely["status"]) == ("no_match", members[2], "sent")
    [notice] = [m for m in outbox(isolated) if "no match" in str(m["Subject"])]
    assert members[2] in str(notice["To"])


def test_seven_people_in_groups_of_three_make_a_trio_and_a_foursome(cli: Invoke) -> None:
    members = add_program(cli, "lunch", members=7, opt_in=False, group_size=3)
    round_id = schedule(cli, "lunch", "--match", "now")

    code, lines, _ = _due(cli)
    assert (code, lines[0]) == (0, f"round {round_id} (lunch): matched 7 people into 2 groups")
    found = groups(cli, round_id)
    assert sorted(len(g) for g in found["groups"]) == [3, 4]
    assert sorted(a for g in found["groups"] for a in g) == sorted(members)
    assert found["no_match"] == []
    assert kinds(cli, round_id) == Counter(match=7)


def test_odd_pairs_never_leave_anyone_alone(cli: Invoke) -> None:
    members = add_program(cli, "coffee", members=9)
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", LATER)
    ok(cli("run-due"))
    _answer(cli, round_id, dict.fromkeys(members, "yes"))
    ok(cli("update", str(round_id), "--match", "now"))
    ok(cli("run-due"))
    assert sorted(len(g) for g in groups(cli, round_id)["groups"]) == [2, 2, 2, 3]


def test_a_round_is_never_matched_twice(cli: Invoke, isolated: Path) -> None:
    add_program(cli, "lunch", members=6, opt_in=False)
    round_id = schedule(cli, "lunch", "--match", "now")
    ok(cli("run-due"))
    first = (groups(cli, round_id), messages(cli))
    for _ in range(2):
        assert _due(cli) == (0, [], "")
    assert (groups(cli, round_id), messages(cli)) == first
    assert outbox_count(isolated) == 6


def test_groups_are_stored_before_any_match_message_goes_out(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    members = add_program(cli, "lunch", members=4, opt_in=False)
    round_id = schedule(cli, "lunch", "--match", "now")
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", "smtp://127.0.0.1:9")  # nothing listens there

    result = cli("run-due")
    assert result.code == 1
    assert result.stdout.splitlines() == [
        f"round {round_id} (lunch): matched 4 people into 2 groups",
        "messages: 0 sent, 4 waiting for a retry",
    ]
    assert result.stderr.startswith("error: cannot reach SMTP server 127.0.0.1:9")
    assert len(result.stderr.splitlines()) == 1

    stored = groups(cli, round_id)
    assert sorted(a for g in stored["groups"] for a in g) == sorted(members)
    pending = messages(cli, str(round_id))
    assert {(m["kind"], m["status"], m["attempts"]) for m in pending} == {("match", "pending", 1)}
    assert all("cannot reach SMTP server" in m["last_error"] for m in pending)

    # Later, with the maildir, the same groups go out once, with the same Message-IDs.
    monkeypatch.delenv("SESSIONCTL_TRANSPORT")
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False):
        assert _due(cli) == (0, ["messages: 4 sent"], "")
    assert groups(cli, round_id) == stored
    assert sorted(str(m["Message-ID"]) for m in outbox(isolated)) == sorted(
        m["message_id"] for m in pending
    )


def test_removed_members_are_not_matched_in_a_round_without_opt_in(cli: Invoke) -> None:
    members = add_program(cli, "lunch", members=5, opt_in=False)
    ok(cli("member", "remove", "lunch", members[0]))
    round_id = schedule(cli, "lunch", "--match", "now")
    ok(cli("run-due"))
    assert sorted(a for g in groups(cli, round_id)["groups"] for a in g) == sorted(members[1:])


# --- late runs ------------------------------------------------------------------------------------


def test_a_late_opt_in_still_goes_out_while_the_match_is_ahead(
    cli: Invoke, frozen: time_machine.Traveller, isolated: Path
) -> None:
    add_program(cli, "coffee", members=4)
    round_id = schedule(
        cli, "coffee", "--opt-in", "2026-06-01 10:00", "--match", "2026-06-03 09:00"
    )

    frozen.move_to(datetime(2026, 6, 2, 15, 0, tzinfo=UTC))  # the machine was down for a day
    assert _due(cli) == (
        0,
        [f"round {round_id} (coffee): opened (late), 4 opt-in messages", "messages: 4 sent"],
        "",
    )
    shown = show(cli, round_id)
    assert (shown["status"], shown["opened_at"]) == ("open", "2026-06-02T15:00:00+00:00")
    assert outbox_count(isolated) == 4


def test_an_opt_in_a_few_minutes_late_is_not_called_late(
    cli: Invoke, frozen: time_machine.Traveller
) -> None:
    add_program(cli, "coffee", members=2)
    round_id = schedule(cli, "coffee", "--opt-in", "2026-06-01 10:00", "--match", LATER)
    frozen.move_to(datetime(2026, 6, 1, 10, 4, tzinfo=UTC))  # cron every 5 minutes
    assert _due(cli)[1][0] == f"round {round_id} (coffee): opened, 2 opt-in messages"


def test_a_match_time_past_the_grace_window_makes_the_round_missed(
    cli: Invoke, frozen: time_machine.Traveller, isolated: Path
) -> None:
    members = add_program(cli, "coffee", members=4)
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", "2026-06-02 09:00")
    ok(cli("run-due"))
    _answer(cli, round_id, dict.fromkeys(members, "yes"))

    frozen.move_to(datetime(2026, 6, 3, 10, 0, tzinfo=UTC))  # 25 h after the match time
    result = cli("run-due", "--json")
    assert (result.code, result.stderr) == (0, "")
    assert result.json() == {
        "opened": [],
        "matched": [],
        "missed": [round_id],
        "late": [],
        "reminded": [],
        "sent": 0,
        "failed": 0,
        "retrying": 0,
        "held": [],
        "left": [],
        "inbox": None,
    }
    assert show(cli, round_id)["status"] == "missed"
    assert groups(cli, round_id) == {
        "round": round_id,
        "groups": [],
        "no_match": [],
        "gave_way": [],
    }
    assert kinds(cli, round_id) == Counter(opt_in=4)
    assert outbox_count(isolated) == 4
    assert _due(cli) == (0, [], "")


def test_a_missed_round_is_reported_in_words(cli: Invoke, frozen: time_machine.Traveller) -> None:
    add_program(cli, "lunch", members=4, opt_in=False)
    round_id = schedule(cli, "lunch", "--match", "2026-06-02 09:00")
    frozen.move_to(datetime(2026, 6, 5, 9, 0, tzinfo=UTC))
    assert _due(cli) == (
        0,
        [
            f"round {round_id} (lunch): missed, its match time 2026-06-02 09:00 UTC passed "
            "more than 24 h ago; nothing was sent"
        ],
        "",
    )
    assert messages(cli) == []
    assert show(cli, round_id)["status"] == "missed"


def test_within_the_grace_window_the_match_still_happens(
    cli: Invoke, frozen: time_machine.Traveller
) -> None:
    members = add_program(cli, "coffee", members=4)
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", "2026-06-02 09:00")
    ok(cli("run-due"))
    _answer(cli, round_id, dict.fromkeys(members, "yes"))

    frozen.move_to(datetime(2026, 6, 3, 8, 0, tzinfo=UTC))  # 23 h after the match time
    assert _due(cli) == (
        0,
        [f"round {round_id} (coffee): matched 4 people into 2 groups", "messages: 4 sent"],
        "",
    )
    assert show(cli, round_id)["status"] == "done"
    assert kinds(cli, round_id) == Counter(opt_in=4, match=4)


def test_a_round_whose_opt_in_never_went_out_is_missed_not_matched(
    cli: Invoke, frozen: time_machine.Traveller
) -> None:
    add_program(cli, "coffee", members=4)
    round_id = schedule(
        cli, "coffee", "--opt-in", "2026-06-01 10:00", "--match", "2026-06-02 09:00"
    )
    frozen.move_to(datetime(2026, 6, 2, 12, 0, tzinfo=UTC))  # past the match, inside the grace
    code, lines, _ = _due(cli)
    assert code == 0
    assert lines == [
        f"round {round_id} (coffee): missed, its opt-in never went out before its match time "
        "2026-06-02 09:00 UTC; nothing was sent"
    ]
    assert messages(cli) == []


def test_late_runs_deal_with_every_round_in_one_run(
    cli: Invoke, frozen: time_machine.Traveller
) -> None:
    add_program(cli, "coffee", members=2)
    add_program(cli, "lunch", members=2, opt_in=False)
    stale = schedule(cli, "lunch", "--match", "2026-06-01 12:00")
    fresh = schedule(cli, "lunch", "--match", "2026-06-03 12:00")
    late = schedule(cli, "coffee", "--opt-in", "2026-06-02 09:00", "--match", "2026-06-09 09:00")
    frozen.move_to(datetime(2026, 6, 3, 14, 0, tzinfo=UTC))
    result = cli("run-due", "--json")
    assert result.json() == {
        "opened": [late],
        "matched": [fresh],
        "missed": [stale],
        "late": [],
        "reminded": [],
        "sent": 4,
        "failed": 0,
        "retrying": 0,
        "held": [],
        "left": [],
        "inbox": None,
    }
    assert emails_of("lunch", 2) == sorted(groups(cli, fresh)["groups"][0])


# --- invitations that can no longer be answered ----------------------------------------------


@pytest.mark.parametrize("ending", ["cancel", "match", "miss"])
def test_invitations_waiting_for_a_retry_are_dropped_once_the_round_is_not_open(
    cli: Invoke, frozen: time_machine.Traveller, isolated: Path, ending: str
) -> None:
    members = add_program(cli, "coffee", members=3)
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", "2026-06-02 09:00")
    with pytest.MonkeyPatch.context() as mp:  # the server is down when the round opens
        mp.setenv("SESSIONCTL_TRANSPORT", "smtp://127.0.0.1:9")
        assert cli("run-due").code == 1
    if ending == "cancel":
        ok(cli("cancel", str(round_id)))
        frozen.shift(timedelta(minutes=3))
        expected = "cancelled"
        assert _due(cli, "--dry-run") == (0, [], "")  # nothing would be sent
    elif ending == "match":
        _answer(cli, round_id, dict.fromkeys(members[:2], "yes"))  # answered some other way
        frozen.move_to(datetime(2026, 6, 2, 9, 5, tzinfo=UTC))
        expected = "done"
    else:
        frozen.move_to(datetime(2026, 6, 3, 10, 0, tzinfo=UTC))
        expected = "missed"

    result = cli("run-due")
    assert (result.code, result.stderr) == (0, "")
    assert (
        f"round {round_id} (coffee): 3 unsent opt-in messages dropped, the round is {expected}"
        in result.stdout.splitlines()
    )
    assert show(cli, round_id)["status"] == expected
    invitations = [m for m in messages(cli, str(round_id)) if m["kind"] == "opt_in"]
    assert {(m["status"], m["attempts"]) for m in invitations} == {("failed", 1)}
    assert {m["last_error"] for m in invitations} == {
        f"not sent: round {round_id} is {expected}, its answers are no longer taken"
    }
    sent = [str(m["Subject"]) for m in outbox(isolated)]
    assert not [s for s in sent if "are you in" in s]
    assert len(sent) == (2 if ending == "match" else 0)
    assert (cli("run-due").code, cli("run-due").stdout) == (0, "")
