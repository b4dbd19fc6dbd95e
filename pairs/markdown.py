"""Pair text and names made safe to render as Markdown in the browser.

Pair banks come from outside (a lead's upload, a public dataset), and names are
typed by users, so neither is trusted. The app renders Markdown with raw HTML
turned off, which already shows ``<script>``, ``<img onerror=...>`` and the like
as text. What is left is the Markdown a browser acts on by itself:

* images (``![alt](url)``, ``![alt][ref]``, ``![alt]``) are fetched from their
  host as soon as the page is drawn, which leaks who is reading what to
  whoever owns that host: :func:`safe_markdown` turns each into a plain
  ``[image: alt]`` note, outside code, where Markdown does not apply anyway;
* links stay links (a rater has to see what the response offered) but fetch
  nothing until clicked.

Names (cohorts, raters) are shown literally: :func:`escape_markdown` escapes
every character Markdown would act on.
"""

from __future__ import annotations

import re
import string

__all__ = ["escape_markdown", "safe_markdown"]

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
_IMAGE = re.compile(
    r"!\[(?P<alt>[^\[\]\n]*)\]"  # ![alt]
    r"(?:\((?:[^()\n]|\([^()\n]*\))*\)|\[[^\[\]\n]*\])?"  # (url "title") or [ref], or nothing
)
_ASCII_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def escape_markdown(text: str) -> str:
    r"""``text`` escaped so that Markdown shows it exactly as written.

    Every ASCII punctuation character is escaped: CommonMark allows it for all
    of them, and it also stops entities (``&amp;``) and Streamlit's own
    ``:color[...]`` and ``$math$`` syntax.

    Parameters
    ----------
    text : str
        Any text (other values are turned into text first).

    Returns
    -------
    str
        Markdown that renders as ``text``.

    Examples
    --------
    >>> escape_markdown("*bold* ![x](http://h/p.png)")
    '\\*bold\\* \\!\\[x\\]\\(http\\:\\/\\/h\\/p\\.png\\)'
    """
    return _ASCII_PUNCTUATION.sub(r"\\\1", str(text))


def _strip_images(text: str) -> str:
    def note(match: re.Match) -> str:
        return f"\\[image: {match.group('alt').strip() or 'no description'}\\]"

    text = _IMAGE.sub(note, text)
    # Whatever the pattern missed (nested brackets in the alt text, say) loses
    # its "!" before "[", which is what makes it an image.
    return text.replace("![", "!\\[")


def _outside_code(text: str, fn) -> str:
    """Apply ``fn`` to the parts of ``text`` outside fenced code blocks and code spans."""
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None

    def flush() -> None:
        if prose:
            block = "".join(prose)
            pos = 0
            for span in _CODE_SPAN.finditer(block):
                out.append(fn(block[pos : span.start()]))
                out.append(span.group(0))
                pos = span.end()
            out.append(fn(block[pos:]))
            prose.clear()

    for line in text.splitlines(keepends=True):
        opened = _FENCE.match(line)
        if fence is None and opened:
            flush()
            fence = opened.group(1)
            out.append(line)
        elif fence is not None:
            out.append(line)
            stripped = line.strip()
            if stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}:
                fence = None
        else:
            prose.append(line)
    flush()
    return "".join(out)


def safe_markdown(text: str) -> str:
    r"""Markdown as a rater would see it, minus anything that fetches from elsewhere.

    Images become a ``[image: alt]`` note; code (fenced or inline) is left as
    written, since Markdown shows it literally.

    Parameters
    ----------
    text : str
        Markdown from a pair's prompt, response or rationale.

    Returns
    -------
    str
        The same Markdown with no image left to fetch.

    Examples
    --------
    >>> safe_markdown("See ![chart](http://h/c.png) and `![kept](x)`")
    'See \\[image: chart\\] and `![kept](x)`'
    >>> safe_markdown("![ref image][r]\n\n[r]: http://h/r.png")
    '\\[image: ref image\\]\n\n[r]: http://h/r.png'
    """
    return _outside_code(str(text), _strip_images)
