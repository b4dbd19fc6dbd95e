"""Which banks a page's figures cover: every bank the cohort answered by default, or one, by a filter.

A cohort that switches its drill bank keeps its history: the leaderboard, My
report and the lead console count the judgments on every bank the cohort
answered (:func:`training.cohort.figure_banks`), and say so. Pair ids are then
``BANK / ID`` (:func:`calibration.data.across_banks`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from calibration import tracks
from calibration.data import BANK_SEPARATOR, across_banks
from calibration.render import covers_text
from pairs.markdown import escape_markdown
from views.common import load_bank

ALL = "All banks"


def choose_banks(covered: Sequence[str], drill_bank: str | None, *, key: str) -> tuple[str, ...]:
    """A "Figures cover" filter when the cohort answered more than one bank; the banks chosen.

    Parameters
    ----------
    covered : sequence of str
        :func:`training.cohort.figure_banks` of the cohort.
    drill_bank : str or None
        The bank the cohort drills on now (named as such in the filter).
    key : str
        Widget key (the choice stays across reruns).

    Returns
    -------
    tuple of str
        Every covered bank (the default), or the one picked.
    """
    covered = tuple(covered)
    if len(covered) <= 1:
        return covered
    options = [ALL, *covered]
    picked = st.selectbox(
        "Figures cover",
        options,
        key=key,
        format_func=lambda b: (
            f"All {len(covered)} banks the cohort answered"
            if b == ALL
            else f"{b} (drilled on now)"
            if b == drill_bank
            else b
        ),
        help="Judgments on a bank the cohort no longer drills on still count, unless you pick one bank.",
    )
    return covered if picked == ALL or picked not in covered else (picked,)


def covers_sentence(banks: Sequence[str], judgments: int) -> str:
    """What a page's figures cover, in words, Markdown-safe (:func:`calibration.render.covers_text`).

    Parameters
    ----------
    banks : sequence of str
        The banks covered.
    judgments : int
        The judgments counted.

    Returns
    -------
    str
        E.g. "Covers 2 banks (starter, llmbar): 2,892 judgments."
    """
    return covers_text({"covers": covers(banks, judgments)}, quote=escape_markdown)


def covers(banks: Sequence[str], judgments: int) -> dict:
    """The ``covers`` object an exported report carries: ``{"banks": [...], "judgments": n}``."""
    return {"banks": list(banks), "judgments": int(judgments)}


def judgments_for_csv(prepared: pd.DataFrame, banks: Sequence[str]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The covered judgments for :func:`pairs.judgments.to_csv`: the frame, and its leading columns.

    Over several banks a leading ``bank`` column names each row's bank and the
    row carries its pair's own id (not ``BANK / ID``), so that the rows of one
    bank load with that bank's file in ``python -m calibration``.
    """
    frame = prepared.sort_values("answered_at", kind="stable")  # oldest first
    if len(banks) <= 1:
        return frame, ()
    own = [p[len(b) + len(BANK_SEPARATOR) :] for b, p in zip(frame["bank"], frame["pair_id"], strict=True)]
    return frame.assign(pair_id=own), ("bank",)


def bank_domains(banks: Sequence[str]) -> pd.Series | None:
    """The domain (track) of each pair of ``banks``, by pair id as the covered judgments name it.

    None when no pair has a domain (:func:`calibration.tracks.bank_domains`): no track figures.
    """
    from views.common import get_store

    store = get_store()
    parts = {b: load_bank(b, store.bank_revision(b))[["id", "domain"]] for b in banks}
    return tracks.bank_domains(across_banks(parts, column="id"))
