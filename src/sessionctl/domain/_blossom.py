"""Maximum matchings of the graph "never met" (Edmonds' blossoms), for pairing people.

The graph is given by its complement: ``met[a]`` holds as keys everyone ``a`` met, and an edge
joins two people who never met. A matching is a list: each person's mate, or -1.
"""

from __future__ import annotations

from collections.abc import Sequence


def max_matching(mate: list[int], met: Sequence[dict[int, int]]) -> list[int]:
    """Grow ``mate`` into a maximum matching.

    A person with no augmenting path now will never have one, so each is searched once.
    """
    mate = mate[:]
    everyone = range(len(mate))
    for root in everyone:
        if mate[root] < 0:
            search(root, mate, met, everyone)
    return mate


def search(
    root: int, mate: list[int], met: Sequence[dict[int, int]], alive: Sequence[int]
) -> list[int]:
    """Search an augmenting path from the unmatched ``root`` and flip it if found (``root`` is
    then matched). Only the people in ``alive`` take part; the others must be unmatched.

    Returns the people reached at even distance (``root`` included). When no path was found,
    they are exactly those a maximum matching can leave alone instead of ``root``; the
    caller also counts them as the work done (each cost one scan of ``alive``).
    """
    n = len(mate)
    parent, base, seen = [-1] * n, list(range(n)), [False] * n

    def common_base(a: int, b: int) -> int:
        on_path = [False] * n
        while True:
            a = base[a]
            on_path[a] = True
            if mate[a] < 0:
                break
            a = parent[mate[a]]
        while not on_path[base[b]]:
            b = parent[mate[base[b]]]
        return base[b]

    def mark(v: int, stop: int, child: int, blossom: list[bool]) -> None:
        while base[v] != stop:
            blossom[base[v]] = blossom[base[mate[v]]] = True
            parent[v], child = child, mate[v]
            v = parent[mate[v]]

    seen[root] = True
    queue = [root]
    for v in queue:
        met_v = met[v]
        for to in alive:
            if to == v or to in met_v or base[v] == base[to] or mate[v] == to:
                continue
            if to == root or (mate[to] >= 0 and parent[mate[to]] >= 0):
                stop, blossom = common_base(v, to), [False] * n
                mark(v, stop, to, blossom)
                mark(to, stop, v, blossom)
                for i in alive:
                    if blossom[base[i]]:
                        base[i] = stop
                        if not seen[i]:
                            seen[i] = True
                            queue.append(i)
            elif parent[to] < 0:
                parent[to] = v
                if mate[to] < 0:
                    while to >= 0:
                        v, after = parent[to], mate[parent[to]]
                        mate[to], mate[v] = v, to
                        to = after
                    return queue
                seen[mate[to]] = True
                queue.append(mate[to])
    return queue
