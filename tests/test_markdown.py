"""Pair text, rationales, tags and names as HTML that loads nothing (``pairs.markdown``, ``views.rich_text``).

The output is read back with Python's HTML parser, as a browser would read
it: every tag and attribute is checked against what may appear, so "nothing
is fetched" does not depend on spotting ``<img`` in a string. The pages are
tested in a real browser in ``test_browser_markdown.py``.
"""

from __future__ import annotations

import ast
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from pairs.bank import STARTER_BANK_PATH
from pairs.markdown import ALLOWED_SCHEMES, ALLOWED_TAGS, LINK_REL, escape_markdown, markdown_to_html

ROOT = Path(__file__).resolve().parent.parent
EVIL = "http://evil.example"

ATTRIBUTES = {"a": {"href", "title", "target", "rel"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
"""Every attribute the HTML may have, by tag; no other tag has any."""


class Parsed(HTMLParser):
    """Tags, attributes and text of an HTML fragment, as the browser's parser sees them."""

    def __init__(self, fragment: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.link_texts: list[list[str | None]] = []  # [href, text] of each link
        self._in_link = False
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "a":
            self.link_texts.append([dict(attrs).get("href"), ""])
            self._in_link = True

    def handle_endtag(self, tag):
        if tag == "a":
            self._in_link = False

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)
        if self._in_link:
            self.link_texts[-1][1] = f"{self.link_texts[-1][1]}{data}"

    def handle_comment(self, data):
        self.tags.append(("!--", {}))

    def handle_decl(self, decl):
        self.tags.append(("!", {}))

    def handle_pi(self, data):
        self.tags.append(("?", {}))

    @property
    def links(self) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.tags if tag == "a"]

    @property
    def visible(self) -> str:
        return "".join(self.text)


def check_loads_nothing(out: str) -> Parsed:
    """Assert that ``out`` holds only allowed tags and attributes, and links only to allowed schemes."""
    parsed = Parsed(out)
    for tag, attrs in parsed.tags:
        assert tag in ALLOWED_TAGS, f"<{tag}> in {out!r}"
        assert set(attrs) <= ATTRIBUTES.get(tag, set()), f"<{tag} {attrs}> in {out!r}"
        for value in attrs.values():
            assert "url(" not in (value or "").lower()
    for attrs in parsed.links:
        href = attrs.get("href")
        if href is not None:
            scheme = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", href)
            assert scheme and scheme.group(1).lower() in ALLOWED_SCHEMES, href
        assert attrs["rel"] == LINK_REL and attrs["target"] == "_blank"
    return parsed


def image_links(out: str) -> list[tuple[str | None, str | None]]:
    """The links in ``out`` whose text is an ``[image: ...]`` note: (URL, text)."""
    return [(href, text) for href, text in Parsed(out).link_texts if (text or "").startswith("[image:")]


# --------------------------------------------------------------------------- the bypasses


@pytest.mark.parametrize(
    "text",
    [
        # the two bypasses of the regular expressions: a backslash-escaped backtick
        # before the image (with a later backtick that looked like the end of a code span) ...
        f"a \\` b ![x]({EVIL}/escaped-backtick.png) c `",
        f"\\`![x]({EVIL}/escaped-backtick.png)`",
        # ... and a fence whose info string holds a backtick, which is no fence at all
        f"```py`\n![x]({EVIL}/fence-info.png)\n```",
        f"```a`b\n![x]({EVIL}/fence-info.png)\n```",
    ],
)
def test_the_known_bypasses_show_a_link_not_an_image(text):
    out = markdown_to_html(text)
    check_loads_nothing(out)
    assert "<img" not in out
    assert [url for url, _ in image_links(out)] == [f"{EVIL}/{text.split(EVIL + '/')[1].split(')')[0]}"]


@pytest.mark.parametrize(
    ("text", "note"),
    [
        (f"![a]({EVIL}/y.png)", "[image: a]"),
        (f"![]({EVIL}/empty-alt.png)", "[image: no description]"),
        (f'![a]({EVIL}/x "title")', "[image: a]"),
        (f"![a](<{EVIL}/x y>)", "[image: a]"),
        (f"![a [b] c]({EVIL}/nested-brackets)", "[image: a [b] c]"),
        (f"![*bold* alt]({EVIL}/formatted-alt)", "[image: bold alt]"),
        (f"![a][r]\n\n[r]: {EVIL}/full-reference", "[image: a]"),
        (f"![r][]\n\n[r]: {EVIL}/collapsed-reference", "[image: r]"),
        (f"![r]\n\n[r]: {EVIL}/shortcut-reference", "[image: r]"),
        (f"![R]\n\n[r]: {EVIL}/case-folded-reference", "[image: R]"),
        (f"> quoted ![q]({EVIL}/q)", "[image: q]"),
        (f"- item ![i]({EVIL}/i)", "[image: i]"),
        (f"| a | b |\n|---|---|\n| ![t]({EVIL}/t) | x |", "[image: t]"),
        (f"# heading ![h]({EVIL}/h)", "[image: h]"),
        (f"**![b]({EVIL}/b)**", "[image: b]"),
    ],
)
def test_every_form_of_image_becomes_a_text_link(text, note):
    out = markdown_to_html(text)
    check_loads_nothing(out)
    ((url, shown),) = image_links(out)
    assert shown == note and url is not None and url.startswith(EVIL)


def test_an_image_inside_a_link_is_text_in_that_link():
    out = markdown_to_html(f"[![badge]({EVIL}/badge.svg)]({EVIL}/project)")
    parsed = check_loads_nothing(out)
    assert [a["href"] for a in parsed.links] == [f"{EVIL}/project"]  # one link, no link in a link
    assert parsed.visible == "[image: badge]"


@pytest.mark.parametrize(
    "text",
    [
        f"<img src={EVIL}/raw.png>",
        f'<img src="x" onerror="fetch(\'{EVIL}/onerror\')">',
        f'<img srcset="{EVIL}/1x.png 1x">',
        f"<picture><source srcset={EVIL}/p.png></picture>",
        f'<iframe src="{EVIL}/frame"></iframe>',
        "<script>window.__pwned = 1</script>",
        f"<style>body{{background:url({EVIL}/bg.png)}}</style>",
        f'<div style="background:url({EVIL}/inline.png)">styled</div>',
        f"<link rel=stylesheet href={EVIL}/s.css>",
        f'<video src="{EVIL}/v.mp4" autoplay></video>',
        f'<svg><image href="{EVIL}/svg.png"/></svg>',
        f'<object data="{EVIL}/o"></object>',
        f'<a href="{EVIL}/a">an anchor</a>',
        "<!-- a comment -->",
        f"text <img src={EVIL}/inline-html.png> inline",
    ],
)
def test_raw_html_is_shown_as_text(text):
    out = markdown_to_html(text)
    parsed = check_loads_nothing(out)
    assert [tag for tag, _ in parsed.tags] == ["p"]
    assert parsed.visible == text.strip()


@pytest.mark.parametrize(
    "text",
    [
        "![x](data:image/png;base64,iVBORw0KGgo=)",
        "![x](DATA:image/svg+xml,<svg/>)",
        "[x](data:text/html,<script>alert(1)</script>)",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](vbscript:msgbox)",
        "[x](file:///etc/passwd)",
        "[x](//evil.example/protocol-relative)",
        "![x](//evil.example/protocol-relative.png)",
        "[x](/_stcore/health)",
        "[x](relative/path)",
        "[x](#fragment)",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(1)",
        "![x][r]\n\n[r]: data:image/png;base64,AAAA",
    ],
)
def test_links_to_anything_but_http_https_or_mailto_stay_text(text):
    out = markdown_to_html(text)
    parsed = check_loads_nothing(out)
    assert parsed.links == [] and "<img" not in out


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("[docs](https://example.org/docs)", "https://example.org/docs"),
        ("<http://example.org/autolink>", "http://example.org/autolink"),
        ("<HTTPS://EXAMPLE.ORG/UPPER>", "HTTPS://EXAMPLE.ORG/UPPER"),
        ("<ana@example.org>", "mailto:ana@example.org"),
        ("[mail](mailto:ana@example.org)", "mailto:ana@example.org"),
        ("[ref][r]\n\n[r]: https://example.org/ref", "https://example.org/ref"),
        ("[space](<https://example.org/a b>)", "https://example.org/a%20b"),
    ],
)
def test_http_https_and_mailto_links_stay_links_that_open_apart(text, href):
    parsed = check_loads_nothing(markdown_to_html(text))
    assert [a["href"] for a in parsed.links] == [href]
    assert parsed.links[0]["rel"] == "noopener noreferrer nofollow"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (f"```\n![kept]({EVIL}/k.png)\n```", f"![kept]({EVIL}/k.png)\n"),
        (f"~~~md\n![kept]({EVIL}/k.png)\n~~~", f"![kept]({EVIL}/k.png)\n"),
        (f"````\n```\n![nested]({EVIL}/n.png)\n```\n````", f"```\n![nested]({EVIL}/n.png)\n```\n"),
        (f"~~~\n```\n![x]({EVIL}/x)\n~~~", f"```\n![x]({EVIL}/x)\n"),
        (f"    ![indented]({EVIL}/i.png)", f"![indented]({EVIL}/i.png)\n"),
        ("use `![alt](url)` for images", "![alt](url)"),
        ("``a ` ![b](c) ``", "a ` ![b](c) "),
        ("```\n<script>alert(1)</script>\n```", "<script>alert(1)</script>\n"),
    ],
)
def test_code_is_shown_as_written(text, code):
    out = markdown_to_html(text)
    check_loads_nothing(out)
    assert re.search(r"<code>(.*?)</code>", out, re.DOTALL)[1] == html.escape(code, quote=False)


