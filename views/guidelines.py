"""A cohort's guidelines on the drill page: read from the database at most once a minute per server."""

from __future__ import annotations

from typing import Any

import streamlit as st

from pairs.markdown import escape_markdown
from training import cohort
from training.guidelines import section_for
from views.common import get_store
from views.rich_text import show_markdown

FRESH_SECONDS = 60
"""How long a server shows guidelines it has read before reading them again (the lead's own server
forgets them at once when they are saved)."""


@st.cache_data(show_spinner=False, ttl=FRESH_SECONDS, max_entries=256)
def cohort_guidelines(cohort_id: int) -> dict[str, Any] | None:
    """:func:`training.cohort.guidelines` of the cohort, kept for :data:`FRESH_SECONDS`.

    The drill page runs on every answer; the guidelines change seldom.
    """
    return cohort.guidelines(get_store(), cohort_id)


def show_guidelines(cohort_id: int) -> None:
    """An expander "Guidelines" with the cohort's guidelines rendered, if it has any."""
    rules = cohort_guidelines(cohort_id)
    if rules:
        with st.expander("Guidelines"):
            show_markdown(rules["text"])


def show_guideline_section(cohort_id: int, tags: tuple[str, ...] | list[str]) -> None:
    """After an answer: the section of the cohort's guidelines on the pair's trap, in an expander.

    Its label reads "Your cohort's guidelines on this: HEADING"; nothing is drawn
    when the guidelines have no section whose heading names one of ``tags``.
    """
    rules = cohort_guidelines(cohort_id)
    section = section_for(rules["text"], list(tags)) if rules and tags else None
    if section is not None:
        with st.expander(f"Your cohort's guidelines on this: {escape_markdown(section.heading)}"):
            show_markdown(section.text)
