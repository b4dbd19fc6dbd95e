"""Names people give (raters, cohorts, banks): one written form, look-alikes, and safe display.

Three questions, one function each:

* :func:`normalize_name`: the form a name is stored and compared in, or a
  plain :class:`ValueError` saying why it cannot be one. NFKC (so the
  full-width ``ａｌｉｃｅ`` is ``alice`` and a ligature ``ﬁ`` is ``fi``), runs of
  whitespace (spaces, tabs, no-break spaces) made one space, and the ends
  trimmed. Refused: control characters (Unicode Cc: ``\\x1b[31m`` colours a
  terminal), line breaks (``\\n``, ``\\r``, U+2028, U+2029, ...), invisible
  formatting characters (Unicode Cf: zero-width spaces and joiners, the
  byte-order mark, bidirectional overrides that show ``alice`` for
  ``ecila``, soft hyphens) and letters that draw nothing (the Hangul fillers,
  the blank Braille pattern), lone surrogates, and an empty name. Variation
  selectors, which only pick a glyph's style, are dropped. :func:`name_problem`
  gives the same reason without raising, for messages by line.
* :func:`name_skeleton`: what a name looks like, for refusing a second name
  that looks like one already taken (Unicode Technical Standard #39, the
  "skeleton" of its confusable detection). Two names look alike when their
  skeletons are equal: ``alice``, Cyrillic ``аlice``, Greek ``αlice``,
  ``ALICE``, ``a1ice`` and ``ａｌｉｃｅ`` have one skeleton. Letter case is
  folded first (``Alice`` would pass for ``alice`` on a leaderboard), then each
  character is mapped to its prototype by the Unicode confusables data, then
  case is folded again until nothing changes. Accents are kept, so ``José``
  and ``Jose`` are two names, and names in other scripts (``李雷``, ``Ærø``)
  keep their own skeletons. A capital ``I`` is the one letter whose look
  depends on its neighbours (``IVAN`` against ``ivan``, ``aIice`` against
  ``alice``): :func:`name_skeletons` gives a second skeleton, mapped before
  folding, for it. :func:`lookalike` compares both and finds, among names
  already taken, one a new name would pass for.
* :func:`printable`: text safe to print to a terminal or a log, with every
  control, formatting and separator character written as an escape
  (``\\x1b``, ``\\u200b``), so no name can move the cursor, colour the
  screen, hide text or fake a line. :func:`printable_output` applies it to
  everything a command prints.

The confusables data is ICU's (``icu.SpoofChecker``, from the ``pyicu-wheels``
package, which bundles ICU): the Unicode Consortium's own data, kept current
with each ICU release. A skeleton depends on that data's version, so store a
skeleton only together with the rule to recompute it when the package is upgraded.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from functools import cache
from typing import TextIO

__all__ = [
    "PrintableWriter",
    "describe_character",
    "lookalike",
    "name_problem",
    "name_skeleton",
    "name_skeletons",
    "normalize_name",
    "printable",
    "printable_output",
]

LINE_BREAKS = frozenset("\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029")
"""Characters that end a line: a name holding one would print on two lines."""

_INVISIBLE_RANGES = (
    ("\u034f", "\u034f"),  # combining grapheme joiner
    ("\u115f", "\u1160"),  # Hangul choseong and jungseong fillers
    ("\u17b4", "\u17b5"),  # Khmer inherent vowels, drawn as nothing
    ("\u2800", "\u2800"),  # blank Braille pattern
    ("\u3164", "\u3164"),  # Hangul filler
    ("\uffa0", "\uffa0"),  # half-width Hangul filler
    ("\ufff0", "\ufff8"),  # reserved default-ignorable code points
    ("\U000e0000", "\U000e0fff"),  # tags and reserved default-ignorable code points
)
"""Characters outside Unicode's Cf category that draw nothing."""

_SELECTOR_RANGES = (
    ("\u180b", "\u180d"),  # Mongolian free variation selectors
    ("\u180f", "\u180f"),
    ("\ufe00", "\ufe0f"),  # variation selectors (U+FE0F asks for an emoji's colour glyph)
    ("\U000e0100", "\U000e01ef"),  # ideographic variation selectors
)
"""Variation selectors: they pick a glyph's style, never a different letter; names drop them."""


