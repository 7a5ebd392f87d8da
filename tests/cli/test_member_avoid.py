"""member avoid: pairing rules added, listed and removed through the real CLI; matching keeps
them whenever a grouping allows it, and groups (stored or previewed) say when one gave way and
why. Matches go to the real SMTP server. Time is frozen at T0 (Monday 2026-06-01 09:00 UTC).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from tests.conftest import Invoke, assert_error, sql
from tests.rundue import conftest as rundue
from tests.rundue.conftest import (
    SmtpServer,
    add_program,
    groups,
    handler_of,
    ok,
    parse,
    schedule,
)

# A real SMTP server on 127.0.0.1 that run-due delivers to (fixtures of tests/rundue).
start_server, server = rundue.start_server, rundue.server

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ANA, BO, CY, DI = (f"{n}@example.com" for n in ("ana", "bo", "cy", "di"))
EXAMPLE = "'sessionctl member avoid coffee EMAIL EMAIL'"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _rules(cli: Invoke, program: str = "coffee") -> Any:
    return ok(cli("member", "avoid", program, "--json")).json()


# --- adding, listing, removing -----------------------------------------------------------------


def test_a_rule_is_added_listed_and_removed_once_each(cli: Invoke) -> None:
    add_program(cli, "coffee", members=[ANA, BO, CY])
    empty = (
        "No pairing rules in coffee: add one with 'sessionctl member avoid coffee EMAIL EMAIL'.\n"
    )
    assert ok(cli("member", "avoid", "coffee")).stdout == empty
    assert _rules(cli) == []

    added = ok(cli("member", "avoid", "coffee", BO, ANA))
    assert added.stdout == f"{ANA} and {BO} are kept apart in coffee.\n"
    again = ok(cli("member", "avoid", "coffee", "ANA@Example.com", BO))  # any letter case
    assert again.stdout == f"{ANA} and {BO} are already kept apart in coffee: nothing changed.\n"
    ok(cli("member", "avoid", "coffee", CY, ANA))
    assert sql("SELECT count(*) FROM avoid") == [(2,)]

    assert _rules(cli) == [{"a": ANA, "b": BO}, {"a": ANA, "b": CY}]
    table = ok(cli("member", "avoid", "coffee")).stdout.splitlines()
    assert table[1].split() == ["Member", "Kept", "apart", "from", "Added"]
    assert [line.split() for line in table[3:5]] == [
        [ANA, BO, "2026-06-01", "09:00", "UTC"],
        [ANA, CY, "2026-06-01", "09:00", "UTC"],
    ]

    removed = ok(cli("member", "avoid", "coffee", ANA, BO, "--remove", "--json"))
    assert removed.json() == [{"a": ANA, "b": CY}]  # the rules after the change
    gone = ok(cli("member", "avoid", "coffee", BO, ANA, "--remove"))
    assert gone.stdout == f"No rule keeps {ANA} and {BO} apart in coffee: nothing changed.\n"
    assert _rules(cli) == [{"a": ANA, "b": CY}]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((ANA, ANA.upper()), f"{ANA} is given twice: a pairing rule keeps two different members "
                             "apart"),
        ((ANA, "zed@example.com"), "no member zed@example.com in coffee: see 'sessionctl member "
                                   "list coffee --all'"),
        ((ANA,), f"give two emails, or none: e.g. {EXAMPLE}"),
        (("--remove",), f"give the two emails of the rule to remove: e.g. {EXAMPLE}"),
        ((ANA, "--remove"), f"give the two emails of the rule to remove: e.g. {EXAMPLE}"),
    ],
    ids=["same member twice", "not a member", "one email", "remove nothing", "remove one"],
)  # fmt: skip
def test_a_bad_rule_is_refused_in_one_line_and_changes_nothing(
    cli: Invoke, args: tuple[str, ...], message: str
) -> None:
    add_program(cli, "coffee", members=[ANA, BO])
    ok(cli("member", "avoid", "coffee", ANA, BO))
    assert_error(cli("member", "avoid", "coffee", *args), message)
    assert _rules(cli) == [{"a": ANA, "b": BO}]


def test_an_unknown_program_is_refused(cli: Invoke) -> None:
    add_program(cli, "coffee", members=[ANA, BO])
    message = "no program named 'tea': see 'sessionctl program list'"
    assert_error(cli("member", "avoid", "tea", ANA, BO), message)
    assert_error(cli("member", "avoid", "tea"), message)


def test_a_removed_members_rules_stay_and_count_again_when_they_are_back(cli: Invoke) -> None:
    add_program(cli, "coffee", members=[ANA, BO, CY, DI], opt_in=False)
    ok(cli("member", "avoid", "coffee", ANA, BO))
    ok(cli("member", "remove", "coffee", BO))
    assert _rules(cli) == [{"a": ANA, "b": BO}]
    table = ok(cli("member", "avoid", "coffee")).stdout
    assert f"{BO} removed" in table
    ok(cli("member", "avoid", "coffee", BO, CY))  # a removed member may be named too
    ok(cli("member", "add", "coffee", BO))
    round_id = schedule(cli, "coffee", "--match", "2026-06-03 09:00")
    preview = ok(cli("groups", str(round_id), "--preview", "--json")).json()
    assert sorted(map(sorted, preview["groups"])) == [[ANA, CY], [BO, DI]]


# --- matching keeps the rules, and says when one gave way --------------------------------------


def _match_emails(server: SmtpServer) -> dict[str, str]:
    """Each member's match email, as text, by address."""
    found = {}
    for r in handler_of(server).received:
        msg = parse(r.content)
        if "your match" in str(msg["Subject"]):
            body = msg.get_body(preferencelist=("plain",))
            assert body is not None
            found[msg["To"].addresses[0].addr_spec] = body.get_content()
    return found


