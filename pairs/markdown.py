"""Pair text, rationales, tags and names turned into HTML that loads nothing from elsewhere.

Pair banks come from outside (a lead's upload, a public dataset) and names are
typed by users, so none of it is trusted. Anything the browser fetches by
itself while drawing a page (an image, a frame, a style sheet, a font) tells
its host who is reading what and when. So the app never hands this text to a
Markdown renderer in the browser: :func:`markdown_to_html` parses it on the
server with a CommonMark parser (markdown-it-py, with GitHub's tables and
strikethrough) and cleans the result with an HTML sanitiser (nh3), and the
views show that HTML as it is (``views.rich_text``), never parsed again.

What comes out:

* headings, paragraphs, emphasis, lists, block quotes, code (fenced, indented
  or inline, shown as written), tables and rules, as in any Markdown viewer;
* images are never drawn: ``![alt](url)``, in any of its forms (inline or
  reference, in a list, a quote, a table or a link), becomes a text link
  ``[image: alt]`` to the image, which fetches nothing until it is clicked;
* links only to ``http``, ``https`` and ``mailto`` URLs, opening in a new tab
  with ``rel="noopener noreferrer nofollow"``; any other link (``javascript:``,
  ``data:``, relative or protocol-relative) stays as the text it was written as;
* raw HTML in the text (``<img>``, ``<script>``, ``<style>``, ``<iframe>``...)
  is shown as text; the output has no ``style`` or ``class`` attribute, no
  ``src`` or ``srcset``, only the tags and attributes listed in this module.

Names (cohorts, raters, tags) are shown literally with ``literal=True``: the
same function, escaped text in a paragraph. :func:`escape_markdown` remains for
the few Streamlit elements that accept nothing but Markdown (page titles,
alerts, expander labels).
"""

from __future__ import annotations

import html
import re
import string
from typing import Any, cast

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

__all__ = ["ALLOWED_SCHEMES", "ALLOWED_TAGS", "LINK_REL", "escape_markdown", "markdown_to_html"]

ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
"""The only URL schemes a link may have; every other link is shown as text."""

ALLOWED_TAGS = frozenset(
    {
        *(f"h{level}" for level in range(1, 7)),
        "p", "br", "hr", "blockquote", "pre", "code", "strong", "em", "s", "del",
        "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
"""Every tag :func:`markdown_to_html` may produce: none of them loads anything by itself."""

LINK_REL = "noopener noreferrer nofollow"
"""The ``rel`` of every link: the page it opens gets no handle on ours and no referrer."""

_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)
_ALIGN = re.compile(r"text-align:\s*(left|center|right)")
_ASCII_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")

_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style"},
    attributes={"a": {"href", "title"}, "ol": {"start"}},
    tag_attribute_values={cell: {"align": {"left", "center", "right"}} for cell in ("th", "td")},
    set_tag_attribute_values={"a": {"target": "_blank"}},
    link_rel=LINK_REL,
    url_schemes=set(ALLOWED_SCHEMES),
    url_relative="deny",
    strip_comments=True,
)


def _allowed_url(url: str) -> bool:
    scheme = _SCHEME.match(url.strip())
    return scheme is not None and scheme.group(1).lower() in ALLOWED_SCHEMES


class _Parser(MarkdownIt):
    """CommonMark with tables and strikethrough; raw HTML off; links and images only to allowed URLs.

    A link or image whose URL is refused is not parsed as one: it stays the
    text it was written as.
    """

    def validateLink(self, url: str) -> bool:  # noqa: N802 (markdown-it's name)
        return _allowed_url(url)