def _character_class(ranges: Iterable[tuple[str, str]]) -> str:
    return "".join(
        re.escape(low) if low == high else f"{re.escape(low)}-{re.escape(high)}" for low, high in ranges
    )


_INVISIBLE = re.compile(f"[{_character_class(_INVISIBLE_RANGES)}]")
_SELECTORS = re.compile(f"[{_character_class(_SELECTOR_RANGES)}]")

_CONTROL_NAMES = {
    "\x00": "NULL",
    "\x07": "BELL",
    "\x08": "BACKSPACE",
    "\t": "CHARACTER TABULATION",
    "\n": "LINE FEED",
    "\v": "LINE TABULATION",
    "\f": "FORM FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
    "\x9b": "CONTROL SEQUENCE INTRODUCER",
}


def describe_character(ch: str) -> str:
    """A character by code point and Unicode name, for messages about one that cannot be seen.

    Parameters
    ----------
    ch : str
        One character.

    Returns
    -------
    str
        Such as ``U+200B ZERO WIDTH SPACE``; control characters by their usual
        alias (``U+001B ESCAPE``), others without a name by code point alone.

    Examples
    --------
    >>> describe_character("\u0430"), describe_character("\x1b"), describe_character("\x01")
    ('U+0430 CYRILLIC SMALL LETTER A', 'U+001B ESCAPE', 'U+0001')
    """
    name = unicodedata.name(ch, "") or _CONTROL_NAMES.get(ch, "")
    return f"U+{ord(ch):04X} {name}".rstrip()


def _kind(ch: str) -> str | None:
    """Why ``ch`` may not be in a name (the start of a sentence), or None when it may.

    Whitespace (but for line breaks) is allowed: it is collapsed to a space.
    """
    if ch in LINE_BREAKS:
        return "must be on one line, without a line break"
    category = unicodedata.category(ch)
    if category in ("Zl", "Zp"):
        return "must be on one line, without a line break"
    if category == "Cc":
        return None if ch == "\t" else "must not contain control characters"
    if category == "Cs":
        return "must be valid Unicode, without a lone surrogate"
    if _SELECTORS.match(ch):
        return None
    if category == "Cf" or _INVISIBLE.match(ch):
        return "must not contain invisible characters"
    return None


def _normal_form(text: str) -> tuple[str, str | None]:
    """The normalized name and why it cannot be one (None when it can)."""
    text = unicodedata.normalize("NFKC", text)
    problem = None
    if not text.isprintable() or _INVISIBLE.search(text) or _SELECTORS.search(text):
        for ch in text:
            kind = _kind(ch)
            if kind is not None:
                problem = f"{kind} ({describe_character(ch)})"
                break
        text = _SELECTORS.sub("", text)
    name = unicodedata.normalize("NFKC", " ".join(text.split()))
    if problem is None and not name:
        problem = "must not be empty"
    return name, problem


def name_problem(text: str, *, max_chars: int | None = None) -> str | None:
    """Why ``text`` cannot be a name, worded to follow the field it is in; None when it can.

    Parameters
    ----------
    text : str
        A name as given.
    max_chars : int, optional
        The most characters the normalized name may have.

    Returns
    -------
    str or None
        For example ``must not contain control characters (U+001B ESCAPE)``,
        naming the first character refused; None when :func:`normalize_name`
        accepts ``text``.

    Examples
    --------
    >>> name_problem("alice\\u200b")
    'must not contain invisible characters (U+200B ZERO WIDTH SPACE)'
    >>> name_problem("ali\\nce"), name_problem("  Zoë  ")
    ('must be on one line, without a line break (U+000A LINE FEED)', None)
    """
    if not isinstance(text, str):
        return f"must be text, not {type(text).__name__}"
    name, problem = _normal_form(text)
    if problem is None and max_chars is not None and len(name) > max_chars:
        problem = f"must have at most {max_chars} characters"
    return problem


