"""Safe rendering of pair text and names, checked against a CommonMark renderer (markdown-it-py).

Streamlit renders Markdown with raw HTML off; markdown-it-py with ``html=False``
does the same, so "no ``<img`` in its output" means the browser has nothing to
fetch. The browser itself is tested in ``test_browser.py``.
"""

from __future__ import annotations

import html

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from pairs.markdown import escape_markdown, safe_markdown

RENDER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).render

TOKENS = [
    "![", "]", "[", "(", ")", "http://evil.example/x.png", "<", ">", "`", "```", "~~~", "\n", "\n\n",
    "    ", "> ", "- ", "*", "_", "\\", '"', " ", "alt", "ref", "]:", "[r]: http://evil.example/r.png\n",
    "<img src=http://evil.example/i.png>", "!", "#", "|", "$", ":", "=",
]  # fmt: skip
markdownish = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)


@pytest.mark.parametrize(
    "text",
    [
        "![a](http://evil.example/y.png)",
        "![](//evil.example/protocol-relative.png)",
        '![a](http://evil.example/x "title")',
        "![a](<http://evil.example/x y>)",
        "![a](b(c)d)",
        "![a [b] c](http://evil.example/nested)",
        "![a][r]\n\n[r]: http://evil.example/ref",
        "![r]\n\n[r]: http://evil.example/shortcut",
        "![r][]\n\n[r]: http://evil.example/collapsed",
        "> quoted ![q](http://evil.example/q)",
        "- item ![i](http://evil.example/i)",
        "| a | b |\n|---|---|\n| ![t](http://evil.example/t) | x |",
        "<img src=http://evil.example/raw.png>",
        "[![badge](http://evil.example/b.svg)](http://evil.example)",
    ],
)
def test_no_image_survives(text):
    out = RENDER(safe_markdown(text))
    assert "<img" not in out
    assert "evil.example/" not in out or "<a href" in out or "http://evil.example" in html.unescape(out)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(markdownish)
def test_no_image_survives_any_mix_of_markdown(text):
    assert "<img" not in RENDER(safe_markdown(text))


def test_images_become_a_readable_note():
    assert RENDER(safe_markdown("see ![the chart](http://evil.example/c.png)")) == (
        "<p>see [image: the chart]</p>\n"
    )
    assert RENDER(safe_markdown("![](http://evil.example/c.png)")) == "<p>[image: no description]</p>\n"


@pytest.mark.parametrize(
    "text",
    [
        "```\n![kept](http://evil.example/k.png)\n```",
        "~~~md\n![kept](x)\n~~~",
        "use `![alt](url)` for images",
        "``a ` ![b](c) ``",
    ],
)
def test_code_is_left_as_written(text):
    assert safe_markdown(text) == text


def test_markdown_without_images_is_unchanged():
    text = "# Title\n\n**bold**, [a link](http://example.org), `code`, <b>tags</b>\n\n- one\n- two\n"
    assert safe_markdown(text) == text


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.one_of(markdownish, st.text(st.characters(exclude_categories=("C",)), max_size=60)))
def test_escaped_names_show_exactly_as_written(name):
    """A name (no control characters, as training.accounts requires) renders as its own characters."""
    name = " ".join(name.split())
    note(repr(name))  # names are one line, trimmed (training.accounts)
    out = RENDER(escape_markdown(name))
    assert "<img" not in out and "<a " not in out and "<em>" not in out and "<strong>" not in out
    if name:
        shown = html.unescape(out.removeprefix("<p>").removesuffix("</p>\n"))
        assert shown == name


@pytest.mark.parametrize(
    "name", ["&amp;", "&#x41;", "*bo*", "![x](http://evil.example/n.png)", ":red[bo]", "$x$"]
)
def test_escaped_names_examples(name):
    assert html.unescape(RENDER(escape_markdown(name))) == f"<p>{name}</p>\n"