def test_an_unclosed_fence_runs_to_the_end_as_code():
    out = markdown_to_html(f"```\n![x]({EVIL}/x.png)\n\nmore")
    assert check_loads_nothing(out).links == []
    assert out.startswith("<pre><code>") and "more" in out


# --------------------------------------------------------------------------- formatting kept


def test_the_formatting_responses_use_is_rendered():
    text = (
        "# Title\n\n## Part\n\nSome **bold**, *italic*, ~~struck~~ and `code` 🎉 ✅\n\n"
        "1. one\n2. two\n\n- a\n- b\n\n> quoted\n\n"
        "```python\nprint('hi')  # 👋\n```\n\n"
        "| name | n |\n| :--- | ---: |\n| a | 1 |\n\n---\n\nend  \nnew line"
    )
    out = markdown_to_html(text)
    parsed = check_loads_nothing(out)
    tags = [tag for tag, _ in parsed.tags]
    for tag in ("h1", "h2", "strong", "em", "s", "code", "ol", "ul", "li", "blockquote", "pre"):
        assert tag in tags, tag
    for tag in ("table", "thead", "tbody", "th", "td", "hr", "br"):
        assert tag in tags, tag
    assert ("th", {"align": "left"}) in parsed.tags and ("td", {"align": "right"}) in parsed.tags
    assert "🎉 ✅" in out and "print('hi')  # 👋" in out