def normalize_name(text: str, what: str = "name", *, max_chars: int | None = None) -> str:
    """The form a name is stored and compared in: NFKC, whitespace collapsed and trimmed.

    Parameters
    ----------
    text : str
        A name as typed or read from a file.
    what : str
        What the name is of, for the message: ``"name"``, ``"cohort name"``, ...
    max_chars : int, optional
        The most characters the normalized name may have (the width of its database column).

    Returns
    -------
    str
        The name in NFKC, runs of whitespace (spaces, tabs, no-break spaces)
        made one space, no space at either end, variation selectors dropped.
        Calling it again changes nothing.

    Raises
    ------
    ValueError
        With a plain sentence such as ``The name must not contain control
        characters (U+001B ESCAPE).`` when the name is empty, holds a control
        character (Unicode Cc, but for the tab), a line break (``\\n``,
        ``\\r``, U+2028, ...), an invisible character (Unicode Cf, such as
        U+200B ZERO WIDTH SPACE, U+200D ZERO WIDTH JOINER, U+FEFF, the
        bidirectional controls U+202A-U+202E and U+2066-U+2069; or a Hangul
        filler), a lone surrogate, or more than ``max_chars`` characters.

    Examples
    --------
    >>> normalize_name("  ａｌｉｃｅ\\t Smith "), normalize_name("Zoë")
    ('alice Smith', 'Zoë')
    >>> normalize_name("\\x1b[31malice", "rater name")
    Traceback (most recent call last):
    ...
    ValueError: The rater name must not contain control characters (U+001B ESCAPE).
    """
    problem = name_problem(text, max_chars=max_chars)
    if problem is not None:
        raise ValueError(f"The {what} {problem}.")
    return _normal_form(text)[0]


@cache
def _spoof_checker():
    import icu  # ICU's confusables data; imported on first use (10 ms)

    return icu.SpoofChecker()


def _confusable_form(text: str, *, fold_first: bool) -> str:
    """``text`` (normalized, nothing refused) mapped by the confusables data and case-folded,
    folding before or after the first mapping, repeated until nothing changes."""
    current = unicodedata.normalize("NFD", text.casefold() if fold_first else text)
    for _ in range(8):  # one or two rounds: a prototype may be a capital letter
        mapped = unicodedata.normalize("NFD", _spoof_checker().getSkeleton(0, current).casefold())
        if mapped == current:
            break
        current = mapped
    return current


def _visible(text: str) -> str:
    """``text`` normalized as :func:`normalize_name` does, the characters it would refuse left out."""
    name = _normal_form(text)[0]
    return "".join(ch for ch in name if _kind(ch) is None)


def name_skeletons(text: str) -> tuple[str, str]:
    """The two skeletons of a name: two names look alike when either of them is equal.

    A capital ``I`` looks like ``i`` in ``IVAN`` (against ``ivan``) but like
    ``l`` in ``aIice`` (against ``alice``); no one mapping of characters
    catches both. So a name has two skeletons: :func:`name_skeleton`, which
    folds case first (``IVAN``, ``Ivan`` and ``ivan`` share it), and one that
    maps by the confusables data first (``aIice`` and ``alice`` share it).
    Compare first with first and second with second.

    Parameters
    ----------
    text : str
        A name, normalized or not.

    Returns
    -------
    tuple of str
        ``(case first, look first)``, both in NFD; compare them, never show them.

    Examples
    --------
    >>> [name_skeletons(n) for n in ["aIice", "alice", "ALICE"]]
    [('aiice', 'alice'), ('alice', 'alice'), ('alice', 'allce')]
    """
    visible = _visible(text)
    return _confusable_form(visible, fold_first=True), _confusable_form(visible, fold_first=False)


def name_skeleton(text: str) -> str:
    """What a name looks like, whatever its case: equal skeletons mean two names a reader could confuse.

    The name is normalized as by :func:`normalize_name` (characters it would
    refuse are left out here, so any text has a skeleton), case-folded, and
    mapped to its Unicode TR39 skeleton (ICU's confusables data); folding and
    mapping repeat until the text no longer changes. It is the first of
    :func:`name_skeletons`; :func:`lookalike` compares both.

    Parameters
    ----------
    text : str
        A name, normalized or not.

    Returns
    -------
    str
        The skeleton, in NFD. Compare skeletons with ``==``; never show one
        (``alice`` and ``a1ice`` both become ``alice``, but ``m`` becomes ``rn``).

    Examples
    --------
    >>> {name_skeleton(n) for n in ["alice", "\u0430lice", "ALICE", "Alice", "a1ice", "ａｌｉｃｅ"]}
    {'alice'}
    >>> len({name_skeleton(n) for n in ["José", "Jose", "Zoë", "李雷", "Ærø"]})
    5
    """
    return _confusable_form(_visible(text), fold_first=True)


