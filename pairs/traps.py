"""Trap kinds read off a pair's texts, for banks imported from formats that carry no tags.

The feedback after a pair names its trap ("the longer answer was not the better
one"), which it reads from the pair's tags. The native formats carry tags an
expert wrote; LLMBar, PandaLM, Chatbot Arena and the other imported formats do
not, so their decided pairs are tagged from the features of :mod:`pairs.features`:

==========  ====================================================================
tag         when
==========  ====================================================================
``length``  one response has at least :data:`~pairs.balance.LENGTH_RATIO` (1.5)
            times the words of the other (the rule of the bank's balance figures)
``polish``  their Markdown counts (headers, list items, bold, code blocks, tables,
            links, emojis) differ by at least :data:`POLISH_MARKS` and the plainer
            response has at most :data:`POLISH_SHARE` of the other's: a plain
            answer beside a formatted one, not two formatted ones
==========  ====================================================================

Ties are not tagged (neither response is the better one to be lured away
from), and tags already on a pair are kept as they are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pairs.balance import LENGTH_RATIO
from pairs.features import bank_text_counts

POLISH_MARKS = 3
"""The least difference in Markdown marks for a ``polish`` trap."""
POLISH_SHARE = 0.5
"""The most marks the plainer response may have for a ``polish`` trap, as a share of the other's."""


def style_traps(bank: pd.DataFrame) -> pd.Series:
    """The trap kinds each pair's texts show: ``length``, ``polish``, both or neither.

    Parameters
    ----------
    bank : DataFrame
        A bank with ``id``, ``response_a``, ``response_b`` and ``gold``.

    Returns
    -------
    Series of tuple of str
        Same index as ``bank``: ``("length",)``, ``("polish",)``,
        ``("length", "polish")`` or ``()``; ``()`` for a tie.

    Examples
    --------
    >>> bank = pd.DataFrame({"id": ["p1", "p2"], "gold": ["A", "B"],
    ...     "response_a": ["Yes.", "## Plan\\n- **one**\\n- two"],
    ...     "response_b": ["Yes, it does so.", "one and two, in that order"]})
    >>> style_traps(bank).tolist()
    [('length',), ('polish',)]
    """
    if bank.empty:
        return pd.Series([], index=bank.index, dtype=object)
    counts = bank_text_counts(bank)
    n = len(bank)
    words_a, words_b = counts[:n, 0], counts[n:, 0]
    marks_a, marks_b = counts[:n, 2:].sum(axis=1), counts[n:, 2:].sum(axis=1)
    decided = bank["gold"].isin(["A", "B"]).to_numpy()
    longer, shorter = np.maximum(words_a, words_b), np.minimum(words_a, words_b)
    length = decided & (longer >= LENGTH_RATIO * shorter) & (longer > shorter)
    more, fewer = np.maximum(marks_a, marks_b), np.minimum(marks_a, marks_b)
    polish = decided & (more - fewer >= POLISH_MARKS) & (fewer <= POLISH_SHARE * more)
    kinds = [("length",) * bool(lt) + ("polish",) * bool(pt) for lt, pt in zip(length, polish, strict=True)]
    return pd.Series(kinds, index=bank.index, dtype=object)


def tag_traps(bank: pd.DataFrame) -> pd.DataFrame:
    """``bank`` with :func:`style_traps` added to each pair's tags (those it has are kept, first).

    Parameters
    ----------
    bank : DataFrame
        A bank (:data:`pairs.bank.COLUMNS`).

    Returns
    -------
    DataFrame
        A copy with ``tags`` extended; ``attrs`` are kept.
    """
    out = bank.copy()
    if bank.empty:
        return out
    out["tags"] = [
        tuple(dict.fromkeys((*tags, *found)))
        for tags, found in zip(bank["tags"], style_traps(bank), strict=True)
    ]
    return out
