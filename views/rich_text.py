"""Pair text, rationales, tags and names on a page: HTML from ``pairs.markdown``, shown as it is.

Every page draws untrusted text through :func:`show_markdown` (or
:func:`show_literal` for names and tags). The HTML comes from
:func:`pairs.markdown.markdown_to_html`, parsed and sanitised on the server,
and goes to ``st.html``, which inserts it without parsing it as Markdown again
(``st.markdown`` would: that second parse is where remote images got through).
A few lines of CSS, scoped to the blocks' class, make them read like
Streamlit's own Markdown in the light and the dark theme; they load nothing.
The router sends them once per run (:func:`install_styles`), not once per
block: each copy of a style sheet costs the browser a restyle of the page.

``st.html`` runs the HTML through DOMPurify in the browser as well; for links
that open in a new tab it sets ``rel="noopener noreferrer"`` itself (dropping
``nofollow``, which only matters to search engines).
"""

from __future__ import annotations

import html
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from pairs.markdown import markdown_to_html

CLASS = "paircal-text"
"""The CSS class of every block drawn here."""

_SHADE = "rgba(151, 166, 195, 0.15)"
_RULE = "rgba(151, 166, 195, 0.35)"
CSS = f"""
.{CLASS} {{ font-size: 1rem; line-height: 1.6; overflow-wrap: anywhere; }}
.{CLASS} > :first-child {{ margin-top: 0; }}
.{CLASS} > :last-child {{ margin-bottom: 0; }}
.{CLASS} p, .{CLASS} ul, .{CLASS} ol, .{CLASS} blockquote, .{CLASS} pre, .{CLASS} table {{
  margin: 0 0 0.75rem 0; }}
.{CLASS} li {{ margin: 0.15rem 0; }}
.{CLASS} li > p {{ margin: 0; }}
.{CLASS} h1, .{CLASS} h2, .{CLASS} h3, .{CLASS} h4, .{CLASS} h5, .{CLASS} h6 {{
  font-weight: 600; line-height: 1.3; margin: 1rem 0 0.5rem 0; padding: 0; scroll-margin: 0; }}
.{CLASS} h1 {{ font-size: 1.5rem; }}
.{CLASS} h2 {{ font-size: 1.3rem; }}
.{CLASS} h3 {{ font-size: 1.15rem; }}
.{CLASS} h4, .{CLASS} h5, .{CLASS} h6 {{ font-size: 1rem; }}
.{CLASS} code {{ font-family: "Source Code Pro", ui-monospace, SFMono-Regular, Menlo, monospace;
  font-size: 0.875em; background: {_SHADE}; border-radius: 0.25rem; padding: 0.1em 0.3em; }}
.{CLASS} pre {{ background: {_SHADE}; border-radius: 0.5rem; padding: 0.75rem 1rem; overflow-x: auto; }}
.{CLASS} pre code {{ background: none; padding: 0; font-size: 0.85rem; white-space: pre; }}
.{CLASS} blockquote {{ border-left: 0.25rem solid {_RULE}; padding: 0 0 0 0.9rem; opacity: 0.9; }}
.{CLASS} table {{ border-collapse: collapse; display: block; max-width: 100%; overflow-x: auto; }}
.{CLASS} th, .{CLASS} td {{ border: 1px solid {_RULE}; padding: 0.3rem 0.6rem; vertical-align: top; }}
.{CLASS} th {{ background: {_SHADE}; font-weight: 600; }}
.{CLASS} hr {{ border: none; border-top: 1px solid {_RULE}; margin: 1rem 0; }}
.{CLASS} a {{ text-decoration: underline; }}
.{CLASS} p.{CLASS}-heading {{ font-size: 0.875rem; opacity: 0.6; margin: 0 0 0.5rem 0; }}
"""
"""Styles for the blocks: headings a step smaller than the page's, code and tables shaded."""


def _draw(body: str, label: str | None, where: DeltaGenerator | None, heading: str | None = None) -> None:
    if heading:  # a small grey line above the text, as st.caption draws it
        body = f'<p class="{CLASS}-heading">{html.escape(heading)}</p>{body}'
    if label:
        bold = f"<strong>{html.escape(label)}</strong> "
        body = "<p>" + bold + body[3:] if body.startswith("<p>") else f"<p>{bold}</p>{body}"
    if not body:
        return
    # The block starts with "<div": st.html never mistakes it for a file name to read.
    (where or st).html(f'<div class="{CLASS}">{body}</div>')


def install_styles() -> None:
    """Send the blocks' style sheet for this run of the page: once, before any block is drawn.

    Style-only HTML goes to Streamlit's event container, so it takes no room on the page.
    """
    st.html(f"<style>{CSS}</style>")


def show_markdown(
    text: Any, *, label: str | None = None, where: DeltaGenerator | None = None, heading: str | None = None
) -> None:
    """Draw untrusted Markdown (a prompt, a response, a rationale): formatted, loading nothing.

    Parameters
    ----------
    text : str
        The Markdown; empty text draws nothing (only the label or heading, if any).
    label : str, optional
        Bold words before the text, on its first line when that is a paragraph.
    where : DeltaGenerator, optional
        The column or container to draw in; by default the current one.
    heading : str, optional
        A small grey line above the text (as ``st.caption`` draws it), in the same block.
    """
    _draw(markdown_to_html(text), label, where, heading)


def show_literal(text: Any, *, label: str | None = None, where: DeltaGenerator | None = None) -> None:
    """Draw a name or a list of tags exactly as written: no Markdown, no HTML effect.

    Parameters
    ----------
    text : str
        The text to show as it is.
    label : str, optional
        Bold words before it, on the same line.
    where : DeltaGenerator, optional
        The column or container to draw in; by default the current one.
    """
    _draw(markdown_to_html(text, literal=True), label, where)


def show_pair_texts(pair, first: object = "A") -> None:
    """A pair's prompt and its two responses as the drill shows them: ``first`` ("A" or "B") on the
    left (on top when stacked), each under its own letter, "Response A" or "Response B", the
    letters the expert's reason uses. Used by the drill, the Review page and onboarding."""
    first = first if first in ("A", "B") else "A"
    st.markdown("**Prompt**")
    with st.container(border=True):
        show_markdown(pair["prompt"])
    for col, letter in zip(st.columns(2), (first, "B" if first == "A" else "A"), strict=True):
        # the letter and the text in one block: one element for the browser to draw, not two
        with col.container(border=True):
            show_markdown(pair[f"response_{letter.lower()}"], heading=f"Response {letter}")