def test_a_list_keeps_its_first_number():
    assert ("ol", {"start": "3"}) in check_loads_nothing(markdown_to_html("3. three\n4. four")).tags


def test_dollar_signs_are_money_not_mathematics():
    """Streamlit's Markdown read "$1.10 - $0.05" as a formula; here it is text."""
    assert markdown_to_html("costs $1.10 - $0.05 = $1.05") == "<p>costs $1.10 - $0.05 = $1.05</p>"


def _starter_texts() -> list[str]:
    rows = [json.loads(line) for line in STARTER_BANK_PATH.read_text().splitlines() if line.strip()]
    return [r[k] for r in rows for k in ("prompt", "response_a", "response_b", "rationale")]


def test_the_starter_bank_renders_with_its_formatting_and_every_character():
    texts = _starter_texts()
    found: set[str] = set()
    for text in texts:
        out = markdown_to_html(text)
        parsed = check_loads_nothing(out)
        found |= {tag for tag, _ in parsed.tags}
        # every letter, digit and emoji of the text is on the page (Markdown only removes ASCII
        # marks), but for a code block's language name and the numbers of a numbered list
        shown = re.sub(r"^ {0,3}(```|~~~)[^\n]*|^ *\d+[.)] ", "", text, flags=re.MULTILINE)
        wanted = {c for c in shown if not c.isascii()} | set(re.findall(r"[A-Za-z0-9]", shown))
        assert wanted <= set(parsed.visible) | set(" "), (text[:80], wanted - set(parsed.visible))
    assert {"h2", "strong", "ul", "ol", "pre", "code", "table", "th", "td"} <= found


