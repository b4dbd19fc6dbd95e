"""What a bank contains and whether it is balanced enough to train raters on.

A bank teaches a shortcut when its gold follows surface features: if the longer
or the more polished response is usually gold, a rater who always picks it
scores well without reading. :func:`bank_stats` measures this on the features
of :func:`pairs.features.pair_features`; :func:`balance_problems` checks the
figures against the requirements for the starter bank.

Balance figures (only pairs with a decided gold, ``A`` or ``B``):

``shorter_gold``
    Among pairs whose word counts differ by at least :data:`LENGTH_RATIO` times
    (``max(words) >= 1.5 * min(words)``), the share where the shorter response
    is gold. 0.5 means length tells a rater nothing.
``plainer_gold``
    Among pairs whose polish counts differ (headers, list items, bold, code
    blocks, tables, links, emojis; see :mod:`pairs.features`), the share where
    the less polished response is gold.

Each is a dict ``{"n": pairs measured, "count": pairs where it holds, "share":
count / n}``; ``share`` is NaN when ``n`` is 0.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from pairs.bank import GOLD_VALUES
from pairs.features import pair_features

LENGTH_RATIO = 1.5
"""Word counts must differ by at least this factor for a pair to count in ``shorter_gold``."""
SHARE_RANGE = (0.40, 0.60)
"""Required range (inclusive) for the shorter-gold and plainer-gold shares of the starter bank."""
MIN_TRAPS = 8
"""Required number of pairs per trap kind in the starter bank."""
TRAP_KINDS = ("length", "polish", "constraint", "factual", "control")
"""Trap kinds counted in ``traps`` (``length`` is the verbosity trap)."""


def bank_stats(bank: pd.DataFrame) -> dict[str, Any]:
    """Counts and balance figures of a bank.

    Parameters
    ----------
    bank : DataFrame
        A valid bank (columns of :data:`pairs.bank.COLUMNS`).

    Returns
    -------
    dict
        ``pairs`` (int); ``gold`` (``{"A", "B", "tie"}`` -> count); ``tags``
        (tag -> pairs with it, most frequent first); ``domains`` (domain ->
        pairs, ``""`` for none, most frequent first); ``shorter_gold`` and
        ``plainer_gold`` (see the module docstring); ``traps`` (each of
        :data:`TRAP_KINDS` -> pairs tagged with it, 0 when none).

    Examples
    --------
    >>> bank = pd.DataFrame({
    ...     "id": ["p1", "p2", "p3"],
    ...     "response_a": ["Paris.", "## Answer\\n- **Paris** is the capital", "4"],
    ...     "response_b": ["The capital of France is Paris.", "Paris", "four"],
    ...     "gold": ["A", "B", "tie"],
    ...     "tags": [("length",), ("polish", "length"), ()],
    ...     "domain": ["factual", "factual", "math"],
    ... })
    >>> stats = bank_stats(bank)
    >>> stats["gold"], stats["tags"], stats["traps"]["length"]
    ({'A': 1, 'B': 1, 'tie': 1}, {'length': 2, 'polish': 1}, 2)
    >>> stats["shorter_gold"], stats["plainer_gold"]
    ({'n': 2, 'count': 2, 'share': 1.0}, {'n': 1, 'count': 1, 'share': 1.0})
    """
    gold = bank["gold"].astype(str).to_numpy()
    tags = Counter(tag for row in bank["tags"] for tag in row)
    domains = Counter(bank["domain"].fillna("").astype(str)) if "domain" in bank else Counter()
    stats: dict[str, Any] = {
        "pairs": len(bank),
        "gold": {value: int((gold == value).sum()) for value in GOLD_VALUES},
        "tags": dict(sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))),
        "domains": dict(sorted(domains.items(), key=lambda kv: (-kv[1], kv[0]))),
        "traps": {kind: tags.get(kind, 0) for kind in TRAP_KINDS},
    }
    if len(bank) == 0:
        stats["shorter_gold"] = stats["plainer_gold"] = _share(np.zeros(0, dtype=bool))
        return stats
    features = pair_features(bank)
    decided = gold != "tie"
    words_a, words_b = features["words_a"].to_numpy(), features["words_b"].to_numpy()
    polish_a, polish_b = features["polish_a"].to_numpy(), features["polish_b"].to_numpy()
    length_differs = decided & (words_a != words_b)
    length_differs &= np.maximum(words_a, words_b) >= LENGTH_RATIO * np.minimum(words_a, words_b)
    shorter = np.where(words_a < words_b, "A", "B")
    stats["shorter_gold"] = _share((gold == shorter)[length_differs])
    plainer = np.where(polish_a < polish_b, "A", "B")
    stats["plainer_gold"] = _share((gold == plainer)[decided & (polish_a != polish_b)])
    return stats


def _share(hits: np.ndarray) -> dict[str, Any]:
    n, count = int(hits.size), int(hits.sum())
    return {"n": n, "count": count, "share": count / n if n else math.nan}


def balance_problems(
    stats: dict[str, Any],
    *,
    share_range: tuple[float, float] = SHARE_RANGE,
    min_traps: int = MIN_TRAPS,
) -> list[str]:
    """What in ``stats`` violates the starter-bank requirements; empty when none.

    The requirements: the shorter-gold and plainer-gold shares each within
    ``share_range`` (inclusive; a share that cannot be measured fails), and at
    least ``min_traps`` pairs for each of :data:`TRAP_KINDS`.

    Parameters
    ----------
    stats : dict
        As :func:`bank_stats` returns it.
    share_range : (float, float), default :data:`SHARE_RANGE`
        The allowed range of each share.
    min_traps : int, default :data:`MIN_TRAPS`
        Pairs needed of each trap kind.

    Returns
    -------
    list of str
        One sentence per requirement not met.

    Examples
    --------
    >>> stats = {"shorter_gold": {"n": 20, "count": 7, "share": 0.35},
    ...          "plainer_gold": {"n": 10, "count": 5, "share": 0.5},
    ...          "traps": {"length": 9, "polish": 8, "constraint": 8, "factual": 8, "control": 3}}
    >>> for problem in balance_problems(stats):
    ...     print(problem)
    the shorter response is gold in 35.0% of 20 pairs with a clear length difference; required 40-60%
    only 3 pairs tagged 'control'; required at least 8
    """
    low, high = share_range
    problems = []
    figures = {
        "shorter_gold": ("the shorter response is gold", "pairs with a clear length difference"),
        "plainer_gold": ("the plainer response is gold", "pairs with different polish"),
    }
    for key, (claim, population) in figures.items():
        figure = stats[key]
        required = f"required {low * 100:.0f}-{high * 100:.0f}%"
        if figure["n"] == 0:
            problems.append(f"{claim}: cannot be measured, no {population}; {required}")
        elif not low - 1e-9 <= figure["share"] <= high + 1e-9:
            problems.append(f"{claim} in {figure['share']:.1%} of {figure['n']} {population}; {required}")
    for kind in TRAP_KINDS:
        count = stats["traps"].get(kind, 0)
        if count < min_traps:
            pairs = "pair" if count == 1 else "pairs"
            problems.append(f"only {count} {pairs} tagged {kind!r}; required at least {min_traps}")
    return problems
