"""The extra member of an enlarged group rotates: over consecutive rounds formed by form_groups
itself, last round's extra is an extra again only when nobody else could be."""

from __future__ import annotations

import random

import pytest

from sessionctl.domain.matching import Participant, PastRound, form_groups


@pytest.mark.parametrize(
    ("n", "group_size"),
    [(7, 2), (9, 2), (13, 3), (11, 3), (11, 4), (14, 4), (17, 5), (13, 6), (20, 6)],
)
def test_nobody_is_an_extra_two_rounds_running(n: int, group_size: int) -> None:
    rng = random.Random(n * 10 + group_size)
    keys = [f"m{i:02d}@example.org" for i in range(n)]
    history: list[PastRound] = []
    last: frozenset[str] = frozenset()
    extras_seen = 0
    for order in range(6):
        present = [k for k in keys if order % 2 == 0 or rng.random() < 0.9]
        result = form_groups(
            [Participant(k, rng.choice([None, "ops", "dev"])) for k in present],
            history=history,
            group_size=group_size,
            seed=order,
        )
        # Whoever is present and was not last round's extra could be: always enough of them.
        assert len(present) - len(last & set(present)) >= len(result.extras)
        assert not result.extras & last, (order, sorted(result.extras & last))
        extras_seen += len(result.extras)
        history.append(PastRound(order, result.groups, result.extras))
        last = result.extras
    assert extras_seen > 0