# --------------------------------------------------------------------------- names and tags


names = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(names)
@example(f"![n]({EVIL}/name.png)")
@example("<img src=x onerror=alert(1)>")
@example("&amp; &#x41; **bold** :red[x] $x$ \\`")
def test_a_literal_name_shows_exactly_as_written(name):
    out = markdown_to_html(name, literal=True)
    note(out)
    parsed = check_loads_nothing(out)
    if not name.strip():
        assert out == ""
        return
    lines = name.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    assert [tag for tag, _ in parsed.tags] == ["p"] + ["br"] * (len(lines) - 1)
    assert parsed.visible == "".join(lines)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(st.characters(exclude_categories=("C",)), max_size=60).map(lambda s: " ".join(s.split())))
def test_escaped_names_show_exactly_as_written_in_markdown(name):
    """For the Streamlit elements that take only Markdown (titles, alerts, labels); names have no
    control characters and are one trimmed line (training.accounts)."""
    render = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).render
    out = render(escape_markdown(name))
    assert "<img" not in out and "<a " not in out and "<em>" not in out and "<strong>" not in out
    if name:
        assert html.unescape(out.removeprefix("<p>").removesuffix("</p>\n")) == name


def test_nothing_at_all_is_nothing():
    assert markdown_to_html("") == markdown_to_html("  \n ") == markdown_to_html(None) == ""
    assert markdown_to_html(float("nan")) == "" and markdown_to_html(3) == "<p>3</p>"


# --------------------------------------------------------------------------- fuzz

URL_PIECES = [
    f"{EVIL}/x.png", "//evil.example/x", "data:image/png;base64,AA", "javascript:alert(1)",
    "mailto:a@b.example", "https://ok.example/p", "/relative", "&#58;", "%6a", "java\nscript:",
]  # fmt: skip
TOKENS = [
    "![", "]", "[", "(", ")", "<", ">", "`", "``", "```", "~~~", "\n", "\n\n", "    ", "> ", "- ", "1. ",
    "*", "**", "_", "\\", '"', "'", " ", "alt", "]:", "[r]: ", "![r]", "[r]", "!", "#", "|", "|---|", "$",
    ":", "=", "&", "&#33;", "&lt;", "img", "<img src=", "<svg onload=", "<style>", "</style>", "url(",
    "srcset=", "src=", " onerror=", "<a href=", "<iframe ", "<!--", "-->", "<![CDATA[", "\t", "\u00a0",
    "😀", "é", "\x00", "\r",
    *URL_PIECES,
]  # fmt: skip
markdownish = st.lists(st.sampled_from(TOKENS), max_size=50).map("".join)
anything = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(st.one_of(markdownish, anything, st.tuples(markdownish, anything, markdownish).map("".join)))
@example(f"\\`![x]({EVIL}/a.png)`")
@example(f"```a`b\n![x]({EVIL}/b.png)\n```")
@example("[![x](javascript:alert(1))](data:text/html,x)")
def test_no_mix_of_markdown_and_html_loads_anything_or_links_elsewhere(text):
    """Whatever the text: only allowed tags, no src/srcset/style/class/on* attribute, no style sheet,
    every link to http, https or mailto with its rel, and every image a text note."""
    out = markdown_to_html(text)
    note(out)
    check_loads_nothing(out)
    assert markdown_to_html(text) == out  # the same text always gives the same HTML


