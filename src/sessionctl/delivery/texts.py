"""What the emails say: the default templates and fixed words in English and French, and the
value of each placeholder for one message.

Templates use ``string.Template`` placeholders (see ``compose.PLACEHOLDERS``). A placeholder alone
on the last line of a paragraph is shown as a designed block in the HTML part (buttons, the list
of partners, the conversation starter set apart), with the paragraph's other lines as its lead;
the text part reads the same either way. The fixed words are ``str.format`` strings whose
fields are filled by ``compose`` with values already made one line.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING
from urllib.parse import quote

from sessionctl.delivery import layout

if TYPE_CHECKING:
    from sessionctl.delivery.compose import Envelope, Person

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True)
class Words:
    """The words a message uses around the template's own."""

    colon: str  # between a label and its value: French puts a space before the colon
    join: str  # the join button, and the label before its URL in the text part
    skip: str
    reply: str  # replies are read and there is no link
    reply_too: str  # replies are read, after the links
    write_to: str  # nothing reads replies and there is no link: whom to tell
    write_group: str  # the button holding the group's mailto link
    group_subject: str  # the ready subject of a mail to the group
    manage: str  # the button to the member's own page
    leave_page: str  # how to pause or leave, with the member's page
    leave_reply: str  # how to pause or leave, by reply words
    leave_write: str  # how to pause or leave, with neither
    next_round: str
    no_next_round: str
    moved: str  # notice: what happened to the round, after "Round 3 of Coffee Paris"
    cancelled: str


WORDS: Mapping[str, Words] = MappingProxyType(
    {
        "en": Words(
            colon=": ",
            join="Join this round",
            skip="Skip this round",
            reply="Reply to this email with yes or no.",
            reply_too="Or reply to this email with yes or no.",
            write_to="To answer, write to {address}.",
            write_group="Write to your group",
            group_subject="{program}: round {round}",
            manage="Pause or leave",
            leave_page="To pause or leave {program}, open your page: {url}",
            leave_reply=(
                'To take a break, reply "pause until" and a date (e.g. "pause until 15 '
                'January"); to leave {program}, reply "stop".'
            ),
            leave_write="To pause or leave {program}, write to {address}.",
            next_round="The next round opens on {when}.",
            no_next_round="No next round is planned yet: we will write to you when there is one.",
            moved="now forms its groups on {when}",
            cancelled="is cancelled",
        ),
        "fr": Words(
            colon=" : ",
            join="Participer à ce tour",
            skip="Passer ce tour",
            reply="Répondez à cet e-mail par oui ou par non.",
            reply_too="Ou répondez à cet e-mail par oui ou par non.",
            write_to="Pour répondre, écrivez à {address}.",
            write_group="Écrire à votre groupe",
            group_subject="{program} : tour {round}",
            manage="Faire une pause ou partir",
            leave_page="Pour faire une pause ou quitter {program}, ouvrez votre page : {url}",
            leave_reply=(
                "Pour faire une pause, répondez « pause » suivi d'une date au format "
                "AAAA-MM-JJ ; pour quitter {program}, répondez « stop »."
            ),
            leave_write="Pour faire une pause ou quitter {program}, écrivez à {address}.",
            next_round="Le prochain tour ouvre le {when}.",
            no_next_round=(
                "Aucun prochain tour n'est encore prévu : nous vous écrirons dès qu'il y en "
                "aura un."
            ),
            moved="formera désormais ses groupes le {when}",
            cancelled="est annulé",
        ),
    }
)
"""Fixed words per language."""

