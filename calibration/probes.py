"""Counterfactual probes: does style alone move a rater's choice?

The bias model (:mod:`calibration.bias`) measures a pull toward length or
formatting by regression over pairs that differ in many ways at once. A
*probe* holds everything but style fixed: it is a decided pair of the bank
(its *base*) with ONE response restyled -- the same words formatted
(``polish``), the same content padded with content-free verbosity
(``padding``), or an unsupported appeal to authority added (``authority``).
The bank marks a probe with three fields (``probe``, ``probe_of``,
``styled``; see :mod:`calibration.data`); over a bank's probes the styled
response is the gold one about half of the time and the other one the rest
(counterbalanced). A *swap* is not a bank row: it is a later answer by the
same rater to a pair they answered before, shown with the sides swapped.

The probe test (:func:`probe_rates`)
------------------------------------
"How often did you pick the styled copy?" is the figure a rater reads, but
50% is not what an unbiased rater scores: a rater who follows gold picks the
styled copy when it is gold and the plain one when that is gold, so their rate
depends on how the probes happen to split between the two situations, and a
test of "rate = 50%" against a skilled rater with an unbalanced split would
flag skill as bias. Without a style pull, a rater picks gold with the same
probability whether gold is the styled copy or the plain one: where the style
sits carries no information about their choice. A style pull raises their
accuracy when the styled copy is gold and lowers it when it is the other. So
the test conditions on where the style sits: Fisher's exact test, one-sided
(toward the styled copy), of the 2x2 table

=====================  ================  ===================
                       picked gold       picked the other
=====================  ================  ===================
styled copy is gold    a (= styled)      b
styled copy is other   c                 d (= styled)
=====================  ================  ===================

with the alternative that the odds of picking gold are higher in the first
row (``scipy.stats.fisher_exact([[a, b], [c, d]], alternative="greater")``).
Given the margins, ``a`` is hypergeometric whatever the rater's accuracy, so
the test holds its level for accurate and inaccurate raters alike, for hard
and easy base pairs, and when accuracy drifts over a session (fatigue) or a
rater remembers the base pair: none of these depends on where the style
sits. ``expected`` is the rate of picking the styled copy that the rater's
pooled accuracy on these probes would give without a pull,
``(n1 * acc + n2 * (1 - acc)) / n``, 50% when the probes are balanced.

Each rater is tested on each probe kind they answered, so a rater with three
kinds faces three tests: ``significant`` applies Holm's step-down correction
over the kinds tested for that rater (family-wise error at most 5%), while
``p_value`` is the test's own p-value (``p_adjusted`` is Holm's). The cohort's
row (``by=None``) pools every rater's first answers into one table; each
rater's probes are split between the two rows independently of the rater, so
the pooled table keeps the test's level.

Only first answers count (:func:`calibration.data.first_answers`), tie answers
and probes of gold-tie pairs are left out (they have no side to be pulled to).
Validation against simulated raters with hard items, fatigue and memory is in
``tests/test_probes_stats.py`` and VALIDITY.md ("Probes against the model").

The swap figure (:func:`swap_consistency`)
------------------------------------------
From all answers, repeats included: each pair a rater answered again with the
sides swapped, and whether they picked the same response both times.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calibration.bias import _hypergeom_cdf
from calibration.data import PROBE_COLUMNS, first_answers
from calibration.intervals import clopper_pearson_interval
from pairs.export import count_of

__all__ = [
    "KINDS",
    "PROBE_RATE_COLUMNS",
    "SWAP_COLUMNS",
    "fisher_greater",
    "probe_objects",
    "probe_rates",
    "probe_rates_of",
    "probe_verdict",
    "swap_consistency",
]

#: Probe kinds, in output order.
KINDS = ("polish", "padding", "authority")

#: Family-wise significance level of the probe tests of one rater (Holm).
ALPHA = 0.05

#: Probe answers below which a verdict does not weigh the probes against the model.
MIN_PROBES = 10

RULED_OUT = 0.10
"""The probes rule out the pull the model suggests when the top of their 95% interval is less
than this far above the rate expected without a pull (10 points); otherwise they cannot tell yet."""

PROBE_RATE_COLUMNS = [
    "rater",
    "kind",
    "n",
    "picked_styled",
    "rate",
    "ci_low",
    "ci_high",
    "expected",
    "n_styled_gold",
    "n_styled_other",
    "picked_gold",
    "p_value",
    "p_adjusted",
    "significant",
    "summary",
]

SWAP_COLUMNS = [
    "rater",
    "n",
    "consistent",
    "rate",
    "ci_low",
    "ci_high",
    "n_inconsistent",
    "followed_first",
    "summary",
]

# kind -> (what changed, the styled copy, the pull)
_WORDS = {
    "polish": ("only the formatting changed", "the formatted copy", "formatting"),
    "padding": ("only padding was added", "the padded copy", "longer answers"),
    "authority": (
        "only an appeal to authority was added",
        "the copy citing authority",
        "appeals to authority",
    ),
}


def probe_rates(bank: pd.DataFrame, judgments: pd.DataFrame, *, by: str | None = "rater") -> pd.DataFrame:
    """How often each rater picked the styled copy of a probe, and an exact test of "no style pull".

    For each rater (or the cohort) and probe kind: the first answers to probe
    pairs with a side chosen (tie answers and gold-tie pairs left out), how
    many picked the styled copy, that rate with its exact (Clopper-Pearson)
    95% interval, the rate expected without a style pull at the rater's
    accuracy on these probes, and the one-sided Fisher exact test of the
    module docstring (conditioning on where the style sits, so that an
    accurate rater is not mistaken for a biased one). ``significant`` is
    decided after Holm's correction over the kinds tested for that rater.

    Parameters
    ----------
    bank : DataFrame
        A pair bank; its optional ``probe``, ``probe_of`` and ``styled``
        columns mark the probes (absent: no probes, an empty result).
    judgments : DataFrame
        Columns ``rater``, ``pair_id``, ``choice`` and optionally
        ``answered_at`` (to find first answers); repeats are dropped.
    by : {"rater", None}, default "rater"
        Per rater, or None for one cohort row per kind (``rater`` is ``"cohort"``).

    Returns
    -------
    DataFrame
        Columns :data:`PROBE_RATE_COLUMNS`: one row per rater (first
        appearance) and kind answered (order of :data:`KINDS`); ``n`` and
        ``picked_styled`` counts, ``rate``, ``ci_low``, ``ci_high`` and
        ``expected`` shares, ``n_styled_gold`` and ``n_styled_other`` the
        probes in each row of the table, ``picked_gold`` the answers that
        agree with gold, ``p_value`` (NaN when every probe had the style on
        the same side: the test then has nothing to compare), ``p_adjusted``
        (Holm), ``significant`` and a ``summary`` sentence.

    Raises
    ------
    ValueError
        If ``by`` is neither "rater" nor None, or a judgment names a pair not in the bank.

    References
    ----------
    Fisher, R. A. (1922). On the interpretation of chi-square from contingency
    tables, and the calculation of P. JRSS 85(1), 87-94.

    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    Scandinavian Journal of Statistics 6(2), 65-70.

    Examples
    --------
    >>> bank = pd.DataFrame({"id": ["p", "p~polish", "q", "q~polish"], "gold": ["A", "A", "B", "B"],
    ...                      "probe": ["", "polish", "", "polish"], "styled": ["", "A", "", "A"]})
    >>> j = pd.DataFrame({"rater": "r", "pair_id": ["p~polish", "q~polish"], "choice": ["A", "A"]})
    >>> row = probe_rates(bank, j).iloc[0]
    >>> int(row["n"]), int(row["picked_styled"]), float(row["expected"])
    (2, 2, 0.5)
    """
    _check_by(by)
    if judgments.empty or "probe" not in bank.columns:
        return _empty(PROBE_RATE_COLUMNS)
    first = first_answers(judgments)
    ids = pd.Index(bank["id"].astype(str))
    row = ids.get_indexer(first["pair_id"].astype(str))
    if (row < 0).any():
        missing = first["pair_id"].astype(str)[row < 0].unique()[:5]
        raise ValueError(
            f"{int((row < 0).sum())} judgment(s) name pairs not in the bank, e.g. {list(missing)}."
        )
    frame = pd.DataFrame(
        {
            "rater": first["rater"].astype(str).to_numpy(),
            "choice": first["choice"].astype(str).str.upper().replace("TIE", "tie").to_numpy(),
            "gold": bank["gold"].astype(str).to_numpy()[row],
        }
    )
    for col in PROBE_COLUMNS:
        values = bank[col] if col in bank.columns else pd.Series("", index=bank.index)
        frame[col] = values.fillna("").astype(str).str.strip().to_numpy(dtype=object)[row]
    return probe_rates_of(frame, by=by)


def probe_rates_of(prepared: pd.DataFrame, *, by: str | None = "rater") -> pd.DataFrame:
    """:func:`probe_rates` from judgments already joined to their pairs (one answer per rater and pair).

    Parameters
    ----------
    prepared : DataFrame
        Columns ``rater``, ``choice``, ``gold``, and optionally ``probe`` and
        ``styled`` (as :func:`calibration.data.prepare` gives them; without
        ``probe`` there are no probes). Repeats must already be dropped.
    by : {"rater", None}, default "rater"
        Per rater, or None for the cohort.

    Returns
    -------
    DataFrame
        As :func:`probe_rates`.

    Raises
    ------
    ValueError
        If ``by`` is neither "rater" nor None.
    """
    _check_by(by)
    if "probe" not in prepared.columns or "styled" not in prepared.columns or prepared.empty:
        return _empty(PROBE_RATE_COLUMNS)
    kind = prepared["probe"].fillna("").astype(str).to_numpy(dtype=object)
    styled = prepared["styled"].fillna("").astype(str).to_numpy(dtype=object)
    gold = prepared["gold"].astype(str).to_numpy(dtype=object)
    choice = prepared["choice"].astype(str).to_numpy(dtype=object)
    keep = (
        np.isin(kind, KINDS)
        & np.isin(styled, ["A", "B"])
        & np.isin(gold, ["A", "B"])
        & np.isin(choice, ["A", "B"])
    )
    if not keep.any():
        return _empty(PROBE_RATE_COLUMNS)
    if by == "rater":
        code, seen = pd.factorize(prepared["rater"].astype(str).to_numpy(dtype=object)[keep])
        labels = np.asarray(seen, dtype=object)
    else:
        code, labels = np.zeros(int(keep.sum()), dtype=np.int64), np.array(["cohort"], dtype=object)
    kind_code = pd.Index(KINDS).get_indexer(kind[keep])
    cell = code * len(KINDS) + kind_code
    size = len(labels) * len(KINDS)
    styled_gold = styled[keep] == gold[keep]
    picked_gold = choice[keep] == gold[keep]

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(cell[mask], minlength=size)

    a = count(styled_gold & picked_gold)  # styled is gold, picked it
    b = count(styled_gold & ~picked_gold)
    c = count(~styled_gold & picked_gold)
    d = count(~styled_gold & ~picked_gold)  # styled is the other, picked it
    n1, n2, n = a + b, c + d, a + b + c + d
    used = n > 0
    a, b, c, d, n1, n2, n = (x[used] for x in (a, b, c, d, n1, n2, n))
    k = a + d
    low, high = clopper_pearson_interval(k, n)
    accuracy = (a + c) / n
    p = fisher_greater(a, b, c, d)
    out = pd.DataFrame(
        {
            "rater": labels[np.flatnonzero(used) // len(KINDS)],
            "kind": np.asarray(KINDS, dtype=object)[np.flatnonzero(used) % len(KINDS)],
            "n": n,
            "picked_styled": k,
            "rate": k / n,
            "ci_low": low,
            "ci_high": high,
            "expected": (n1 * accuracy + n2 * (1 - accuracy)) / n,
            "n_styled_gold": n1,
            "n_styled_other": n2,
            "picked_gold": a + c,
            "p_value": p,
        }
    )
    out["p_adjusted"] = _holm(out["p_value"].to_numpy(dtype=float), out["rater"].to_numpy(dtype=object))
    out["significant"] = out["p_adjusted"].to_numpy(dtype=float) < ALPHA  # NaN compares False
    out["summary"] = [
        _probe_sentence(kind, int(n), int(k), rate, lo, hi, exp, sig, by == "rater")
        for kind, n, k, rate, lo, hi, exp, sig in zip(
            out["kind"],
            out["n"],
            out["picked_styled"],
            out["rate"],
            out["ci_low"],
            out["ci_high"],
            out["expected"],
            out["significant"],
            strict=True,
        )
    ]
    return out[PROBE_RATE_COLUMNS].reset_index(drop=True)


def fisher_greater(a, b, c, d) -> np.ndarray:
    """One-sided Fisher exact p-value (alternative "greater") of each 2x2 table ``[[a, b], [c, d]]``.

    With the margins fixed, ``a`` is hypergeometric; the p-value is
    ``P(X >= a)``, what ``scipy.stats.fisher_exact(table, alternative="greater")``
    returns, computed for all tables at once from ``scipy.special`` alone.
    NaN where a row is empty (nothing to compare).

    Parameters
    ----------
    a, b, c, d : array_like of int
        The cells, one table per position.

    Returns
    -------
    ndarray of float

    Examples
    --------
    >>> round(float(fisher_greater([5], [0], [0], [5])[0]), 4)
    0.004
    """
    a, b, c, d = (np.atleast_1d(np.asarray(x, dtype=np.int64)) for x in (a, b, c, d))
    full = (a + b > 0) & (c + d > 0)
    p = np.full(len(a), np.nan)
    if full.any():
        a, b, c, d = a[full], b[full], c[full], d[full]
        total, row1, col1 = a + b + c + d, a + b, a + c
        # P(X >= a) = 1 - P(X <= a - 1); sum the lower tail of the mirrored table instead, for accuracy:
        # X >= a in row 1 is the same event as (row-1 picks of column 2) <= b
        p[full] = _hypergeom_cdf(b, total, total - col1, row1)
    return p


def swap_consistency(judgments: pd.DataFrame, *, by: str | None = "rater") -> pd.DataFrame:
    """How often a rater picks the same response again when a pair comes back with the sides swapped.

    From ALL answers (repeats included), per rater: the pairs they answered
    again with the response shown first (``left``) on the other side than in
    their first answer. The first such later answer is compared with the first
    answer: consistent when the same response (``choice``, by identity) was
    chosen both times. Pairs where either answer is a tie answer, or where
    ``left`` is unknown, are left out.

    Position figure: an inconsistent pair changed response while the sides
    swapped, so it picked the same *side* both times, either the response
    shown first both times or the one shown second both times.
    ``followed_first`` counts the first kind. If the changes came from a pull
    toward the first position, nearly all of them follow the first side; a
    pull toward the second position makes it nearly none; changes from plain
    indecision split about half and half. A rate far below 100% with
    ``followed_first`` near half means the rater's choice on such pairs is a
    coin, not a side.

    Parameters
    ----------
    judgments : DataFrame
        Columns ``rater``, ``pair_id``, ``choice``, ``left`` and optionally
        ``answered_at`` (the order of answers; the frame's order among equal
        or missing times).
    by : {"rater", None}, default "rater"
        Per rater, or None for one cohort row (``rater`` is ``"cohort"``).

    Returns
    -------
    DataFrame
        Columns :data:`SWAP_COLUMNS`: ``n`` swapped pairs, ``consistent``,
        ``rate`` with its exact 95% interval (``ci_low``, ``ci_high``),
        ``n_inconsistent``, ``followed_first`` and a ``summary`` sentence;
        one row per rater with at least one swapped pair (first appearance).

    Raises
    ------
    ValueError
        If ``by`` is neither "rater" nor None.

    Examples
    --------
    >>> j = pd.DataFrame({"rater": "r", "pair_id": ["p", "p", "q", "q"], "choice": ["A", "A", "A", "B"],
    ...                   "left": ["A", "B", "A", "B"]})
    >>> swap_consistency(j)[["n", "consistent", "n_inconsistent", "followed_first"]].iloc[0].tolist()
    [2, 1, 1, 1]
    """
    _check_by(by)
    if judgments.empty or "left" not in judgments.columns:
        return _empty(SWAP_COLUMNS)
    frame = pd.DataFrame(
        {
            "rater": judgments["rater"].astype(str).to_numpy(),
            "pair_id": judgments["pair_id"].astype(str).to_numpy(),
            "choice": judgments["choice"].astype(str).str.upper().to_numpy(),
            "left": judgments["left"].astype(str).str.upper().to_numpy(),
            "position": np.arange(len(judgments)),
        }
    )
    if "answered_at" in judgments.columns:
        when = pd.to_datetime(judgments["answered_at"], utc=True, errors="coerce")
        frame["missing"] = when.isna().to_numpy()
        frame["when"] = when.to_numpy(dtype="datetime64[ns]").astype("int64")
    else:
        frame["missing"] = False
        frame["when"] = 0
    raters = pd.unique(frame["rater"])
    frame = frame.sort_values(["rater", "pair_id", "missing", "when", "position"], kind="stable")
    first = frame.groupby(["rater", "pair_id"], sort=False).head(1)
    later = frame.drop(first.index)
    merged = later.merge(first, on=["rater", "pair_id"], suffixes=("", "_first"))
    sides = {"A", "B"}
    merged = merged[
        merged["left"].isin(sides)
        & merged["left_first"].isin(sides)
        & (merged["left"] != merged["left_first"])
    ]
    merged = merged.groupby(["rater", "pair_id"], sort=False).head(1)  # the first swapped repeat
    merged = merged[merged["choice"].isin(sides) & merged["choice_first"].isin(sides)]
    if merged.empty:
        return _empty(SWAP_COLUMNS)
    same = (merged["choice"] == merged["choice_first"]).to_numpy()
    followed = (~same) & (merged["choice_first"] == merged["left_first"]).to_numpy()
    if by == "rater":
        labels = np.asarray([r for r in raters if r in set(merged["rater"])], dtype=object)
        code = pd.Index(labels).get_indexer(merged["rater"])
    else:
        labels = np.array(["cohort"], dtype=object)
        code = np.zeros(len(merged), dtype=int)
    n = np.bincount(code, minlength=len(labels))
    consistent = np.bincount(code[same], minlength=len(labels))
    follows = np.bincount(code[followed], minlength=len(labels))
    low, high = clopper_pearson_interval(consistent, n)
    out = pd.DataFrame(
        {
            "rater": labels,
            "n": n,
            "consistent": consistent,
            "rate": consistent / n,
            "ci_low": low,
            "ci_high": high,
            "n_inconsistent": n - consistent,
            "followed_first": follows,
        }
    )
    out["summary"] = [
        _swap_sentence(int(n), int(k), rate, lo, hi, int(f), by == "rater")
        for n, k, rate, lo, hi, f in zip(
            out["n"],
            out["consistent"],
            out["rate"],
            out["ci_low"],
            out["ci_high"],
            out["followed_first"],
            strict=True,
        )
    ]
    return out[SWAP_COLUMNS]


_OBJECT_KEYS = [
    "n",
    "picked_styled",
    "rate",
    "ci_low",
    "ci_high",
    "expected",
    "p_value",
    "significant",
    "summary",
]
_SWAP_KEYS = ["n", "consistent", "rate", "ci_low", "ci_high", "summary"]


def probe_objects(rates: pd.DataFrame, swaps: pd.DataFrame | None = None) -> dict[str, dict[str, Any]]:
    """The report's ``probes`` object of each rater (or of the cohort), from the two tables.

    Parameters
    ----------
    rates : DataFrame
        Output of :func:`probe_rates` or :func:`probe_rates_of`.
    swaps : DataFrame, optional
        Output of :func:`swap_consistency` (without it, no ``swap`` key).

    Returns
    -------
    dict
        ``{rater: {kind: {n, picked_styled, rate, ci_low, ci_high, expected,
        p_value, significant, summary}, "swap": {n, consistent, rate, ci_low,
        ci_high, summary}}}``: kinds without answers, and ``swap`` without a
        swapped pair, are left out, so a rater with neither has ``{}`` (and is
        not a key). Values are numpy or Python scalars; NaN stays NaN (the
        report's cleaning writes it as null).

    Examples
    --------
    >>> rates = probe_rates_of(pd.DataFrame({"rater": "r", "choice": ["A", "B"], "gold": ["A", "A"],
    ...                                       "probe": "polish", "styled": ["A", "B"]}))
    >>> sorted(probe_objects(rates)["r"]["polish"])  # doctest: +NORMALIZE_WHITESPACE
    ['ci_high', 'ci_low', 'expected', 'n', 'p_value', 'picked_styled', 'rate', 'significant', 'summary']
    """
    out: dict[str, dict[str, Any]] = {}
    for row in rates.to_dict("records"):
        out.setdefault(str(row["rater"]), {})[row["kind"]] = {key: row[key] for key in _OBJECT_KEYS}
    if swaps is not None:
        for row in swaps.to_dict("records"):
            out.setdefault(str(row["rater"]), {})["swap"] = {key: row[key] for key in _SWAP_KEYS}
    return out


def probe_verdict(probes: dict[str, Any], bias: dict[str, Any], *, you: bool = True) -> list[str]:
    """Sentences weighing the probes against the bias model, for a report's verdict.

    The padding probes check the model's length effect and the polish probes
    its polish effect. Where both have data: they agree (both find a pull
    toward the styled answer, or neither does), or they do not. When the probes
    find a pull the model does not, they are to be trusted more, since they hold
    everything else fixed; when the model finds one the probes do not, the
    probes overrule it only if their interval leaves little room for a pull
    (:data:`RULED_OUT`), and otherwise the sentence says they cannot tell yet. With
    fewer than :data:`MIN_PROBES` answers of a kind the sentence says the
    probes are too few yet; nothing is said when neither has data.

    Parameters
    ----------
    probes : dict
        A ``probes`` object (:func:`probe_objects`, one rater's or the cohort's).
    bias : dict
        The report's ``bias`` object of the same rater (effect -> fields).
    you : bool, default True
        Speak to the rater ("you favour"), or of the cohort ("the cohort favours").

    Returns
    -------
    list of str

    Examples
    --------
    >>> probes = {"polish": {"n": 20, "significant": True}}
    >>> bias = {"polish": {"estimable": True, "significant": True, "odds_ratio": 1.8}}
    >>> probe_verdict(probes, bias)
    ['The probes agree with the model: you favour formatted answers.']
    """
    subject, verb = ("you", "favour") if you else ("the cohort", "favours")
    lines = []
    for kind, effect, what in (
        ("polish", "polish", "formatted answers"),
        ("padding", "length", "longer answers"),
    ):
        probe = probes.get(kind) or {}
        model = bias.get(effect) or {}
        has_probe = bool(probe.get("n"))
        has_model = bool(model.get("estimable"))
        if not has_probe:
            continue
        odds = model.get("odds_ratio")
        model_pull = has_model and bool(model.get("significant")) and odds is not None and odds > 1
        if probe["n"] < MIN_PROBES:
            if has_model:
                lines.append(
                    f"The probes are too few yet ({probe['n']}) to check the model's figure on {what}."
                )
            continue
        probe_pull = bool(probe.get("significant"))
        if probe_pull and (model_pull or not has_model):
            lead = "The probes agree with the model" if model_pull else "The probes show it"
            lines.append(f"{lead}: {subject} {verb} {what}.")
        elif probe_pull:
            lines.append(
                f"The probes show a pull toward {what} that the model does not; the probes hold "
                "everything else fixed, so trust them more."
            )
        elif model_pull and _rules_out(probe):
            lines.append(
                f"The probes do not show the pull toward {what} the model suggests, and their interval "
                "leaves little room for one; the probes hold everything else fixed, so trust them more."
            )
        elif model_pull:
            lines.append(
                f"The model finds a pull toward {what} that the probes do not confirm yet: their interval "
                "still allows it. More probe answers will tell."
            )
        elif has_model:
            lines.append(f"The probes agree with the model: no clear pull toward {what}.")
    return lines


def _rules_out(probe: dict[str, Any]) -> bool:
    """Whether a kind's probes leave little room for a pull: the top of their interval is less than
    :data:`RULED_OUT` above the rate expected without one (False when either is unknown)."""
    high, expected = probe.get("ci_high"), probe.get("expected")
    if high is None or expected is None or high != high or expected != expected:  # None or NaN
        return False
    return bool(high < expected + RULED_OUT)


def _probe_sentence(kind, n, k, rate, low, high, expected, significant, you) -> str:
    changed, copy, pull = _WORDS[kind]
    subject = "you" if you else "raters"
    text = (
        f"In {k} of {count_of(n, 'pair')} where {changed}, {subject} picked {copy} "
        f"({rate:.0%}, 95% CI {low:.0%} to {high:.0%}); "
        f"without a pull toward {pull} about {expected:.0%} is expected."
    )
    if significant:
        text += f" That is more than chance explains: a pull toward {pull}."
    return text


def _swap_sentence(n, k, rate, low, high, followed, you) -> str:
    subject = "you" if you else "raters"
    text = (
        f"On {count_of(n, 'pair')} answered again with the sides swapped, {subject} picked the same "
        f"response {k} time{'s' if k != 1 else ''} ({rate:.0%}, 95% CI {low:.0%} to {high:.0%})."
    )
    changed = n - k
    if changed == 1:
        where = "first" if followed else "second"
        text += f" The one change kept the side: the response shown {where} both times."
    elif changed:
        text += (
            f" Of the {changed} changes, {followed} kept the response shown first both times and "
            f"{changed - followed} the one shown second (a pull toward a side makes nearly all of them "
            "one kind; indecision splits them about evenly)."
        )
    return text


def _holm(p: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values within each group (NaN p-values are not counted as tests)."""
    out = np.full(len(p), np.nan)
    for g in pd.unique(group):
        rows = np.flatnonzero((group == g) & ~np.isnan(p))
        if not len(rows):
            continue
        order = rows[np.argsort(p[rows], kind="stable")]
        m = len(order)
        adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
        out[order] = adjusted
    return out


def _check_by(by) -> None:
    if by not in ("rater", None):
        raise ValueError(f'by must be "rater" or None; got {by!r}.')


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})
