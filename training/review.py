"""A rater's past answers to review: the pairs they missed (or all of them), newest first, filtered.

Pure functions of a rater's prepared judgments (:func:`calibration.data.prepare`,
first answers only, as My report reads them, over one or several banks joined by
:func:`calibration.data.across_banks`). A pair is *missed* when the answer
disagrees with the experts' majority on a decided pair (``correct == 0``), so a
tie answer on a decided pair is missed and a side picked on a gold tie is not.
The gold is the bank's gold as it is now: a pair the lead re-scored as right is
no longer missed.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

__all__ = ["PAGE_SIZE", "Review", "review", "trap_kinds"]

#: Answers shown on one page of the review.
PAGE_SIZE = 10


@dataclass(frozen=True)
class Review:
    """One page of a rater's review.

    ``rows`` are the page's answers, newest first (the prepared columns, with
    ``missed``); ``answered`` and ``missed`` count the answers that pass the
    trap-kind and date filters; ``listed`` counts the answers listed over all
    pages (the missed ones, or all); ``pages`` is at least 1 and ``page`` the
    page shown, within 1..pages.
    """

    rows: pd.DataFrame
    answered: int
    missed: int
    listed: int
    page: int
    pages: int


def _tags(value: object) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, (tuple, list, np.ndarray)) else ()


def trap_kinds(prepared: pd.DataFrame) -> list[str]:
    """The trap kinds (tags) of the pairs a rater answered, sorted.

    Parameters
    ----------
    prepared : DataFrame
        The rater's prepared judgments (column ``tags``).

    Returns
    -------
    list of str

    Examples
    --------
    >>> trap_kinds(pd.DataFrame({"tags": [("length",), ("polish", "length"), ()]}))
    ['length', 'polish']
    """
    if "tags" not in prepared:
        return []
    return sorted({tag for tags in prepared["tags"] for tag in _tags(tags)})


def review(
    prepared: pd.DataFrame,
    *,
    missed_only: bool = True,
    kinds: Collection[str] = (),
    start: date | None = None,
    end: date | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> Review:
    """The answers to review: filtered, newest first, one page of them.

    Parameters
    ----------
    prepared : DataFrame
        The rater's prepared judgments (``answered_at``, ``correct``, ``tags``).
    missed_only : bool, default True
        List only the missed answers; False lists every answer.
    kinds : collection of str, optional
        Keep the pairs carrying at least one of these trap kinds; empty keeps all.
    start, end : date, optional
        Keep answers given on these UTC days (inclusive); an answer whose time
        is unknown is kept only when neither is given.
    page : int, default 1
        The page wanted; clipped to the pages there are.
    page_size : int, default :data:`PAGE_SIZE`
        Answers per page.

    Returns
    -------
    Review

    Examples
    --------
    >>> j = pd.DataFrame({"pair_id": ["p", "q", "r"], "correct": [0.0, 1.0, np.nan],
    ...     "tags": [("length",), ("polish",), ()],
    ...     "answered_at": pd.to_datetime(["2026-01-01", "2026-01-03", "2026-01-02"], utc=True)})
    >>> found = review(j)
    >>> found.rows["pair_id"].tolist(), found.missed, found.answered
    (['p'], 1, 3)
    >>> review(j, missed_only=False).rows["pair_id"].tolist()
    ['q', 'r', 'p']
    """
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1; got {page_size!r}.")
    frame = prepared.assign(missed=pd.to_numeric(prepared["correct"], errors="coerce").eq(0.0).to_numpy())
    keep = np.ones(len(frame), dtype=bool)
    wanted = set(kinds)
    if wanted:
        keep &= np.array([bool(wanted & set(_tags(t))) for t in frame["tags"]], dtype=bool)
    if start is not None or end is not None:
        day = pd.to_datetime(frame["answered_at"], utc=True, errors="coerce").dt.date
        known = day.notna().to_numpy()
        keep &= known
        if start is not None:
            keep &= np.array([d is not None and d == d and d >= start for d in day], dtype=bool)
        if end is not None:
            keep &= np.array([d is not None and d == d and d <= end for d in day], dtype=bool)
    frame = frame[keep]
    answered, missed = len(frame), int(frame["missed"].sum())
    if missed_only:
        frame = frame[frame["missed"].to_numpy(dtype=bool)]
    when = pd.to_datetime(frame["answered_at"], utc=True, errors="coerce")
    stamp = when.to_numpy(dtype="datetime64[ns]").astype("int64")
    # newest first; unknown times last; among equal times the later row first
    order = np.lexsort((-np.arange(len(frame)), -stamp, when.isna().to_numpy()))
    frame = frame.iloc[order]
    pages = max(1, math.ceil(len(frame) / page_size))
    page = min(max(1, int(page)), pages)
    rows = frame.iloc[(page - 1) * page_size : page * page_size].reset_index(drop=True)
    return Review(rows=rows, answered=answered, missed=missed, listed=len(frame), page=page, pages=pages)