def lookalike(name: str, others: Iterable[str]) -> str | None:
    """The first of ``others`` that ``name`` could pass for: another name that looks like it.

    Parameters
    ----------
    name : str
        A new name (for example one asking to join a cohort).
    others : iterable of str
        The names already taken (for example the cohort's raters).

    Returns
    -------
    str or None
        The first name of ``others`` that shares either of ``name``'s
        :func:`name_skeletons` (first with first, second with second) while
        its normalized form differs; None when there is none. A name equal to
        ``name`` once normalized is the same name, not a look-alike.

    Examples
    --------
    >>> lookalike("\u0430lice", ["bob", "alice"]), lookalike("aIice", ["alice"])
    ('alice', 'alice')
    >>> lookalike("alice", ["alice"]) is None
    True
    """
    mine, keys = _normal_form(name)[0], name_skeletons(name)
    for other in others:
        theirs = name_skeletons(other)
        if (keys[0] == theirs[0] or keys[1] == theirs[1]) and _normal_form(other)[0] != mine:
            return other
    return None


_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(ch: str) -> str:
    if ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _shown_as_is(ch: str) -> bool:
    if ch.isprintable() or ch == " ":
        return _INVISIBLE.match(ch) is None
    return unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp")


def printable(text: str, *, keep: str = "") -> str:
    """``text`` safe for a terminal or a log: control, formatting and separator characters escaped.

    Parameters
    ----------
    text : str
        Any text, for example a message quoting a name.
    keep : str
        Characters to leave as they are, for example ``"\\n"`` for text of several lines.

    Returns
    -------
    str
        ``text`` with every control character (Unicode Cc), formatting
        character (Cf: zero-width, bidirectional), line or paragraph separator,
        lone surrogate and blank letter (Hangul fillers) written as a Python
        escape: ``\\x1b``, ``\\u200b``, ``\\U000e0041`` (``\\n``, ``\\r``, ``\\t`` for
        line feed, carriage return and tab). Other text, accents and
        scripts included, is unchanged. The escapes are for reading; they are
        not undone.

    Examples
    --------
    >>> printable("\\x1b[31malice\\u202e"), printable("José\\n李雷", keep="\\n")
    ('\\\\x1b[31malice\\\\u202e', 'José\\n李雷')
    """
    if keep:
        if not any(k in text for k in keep):
            return printable(text)
        pattern = "(" + "|".join(re.escape(k) for k in keep) + ")"
        return "".join(part if part and part in keep else printable(part) for part in re.split(pattern, text))
    if text.isprintable() and not _INVISIBLE.search(text):
        return text
    return "".join(ch if _shown_as_is(ch) else _escape(ch) for ch in text)


class PrintableWriter(io.TextIOBase):
    """A text stream that writes :func:`printable` ``(text, keep="\\n")`` to the stream it wraps.

    Parameters
    ----------
    stream : TextIO
        Where the text goes, for example ``sys.stderr``.
    """

    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, text: str) -> int:
        """Write ``text`` with its control and formatting characters escaped.

        Parameters
        ----------
        text : str
            The text.

        Returns
        -------
        int
            ``len(text)``, as a text stream reports what it was given.
        """
        self._stream.write(printable(text, keep="\n"))
        return len(text)

    def flush(self) -> None:
        """Flush the wrapped stream."""
        self._stream.flush()

    def writable(self) -> bool:
        """True: the stream is written to."""
        return True

    def isatty(self) -> bool:
        """Whether the wrapped stream is a terminal."""
        return self._stream.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        """The wrapped stream's encoding."""
        return getattr(self._stream, "encoding", None) or "utf-8"


@contextlib.contextmanager
def printable_output() -> Iterator[None]:
    """Within the block, everything printed to standard output and error goes through :func:`printable`.

    A command line wraps its work in it, so that no name, file name or cell it
    quotes can send a terminal an escape sequence; line ends stay line ends.

    Yields
    ------
    None
        ``sys.stdout`` and ``sys.stderr`` are :class:`PrintableWriter` until the block ends.
    """
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = PrintableWriter(out), PrintableWriter(err)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = out, err
