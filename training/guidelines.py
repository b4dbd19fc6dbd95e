"""The section of a cohort's guidelines that speaks to a pair's trap, for the drill's feedback.

A lead writes guidelines in Markdown. A section whose heading names a trap kind
(``## Length``, ``## Formatting and polish``, ``### Constraints in the
prompt``) is the one the feedback points to when a pair with that trap kind is
answered: "Your cohort's guidelines on this: *Length*", with the section
itself one click away. :data:`TRAP_WORDS` lists the words that make a heading
name each trap kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TRAP_WORDS: dict[str, tuple[str, ...]] = {
    "length": ("length", "long", "longer", "verbose", "verbosity", "padding", "concise"),
    "polish": ("polish", "format", "formatting", "markdown", "emoji", "style"),
    "constraint": ("constraint", "constraints", "instruction", "instructions", "requirements", "limits"),
    "factual": ("fact", "facts", "factual", "accuracy", "correctness", "hallucination"),
    "sycophancy": ("sycophancy", "sycophantic", "flattery", "agreeing"),
    "refusal": ("refusal", "refusals", "refuse", "refusing", "safety"),
    "multi-turn": ("multi-turn", "conversation", "conversations", "turns"),
    "code-review": ("code", "coding", "review"),
    "subjective": ("subjective", "taste", "creative", "preference"),
    "control": ("control",),
}
"""Words (whole, case-insensitive) by which a heading names each trap kind of the bank format."""

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


@dataclass(frozen=True)
class Section:
    """A section of guidelines: its heading's text and the Markdown under it (with the heading)."""

    heading: str
    text: str


def sections(guidelines: str) -> list[Section]:
    """The guidelines' sections, one per ATX heading (``#`` to ``######``), in order.

    A section runs to the next heading of the same or a higher level; headings
    inside fenced code blocks do not count.

    Parameters
    ----------
    guidelines : str
        Markdown.

    Returns
    -------
    list of Section

    Examples
    --------
    >>> [s.heading for s in sections("Intro\\n# Rules\\n## Length\\ntext\\n```\\n# not one\\n```\\n# Other")]
    ['Rules', 'Length', 'Other']
    >>> sections("## Length\\nShorter is fine.\\n## Polish\\nx")[0].text
    '## Length\\nShorter is fine.'
    """
    lines = guidelines.splitlines()
    found: list[tuple[int, int, str]] = []  # (line, level, heading)
    fenced = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced and (m := _HEADING.match(line)):
            found.append((i, len(m.group(1)), m.group(2).strip()))
    out = []
    for k, (start, level, heading) in enumerate(found):
        end = next((i for i, lv, _ in found[k + 1 :] if lv <= level), len(lines))
        out.append(Section(heading, "\n".join(lines[start:end]).rstrip()))
    return out


def section_for(guidelines: str, tags: list[str] | tuple[str, ...]) -> Section | None:
    """The first section whose heading names one of ``tags`` (a pair's trap kinds), or None.

    Parameters
    ----------
    guidelines : str
        The cohort's guidelines (Markdown).
    tags : sequence of str
        The pair's trap kinds, most important first.

    Returns
    -------
    Section or None

    Examples
    --------
    >>> text = "# Rating\\n## Formatting and emoji\\nNo credit for looks.\\n## Long answers\\nx"
    >>> section_for(text, ["length"]).heading
    'Long answers'
    >>> section_for(text, ["polish", "length"]).heading
    'Formatting and emoji'
    >>> section_for(text, ["sycophancy"]) is None
    True
    """
    parts = sections(guidelines)
    for tag in tags:
        words = set(TRAP_WORDS.get(tag, (tag,))) | {tag.lower()}
        for part in parts:
            named = set(re.findall(r"[\w-]+", part.heading.lower()))
            if named & words:
                return part
    return None


__all__ = ["TRAP_WORDS", "Section", "section_for", "sections"]