_EN = {
    "opt_in": (
        "$program: are you in for round $round?",
        "Hi $name,\n\n"
        "Round $round of $program is starting. Say yes and you will be matched with colleagues "
        "for a coffee, in person or on a call.\n\n"
        "Are you in this time?\n"
        "$links\n\n"
        "Answers count until $match_at: then the groups are formed and everyone gets their "
        "match.\n",
    ),
    "match": (
        "$program: your match for round $round",
        "Hi $name,\n\n"
        "Round $round of $program has matched you with:\n"
        "$group\n\n"
        "Find a time that suits you all, for a coffee, a walk or a call. Write to the whole "
        "group at once:\n"
        "$group_mailto\n\n"
        "Something to talk about:\n"
        "$icebreaker\n\n"
        "Enjoy!\n",
    ),
    "no_match": (
        "$program: no match for you in round $round",
        "Hi $name,\n\n"
        "You were the only participant left over in round $round of $program, so there was "
        "nobody to match you with this time. Sorry about that! There is nothing to do on your "
        "side: you stay in the program.\n\n"
        "$next_round\n",
    ),
    "notice": (
        "$program: round $round $change",
        "Hi $name,\n\n"
        "Round $round of $program $change.\n\n"
        "Answers still count until then, and you can change yours:\n"
        "$links\n",
    ),
    "reminder": (
        "$program: a reminder, are you in for round $round?",
        "Hi $name,\n\n"
        "The groups of round $round of $program are formed on $match_at, and we have not heard "
        "from you yet.\n\n"
        "Are you in this time?\n"
        "$links\n",
    ),
}
_FR = {
    "opt_in": (
        "$program : vous participez au tour $round ?",
        "Bonjour $name,\n\n"
        "Le tour $round de $program commence. Dites oui et vous serez mis en relation avec des "
        "collègues pour un café, en personne ou en visio.\n\n"
        "Vous en êtes cette fois-ci ?\n"
        "$links\n\n"
        "Vous pouvez répondre jusqu'au $match_at : les groupes seront alors formés et chacun "
        "recevra le sien.\n",
    ),
    "match": (
        "$program : votre groupe pour le tour $round",
        "Bonjour $name,\n\n"
        "Pour le tour $round de $program, vous voici en relation avec :\n"
        "$group\n\n"
        "Trouvez un moment qui vous convient à tous, pour un café, une promenade ou un appel. "
        "Écrivez à tout le groupe en une fois :\n"
        "$group_mailto\n\n"
        "De quoi lancer la conversation :\n"
        "$icebreaker\n\n"
        "Bonne rencontre !\n",
    ),
    "no_match": (
        "$program : pas de groupe pour vous au tour $round",
        "Bonjour $name,\n\n"
        "Vous étiez la seule personne restante au tour $round de $program : personne avec qui "
        "vous associer cette fois-ci. Désolés ! Vous restez dans le programme, vous n'avez rien "
        "à faire.\n\n"
        "$next_round\n",
    ),
    "notice": (
        "$program : le tour $round $change",
        "Bonjour $name,\n\n"
        "Le tour $round de $program $change.\n\n"
        "Les réponses comptent jusque-là, et vous pouvez changer la vôtre :\n"
        "$links\n",
    ),
    "reminder": (
        "$program : petit rappel, vous participez au tour $round ?",
        "Bonjour $name,\n\n"
        "Les groupes du tour $round de $program seront formés le $match_at, et nous n'avons "
        "pas encore votre réponse.\n\n"
        "Vous en êtes cette fois-ci ?\n"
        "$links\n",
    ),
}

DEFAULT_TEMPLATES: Mapping[str, Mapping[str, tuple[str, str]]] = MappingProxyType(
    {"en": MappingProxyType(_EN), "fr": MappingProxyType(_FR)}
)
"""(subject, body) per language, then per kind (``opt_in``, ``match``, ``no_match``,
``notice``, ``reminder``)."""


def text_values(env: Envelope) -> dict[str, str]:
    """The value of every placeholder for ``env``, as the text part shows it: one line each,
    but for ``$group``, ``$links`` and ``$how_to_leave``, which are one line per item."""
    words = _words(env)
    join_url, skip_url = one_line(env.join_url or ""), one_line(env.skip_url or "")
    labelled = ((words.join, join_url), (words.skip, skip_url))
    return {
        "name": one_line(env.recipient.name) or one_line(env.recipient.email),
        "program": one_line(env.program_title),
        "round": str(env.round_number),
        "match_at": one_line(env.match_at),
        "opt_in_at": one_line(env.opt_in_at or ""),
        "group": "\n".join(_person_line(person) for person in env.group),
        "join_url": join_url,
        "skip_url": skip_url,
        "links": "\n".join(
            [f"{label}{words.colon}{url}" for label, url in labelled if url] + _answers(env)
        ),
        "group_mailto": _group_mailto(env),
        "icebreaker": one_line(env.icebreaker),
        "next_round": _next_round(env),
        "manage_url": one_line(env.manage_url or ""),
        "how_to_leave": _how_to_leave(env, one_line(env.manage_url or "")),
        "change": _change(env),
    }


