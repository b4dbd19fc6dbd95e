"""The trap kinds of the bank format in plain words, for raters who have never met the jargon.

A pair's ``tags`` name its trap kinds (``length``, ``polish``, ``control``,
...). The drill's feedback and the onboarding page show :func:`trap_name`
("Longer is not better" rather than "length") with the kind's one sentence
(:func:`trap_sentence`) beside it. A kind that a bank's author made up and
that is not listed here is shown as written, with no sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Trap:
    """A trap kind: a short name a rater understands and one sentence on what it tests."""

    name: str
    sentence: str


GLOSSARY: dict[str, Trap] = {
    "length": Trap(
        "Longer is not better",
        "One answer is much longer; extra words earn nothing unless they add something the question needs.",
    ),
    "polish": Trap(
        "Looks are not content",
        "One answer has more headings, bold, lists or emojis; formatting earns nothing by itself.",
    ),
    "constraint": Trap(
        "Instructions first",
        "The prompt sets a rule (a length, a format, a word to avoid); an answer that breaks it loses, "
        "however good it is otherwise.",
    ),
    "factual": Trap(
        "Check the facts",
        "One answer states something false with confidence; a correct answer beats a fluent wrong one.",
    ),
    "sycophancy": Trap(
        "Agreeing is not helping",
        "The user is wrong or fishing for praise; the better answer politely says what is true.",
    ),
    "refusal": Trap(
        "Refusing or over-refusing",
        "One answer refuses, or helps with something it should not; judge whether refusing was right here.",
    ),
    "multi-turn": Trap(
        "Read the whole conversation",
        "The request depends on earlier turns; the better answer remembers what was already said.",
    ),
    "code-review": Trap(
        "Run the code in your head",
        "Code that looks tidy can still be wrong; check what it actually does before rewarding it.",
    ),
    "subjective": Trap(
        "Taste, with reasons",
        "Either answer could be fine; the expert's pick rests on how well each serves the request, "
        "not on a single right fact.",
    ),
    "control": Trap(
        "None, a plain comparison",
        "Nothing is hidden here; one answer is simply better, and these pairs check your judgment "
        "when no trick is in play.",
    ),
}
"""Every trap kind of the bank format (README "Pair banks"), in plain words."""


def trap_name(kind: str) -> str:
    """What a rater reads for trap kind ``kind``: its plain name, or the kind as written if unknown.

    >>> trap_name("control"), trap_name("my-own-kind")
    ('None, a plain comparison', 'my-own-kind')
    """
    found = GLOSSARY.get(kind.strip().lower())
    return kind if found is None else found.name


def trap_sentence(kind: str) -> str | None:
    """The glossary's sentence on trap kind ``kind``, or None for a kind it does not list.

    >>> trap_sentence("length").startswith("One answer is much longer")
    True
    """
    found = GLOSSARY.get(kind.strip().lower())
    return None if found is None else found.sentence


def describe(tags: Iterable[str]) -> tuple[str, str]:
    """A pair's trap kinds as (names, sentences): names joined by " · ", each known sentence on its line.

    With several kinds each sentence starts with its kind's name; with one, the sentence stands alone.

    >>> describe(["length", "polish"])[1].split(": ")[0]
    'Longer is not better'
    >>> describe(["control"])
    ('None, a plain comparison', 'Nothing is hidden here; one answer is simply better, and these pairs check \
your judgment when no trick is in play.')
    >>> describe(["my-own-kind"])
    ('my-own-kind', '')
    """
    kinds = [str(t) for t in tags if str(t).strip()]
    names = " · ".join(trap_name(k) for k in kinds)
    known = [(trap_name(k), s) for k in kinds if (s := trap_sentence(k))]
    if len(kinds) == 1:  # the name is just above: the sentence alone
        return names, "".join(s for _, s in known)
    return names, "\n\n".join(f"{name}: {s}" for name, s in known)


__all__ = ["GLOSSARY", "Trap", "describe", "trap_name", "trap_sentence"]