# --------------------------------------------------------------------------- the pages


DRAWING = {"markdown", "write", "caption", "text", "title", "header", "subheader", "code", "latex"}
DRAWING |= {"success", "info", "warning", "error", "toast", "expander", "popover", "tabs"}
UNTRUSTED = {"prompt", "response_a", "response_b", "rationale", "tags"}


def _untrusted_parts(node: ast.AST) -> list[str]:
    """Pair fields named in ``node``: ``pair["prompt"]``, ``feedback.rationale``, ``row.tags``..."""
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Subscript) and isinstance(sub.slice, ast.Constant):
            if str(sub.slice.value) in UNTRUSTED:
                found.append(ast.unparse(sub))
        elif isinstance(sub, ast.Attribute) and sub.attr in UNTRUSTED:
            found.append(ast.unparse(sub))
        elif isinstance(sub, ast.JoinedStr) and any(
            isinstance(v, ast.FormattedValue) and "pair" in ast.unparse(v) for v in sub.values
        ):
            found.append(ast.unparse(sub))
    return found


@pytest.mark.parametrize(
    "path", [ROOT / "app.py", *sorted((ROOT / "views").glob("*.py"))], ids=lambda p: p.name
)
def test_pages_draw_pair_text_only_through_the_html_helpers(path):
    """No Streamlit element that renders Markdown is handed a prompt, response, rationale or tag:
    those go through views.rich_text (st.html), where nothing is parsed again. And no page lets
    Streamlit insert raw HTML from Markdown."""
    tree = ast.parse(path.read_text())
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in DRAWING:
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                parts = [p for p in _untrusted_parts(arg) if "escape_markdown(" not in ast.unparse(arg)]
                bad += [f"line {node.lineno}: {name}({p})" for p in parts]
        for keyword in node.keywords:
            if keyword.arg == "unsafe_allow_html":
                bad.append(f"line {node.lineno}: unsafe_allow_html")
    assert bad == []


def test_the_helper_draws_html_that_streamlit_does_not_parse_again():
    from streamlit.testing.v1 import AppTest

    def page():
        import streamlit as st

        from views.rich_text import install_styles, show_literal, show_markdown

        install_styles()
        show_markdown("**Pick** ![chart](http://evil.example/c.png) `x`")
        show_markdown("The reason.", label="Gold: A.")
        show_literal("![n](http://evil.example/n.png) *tag*", label="Trap:")
        show_markdown("")
        show_markdown("Text <b>here</b>", heading="Response <A>")
        st.write("end")

    at = AppTest.from_function(page).run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["end"]  # nothing above went through st.markdown
    drawn = [h.value for h in at.html]
    [styles] = [h for h in drawn if h.startswith("<style>")]  # sent to the event container
    first, second, third, fourth = (h for h in drawn if h != styles)
    assert first.startswith(
        '<div class="paircal-text"><p><strong>Pick</strong> <a href="http://evil.example/c.png"'
    )
    assert first.endswith("[image: chart]</a> <code>x</code></p></div>")
    assert second.startswith('<div class="paircal-text"><p><strong>Gold: A.</strong> The reason.</p></div>')
    assert "<p><strong>Trap:</strong> ![n](http://evil.example/n.png) *tag*</p>" in third
    # a heading is escaped like the text, in the same block, above it
    heading = '<p class="paircal-text-heading">Response &lt;A&gt;</p>'
    assert fourth.startswith(f'<div class="paircal-text">{heading}<p>')
    assert "&lt;b&gt;here" in fourth
    # the style sheet is sent once, on its own, and no block carries a copy
    assert styles.startswith("<style>") and all("<style>" not in h for h in (first, second, third, fourth))
    css = styles.removeprefix("<style>").removesuffix("</style>")
    assert "url(" not in css and "@import" not in css and "<" not in css