_PARSER = _Parser("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
_RENDERER = cast(RendererHTML, _PARSER.renderer)


def _image_as_link(image: Token, alt: str, *, in_link: bool) -> list[Token]:
    """``![alt](src)`` as the text ``[image: alt]``, a link to ``src`` unless already inside a link."""
    label = Token("text", "", 0, content=f"[image: {alt.strip() or 'no description'}]")
    src = str(image.attrGet("src") or "")
    if in_link or not _allowed_url(src):
        return [label]
    opened = Token("link_open", "a", 1, attrs={"href": src})
    title = image.attrGet("title")
    if title:
        opened.attrSet("title", str(title))
    return [opened, label, Token("link_close", "a", -1)]


def _without_images(children: list[Token], options: Any, env: dict) -> list[Token]:
    out: list[Token] = []
    depth = 0
    for token in children:
        if token.type == "link_open":
            depth += 1
        elif token.type == "link_close":
            depth -= 1
        if token.type == "image":
            alt = _RENDERER.renderInlineAsText(token.children, options, env)
            out += _image_as_link(token, alt, in_link=depth > 0)
        else:
            out.append(token)
    return out


def _rewrite(tokens: list[Token], env: dict) -> None:
    """Images become links (see :func:`_image_as_link`); a table cell's alignment moves from
    ``style`` (which the output never has) to ``align``."""
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _without_images(token.children, _PARSER.options, env)
        elif token.type in ("th_open", "td_open"):
            style = str(token.attrGet("style") or "")
            token.attrs.pop("style", None)
            if align := _ALIGN.search(style):
                token.attrSet("align", align.group(1))


def markdown_to_html(text: Any, *, literal: bool = False) -> str:
    """Markdown (or, with ``literal``, plain text) as HTML that loads nothing from elsewhere.

    The one way the app turns pair text, rationales, tags and names into
    something to show: the result is meant for an element that inserts HTML
    as it is (``st.html``), never for a Markdown renderer.

    Parameters
    ----------
    text : str
        Markdown from a pair's prompt, response or rationale; with ``literal``,
        a name or tag to show exactly as written. ``None`` and NaN are empty
        text; any other value is turned into text first.
    literal : bool, default False
        Show ``text`` as written, with no Markdown effect: one paragraph,
        every character escaped for HTML, line breaks kept.

    Returns
    -------
    str
        An HTML fragment made only of :data:`ALLOWED_TAGS`; its only
        attributes are ``href`` and ``title``, ``target`` and ``rel`` on links
        (``href`` only to :data:`ALLOWED_SCHEMES`), ``start`` on ordered lists
        and ``align`` on table cells. Images are text links, raw HTML is text.
        Empty text gives an empty string.

    Examples
    --------
    >>> markdown_to_html("**Yes**, _as_ `code`")
    '<p><strong>Yes</strong>, <em>as</em> <code>code</code></p>'
    >>> out = markdown_to_html("![the chart](http://h.example/c.png)")
    >>> out.startswith('<p><a href="http://h.example/c.png"'), out.endswith(">[image: the chart]</a></p>")
    (True, True)
    >>> markdown_to_html("<img src=x> `![kept](x)`")
    '<p>&lt;img src=x&gt; <code>![kept](x)</code></p>'
    >>> markdown_to_html("[run](javascript:alert(1))")
    '<p>[run](javascript:alert(1))</p>'
    >>> markdown_to_html("*Ana* <b>", literal=True)
    '<p>*Ana* &lt;b&gt;</p>'
    """
    missing = text is None or (isinstance(text, float) and text != text)  # None or NaN: no text
    source = "" if missing else str(text)
    if not source.strip():
        return ""
    if literal:
        lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return "<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>"
    env: dict = {}
    tokens = _PARSER.parse(source, env)
    _rewrite(tokens, env)
    rendered = _RENDERER.render(tokens, _PARSER.options, env)
    return _CLEANER.clean(rendered).strip()


def escape_markdown(text: str) -> str:
    r"""``text`` escaped so that Markdown shows it exactly as written.

    For the Streamlit elements that take nothing but Markdown (page titles,
    alerts, expander labels): everything else shows text with
    :func:`markdown_to_html`. Every ASCII punctuation character is escaped:
    CommonMark allows it for all of them, and it also stops entities
    (``&amp;``) and Streamlit's own ``:color[...]`` and ``$math$`` syntax, so
    no image, HTML or Markdown link can start. (Streamlit still turns a bare
    ``https://...`` in the text into a link: its GitHub autolinks act on the
    text after escapes. A link fetches nothing until it is clicked.)

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
