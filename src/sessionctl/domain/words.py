"""How counts read in our messages: "1 answer", "2 answers", never "1 answers" or "answer(s)".

Pure text, so that domain rules, services, the store and the renderers all count the same way.
"""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` and the noun in the number it needs: ``plural(1, "round")`` is "1 round".

    ``many`` is the plural form where adding "s" is wrong (``plural(3, "person", "people")``).
    A noun of several words takes the "s" on its last word ("opt-in message" -> "messages").
    """
    return f"{count} {noun_for(count, noun, many)}"


def noun_for(count: int, noun: str, many: str | None = None) -> str:
    """The noun alone, in the number ``count`` needs (for "3 unsent opt-in messages")."""
    if count == 1:
        return noun
    return many if many is not None else noun + "s"