def test_kept_apart_every_week_even_at_the_price_of_repeats(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    add_program(cli, "coffee", members=[ANA, BO, CY, DI], opt_in=False)
    ok(cli("member", "avoid", "coffee", ANA, BO))
    scheduled = ok(cli("schedule", "coffee", "--match", "2026-06-02 09:00", "--repeat", "weekly",
                       "--count", "3", "--json")).json()  # fmt: skip
    seen: list[set[frozenset[str]]] = []
    for week, r in enumerate(scheduled):
        frozen.move_to(f"2026-06-{2 + 7 * week:02d} 09:01Z")
        before = len(handler_of(server).received)
        ran = ok(cli("run-due"))
        assert (
            ran.stdout.splitlines()[0]
            == f"round {r['id']} (coffee): matched 4 people into 2 groups"
        )
        formed = groups(cli, r["id"])
        assert formed["gave_way"] == []
        seen.append({frozenset(g) for g in formed["groups"]})
        assert len(handler_of(server).received) - before == 4  # a match email each
    assert all(frozenset((ANA, BO)) not in pairs for pairs in seen)
    # Week 3: the only new pairs are ana with bo and cy with di; the rule wins over repeats.
    assert seen[2] & (seen[0] | seen[1]) == seen[2]
    emails = _match_emails(server)  # the last week's: each names the partner, never the other
    [partner] = next(iter(g - {ANA} for g in seen[2] if ANA in g))
    assert f"Member {partner.split('@')[0]}" in emails[ANA]
    assert "Member bo" not in emails[ANA] and "Member ana" not in emails[BO]


def test_with_only_three_people_the_rule_gives_way_and_groups_say_why(
    cli: Invoke, server: SmtpServer
) -> None:
    add_program(cli, "coffee", members=[ANA, BO, CY], opt_in=False)
    ok(cli("member", "set", "coffee", ANA, "--name", "Ana [b]Lima"))  # shown literally
    ok(cli("member", "avoid", "coffee", ANA, BO))
    round_id = schedule(cli, "coffee", "--match", "now")
    why = "only 3 people take part, one group of everyone"
    expected = [{"a": ANA, "b": BO, "group": 1, "why": why}]

    preview = ok(cli("groups", str(round_id), "--preview", "--json")).json()
    assert preview["gave_way"] == expected
    shown = ok(cli("groups", str(round_id), "--preview")).stdout
    assert f"rule gave way: Ana [b]Lima and Member bo are together in group 1: {why}\n" in shown

    ran = ok(cli("run-due")).stdout.splitlines()
    assert ran[0] == (
        f"round {round_id} (coffee): matched 3 people into 1 group, "
        f"1 pairing rule gave way (see 'sessionctl groups {round_id}')"
    )
    assert groups(cli, round_id)["gave_way"] == expected
    assert len(_match_emails(server)) == 3


def test_when_no_grouping_keeps_every_rule_the_fewest_give_way(
    cli: Invoke, server: SmtpServer
) -> None:
    add_program(cli, "coffee", members=[ANA, BO, CY, DI], opt_in=False)
    for other in (BO, CY, DI):  # ana kept apart from everyone: one of the three must give way
        ok(cli("member", "avoid", "coffee", ANA, other))
    round_id = schedule(cli, "coffee", "--match", "now")
    preview = ok(cli("groups", str(round_id), "--preview", "--json")).json()
    ok(cli("run-due"))
    formed = groups(cli, round_id)
    assert formed == preview
    [rule] = formed["gave_way"]
    [with_ana] = [g for g in formed["groups"] if ANA in g]
    assert rule == {
        "a": ANA,
        "b": next(m for m in with_ana if m != ANA),
        "group": formed["groups"].index(with_ana) + 1,
        "why": "the search found no grouping of the 4 participants that keeps every rule",
    }


def test_a_rule_added_after_the_groups_were_formed_says_so(cli: Invoke, server: SmtpServer) -> None:
    add_program(cli, "coffee", members=[ANA, BO, CY, DI], opt_in=False)
    round_id = schedule(cli, "coffee", "--match", "now")
    ok(cli("run-due"))
    [[a, b], _] = groups(cli, round_id)["groups"]
    with time_machine.travel(datetime(2026, 6, 1, 10, 0, tzinfo=UTC), tick=False):
        ok(cli("member", "avoid", "coffee", a, b))
    [rule] = groups(cli, round_id)["gave_way"]
    assert rule["why"] == "the rule was added after the groups were formed"
    assert (
        "the rule was added after the groups were formed" in ok(cli("groups", str(round_id))).stdout
    )