def html_values(env: Envelope, text: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The values for paragraphs (escaped text, links), and the HTML of each block."""
    words = _words(env)
    inline = {key: html.escape(value) for key, value in text.items()}
    for key in ("join_url", "skip_url", "manage_url", "group_mailto"):
        inline[key] = layout.link(text[key])
    labelled = ((words.join, text["join_url"]), (words.skip, text["skip_url"]))
    answers = _answers(env)
    colon = html.escape(words.colon)
    links = [f"{html.escape(label)}{colon}{layout.link(url)}" for label, url in labelled if url]
    inline["links"] = "\n".join(links + [html.escape(line) for line in answers])
    inline["how_to_leave"] = _how_to_leave(env, layout.link(text["manage_url"]), escape=html.escape)
    join = layout.button(text["join_url"], words.join)
    skip = layout.button(text["skip_url"], words.skip, primary=False)
    mailto, manage = text["group_mailto"], text["manage_url"]
    people = [(one_line(p.name), one_line(p.team), one_line(p.email)) for p in env.group]
    blocks = {
        "links": layout.buttons([join, skip], lines=answers),
        "group": layout.partners(people) if people else "",
        "group_mailto": layout.button(mailto, words.write_group) if mailto else "",
        "icebreaker": inline["icebreaker"],
        "how_to_leave": inline["how_to_leave"],
        "manage_url": layout.button(manage, words.manage) if manage else "",
        "join_url": join,
        "skip_url": skip,
    }
    return inline, blocks


def _answers(env: Envelope) -> list[str]:
    """How to answer besides the links: a reply when replies are read back; with neither,
    whom to tell. Never a channel that is not set up."""
    words = _words(env)
    if not env.answers_open:
        return []
    if env.replies:
        return [words.reply_too if env.join_url or env.skip_url else words.reply]
    if env.join_url or env.skip_url:
        return []
    return [words.write_to.format(address=one_line(env.reply_to or env.sender.email))]


def _how_to_leave(env: Envelope, page: str, *, escape: Callable[[str], str] = str) -> str:
    """One or two lines: the member's page when there is one, reply words when replies are
    read, else whom to write to. ``page`` is the page's URL as text or as a link."""
    words = _words(env)
    program = escape(one_line(env.program_title))
    lines = [escape(words.leave_page).format(program=program, url=page)] if page else []
    if env.replies:
        lines.append(escape(words.leave_reply).format(program=program))
    elif not page:
        address = escape(one_line(env.reply_to or env.sender.email))
        lines.append(escape(words.leave_write).format(program=program, address=address))
    return "\n".join(lines)


def _group_mailto(env: Envelope) -> str:
    """A mailto: link to every member of the group, the recipient too, with a ready subject."""
    if not env.group:
        return ""
    everyone = ",".join(quote(one_line(p.email), safe="@") for p in (*env.group, env.recipient))
    title = one_line(env.program_title)
    subject = _words(env).group_subject.format(program=title, round=env.round_number)
    return f"mailto:{everyone}?subject={quote(subject, safe='')}"


def _change(env: Envelope) -> str:
    """A notice's news, to follow "Round 3 of Coffee Paris"; empty for the other kinds."""
    if env.kind != "notice":  # a StrEnum: compose imports this module, not the other way
        return ""
    words = _words(env)
    return words.cancelled if env.cancelled else words.moved.format(when=one_line(env.match_at))


def _next_round(env: Envelope) -> str:
    words = _words(env)
    if env.next_round is None:
        return words.no_next_round
    return words.next_round.format(when=one_line(env.next_round))


def _words(env: Envelope) -> Words:
    return WORDS.get(env.language, WORDS["en"])


def _person_line(person: Person) -> str:
    name, team, email = one_line(person.name), one_line(person.team), one_line(person.email)
    if not name:
        return f"{email} ({team})" if team else email
    return f"{name} ({team}) <{email}>" if team else f"{name} <{email}>"


def one_line(text: str) -> str:
    """``text`` with every control character or line break as a space, runs of spaces as one."""
    return " ".join(CONTROL.sub(" ", text).split())
