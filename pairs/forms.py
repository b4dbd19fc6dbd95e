"""Parallel assessment forms: a bank split into forms that are equally hard for the same reasons.

A training effect is measured by giving a rater one form before training and
another after. The comparison is fair only when the forms differ in nothing
that moves a score: the same mix of traps, the same share of pairs where the
longer or the more polished answer is gold, the same length gaps, the same
gold sides and, when the cohort has answered them before, the same easiness.
:func:`split_forms` makes such forms, :func:`form_balance` says how well they
are matched, and :func:`form_order` deals forms to the stages of an assessment
so that form order is counterbalanced across raters.

Matching criteria (one value per pair; a form's value is the mean over its pairs):

=================  =================================================================
criterion          value of a pair
=================  =================================================================
``tag:<kind>``     1 when the pair carries the tag (one criterion per tag in the bank)
``gold_longer``    1 when gold is ``A`` or ``B`` and the gold response has more words
``gold_shorter``   1 when gold is ``A`` or ``B`` and the gold response has fewer words
``gold_polished``  1 when the gold response has more Markdown marks (polish)
``gold_plainer``   1 when the gold response has fewer Markdown marks
``length_gap``     ``|length_doublings|`` (:func:`pairs.features.pair_features`)
``gold_a``         1 when gold is ``A``
``tie``            1 when gold is ``"tie"`` (only when the bank has ties)
``probe``          1 for a counterfactual probe (only when the bank has probes)
``easiness``       the cohort's easiness of the pair (only when ``difficulty`` is given
                   and covers some pair); pairs without it are left out of this one
=================  =================================================================

How different two forms are on a criterion is the standardized difference:
the largest form mean minus the smallest, over the standard deviation of the
criterion across the whole bank (Austin 2009). A difference under
:data:`WELL_MATCHED` (0.1) is negligible by the usual rule; one of
:data:`UNEVEN` (0.25) or more is more than matching methods accept (Rubin 2001,
Stuart 2010).

Ties and probes
    A tie (``gold == "tie"``) stays in the split: tie answers are scored, so
    ties are spread evenly over the forms like any other kind of pair (its
    length and polish criteria are 0, since no answer is the better one). A
    probe always lands in the same form as its base, and probes of the same
    base together: a held-out form must not show a rater one version of a pair
    now and the other in a later form (the second would be answered from
    memory of the first, whose gold the results page revealed), and a probe
    rate is read off a rater switching between a base and its probe, which
    needs both in one attempt. For the same reason pairs that ask the same
    prompt (compared without case and runs of whitespace) share a form. Form
    sizes are equal to within one pair when these groups allow it, else as
    close as the groups allow.

References
----------
Austin, P. C. (2009). Balance diagnostics for comparing the distribution of
baseline covariates between treatment groups in propensity-score matched
samples. *Statistics in Medicine*, 28(25), 3083-3107.

Rubin, D. B. (2001). Using propensity scores to help design observational
studies. *Health Services and Outcomes Research Methodology*, 2, 169-188.

Stuart, E. A. (2010). Matching methods for causal inference: a review and a
look forward. *Statistical Science*, 25(1), 1-21.

Williams, E. J. (1949). Experimental designs balanced for the estimation of
residual effects of treatments. *Australian Journal of Scientific Research*,
A2(2), 149-168.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from pairs.features import pair_features

FORM_LABELS = tuple("XYZWVUTSRQPONMLKJIHGFEDCBA")
"""The names of forms, in order: ``X``, ``Y``, ``Z``, then backwards through the alphabet."""
STAGES = ("pre", "post", "retention")
"""The stages of an assessment, in the order a rater takes them."""
WELL_MATCHED = 0.1
"""A standardized difference below this is negligible (Austin 2009)."""
UNEVEN = 0.25
"""A standardized difference at or above this is more than matching methods accept (Rubin 2001)."""
_REQUIRED = ("id", "response_a", "response_b", "gold", "tags")
_SWAP_SAMPLE = 150
"""At most this many groups per form are tried in one step of the swap pass."""
_MAX_STEPS = 2000
_PATIENCE = 8
_EPS = 1e-9

# criterion -> (label in the balance table, what the form with the highest value "has", how values read)
_CRITERIA: dict[str, tuple[str, str, str]] = {
    "gold_longer": ("gold is the longer answer", "more pairs where the longer answer is gold", "share"),
    "gold_shorter": (
        "gold is the shorter answer",
        "more pairs where the shorter answer is gold (length traps)",
        "share",
    ),
    "gold_polished": (
        "gold is the more polished answer",
        "more pairs where the more polished answer is gold",
        "share",
    ),
    "gold_plainer": (
        "gold is the plainer answer",
        "more pairs where the plainer answer is gold (polish traps)",
        "share",
    ),
    "length_gap": ("length gap (mean |doublings|)", "a larger length gap between the answers", "mean"),
    "gold_a": ("gold is A", "more pairs where A is gold", "share"),
    "tie": ("ties", "more ties", "share"),
    "probe": ("probes", "more probes", "share"),
    "easiness": ("easiness (from cohort answers)", "easier pairs", "mean"),
}


def form_labels(n_forms: int) -> tuple[str, ...]:
    """The labels of ``n_forms`` forms: ``("X", "Y")`` for two.

    Parameters
    ----------
    n_forms : int
        How many forms, 1 to 26.

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> form_labels(3)
    ('X', 'Y', 'Z')
    """
    _check_n_forms(n_forms)
    return FORM_LABELS[:n_forms]


def split_forms(
    bank: pd.DataFrame,
    *,
    n_forms: int = 2,
    difficulty: pd.Series | None = None,
    seed: int = 0,
) -> pd.Series:
    """Split a bank into parallel forms matched on trap mix, length/polish balance and difficulty.

    Groups (a pair with its probes and the pairs asking its prompt, see the
    module docstring) are sorted into strata by tags, by whether
    gold is the longer answer and by easiness tercile, shuffled within each
    stratum with ``seed``, and dealt to the form with the fewest pairs so far
    (round robin). A swap pass then exchanges groups of the same size between
    forms while that lowers the largest standardized difference over the
    criteria of the module docstring (and, at an equal largest one, their sum
    of squares). Sizes never change in the swap pass.

    On LLMBar's 419 pairs (its five files, trap tags read off the texts with
    :func:`pairs.traps.tag_traps`), two forms differ by at most 0.02 standard
    deviations on any criterion (three forms: 0.02), where the median of 200
    random splits of equal sizes differs by 0.17 on its worst one (three
    forms: 0.25); on the starter bank's 512 pairs, 0.03 against 0.17.

    Parameters
    ----------
    bank : DataFrame
        The pairs to split, usually only those the lead set aside for
        assessment (:data:`pairs.bank.COLUMNS`): at least ``id``,
        ``response_a``, ``response_b``, ``gold`` and ``tags``; ``probe`` and
        ``probe_of`` when it holds probes. Ids must be unique.
    n_forms : int, default 2
        How many forms, at least 1 and at most the number of groups.
    difficulty : Series, optional
        Item easiness by pair id from cohort data (e.g. the share of raters
        right), higher = easier. Pairs missing from it, or NaN, are matched on
        everything else; ids not in the bank are ignored.
    seed : int, default 0
        Fixes the shuffle: the same bank and seed give the same forms.

    Returns
    -------
    Series of str
        The form label (:func:`form_labels`) of each pair, index = pair id
        (named ``id``), in the bank's order; named ``form``.

    Raises
    ------
    ValueError
        When a column is missing, ids repeat, ``n_forms`` is not a whole
        number from 1 to 26, the bank has fewer groups than forms, or
        ``difficulty`` is not numeric.

    Examples
    --------
    >>> bank = pd.DataFrame({
    ...     "id": ["p1", "p2", "p3", "p4"],
    ...     "response_a": ["short", "a much longer answer here", "yes", "## Plan\\n- one"],
    ...     "response_b": ["a much longer answer here", "short", "yes indeed", "one"],
    ...     "gold": ["A", "B", "A", "B"],
    ...     "tags": [("length",), ("length",), (), ("polish",)],
    ... })
    >>> forms = split_forms(bank, seed=1)
    >>> forms.value_counts().sort_index().to_dict()
    {'X': 2, 'Y': 2}
    >>> forms["p1"] != forms["p2"]  # the two length traps go one to each form
    True
    """
    ids = _check_bank(bank)
    _check_n_forms(n_forms)
    values = _criteria(bank, difficulty)
    groups, n_groups = _groups(bank, ids)
    if n_groups < n_forms:
        held = (
            ""
            if n_groups == len(bank)
            else f" ({n_groups} once probes and repeated prompts are kept together)"
        )
        raise ValueError(
            f"The bank has {len(bank)} pair{'s' * (len(bank) != 1)}{held}: "
            f"too few to split into {n_forms} forms."
        )
    z = _standardized(values)
    sums = np.zeros((n_groups, z.shape[1]))
    np.add.at(sums, groups, z)
    sizes = np.bincount(groups, minlength=n_groups)
    rng = np.random.default_rng(seed)
    assign = _deal(_strata(values, groups, n_groups), sizes, n_forms, rng)
    assign = _improve(sums, sizes, assign, n_forms, rng)
    labels = np.array(form_labels(n_forms))[assign[groups]]
    return pd.Series(labels, index=pd.Index(ids, name="id"), name="form")


def form_balance(
    bank: pd.DataFrame, forms: pd.Series, *, difficulty: pd.Series | None = None
) -> pd.DataFrame:
    """How well a bank's forms are matched, one row per criterion, for the lead console.

    Parameters
    ----------
    bank : DataFrame
        The bank, as for :func:`split_forms`.
    forms : Series of str
        Form label by pair id (as :func:`split_forms` returns). Pairs of the
        bank missing from it, or with an empty or missing label, are in no form.
    difficulty : Series, optional
        Item easiness by pair id, as for :func:`split_forms`.

    Returns
    -------
    DataFrame
        One row per criterion (the module docstring), first a ``size`` row.
        Columns: ``criterion`` (its key), ``label`` (in words), ``kind``
        (``"share"``, ``"mean"`` or ``"count"``), one column per form label in
        order holding the form's mean (its pair count for ``size``), ``n``
        (pairs the criterion is measured on), ``smd`` (the largest form minus
        the smallest over the bank's standard deviation; 0 when the criterion
        does not vary, NaN for ``size`` and when a form has no value),
        ``closest`` (for a share, the smallest ``smd`` the counts allow: 3
        ties cannot be shared evenly by two forms; NaN for a mean) and
        ``verdict``: ``"well matched"`` (``smd`` under :data:`WELL_MATCHED`),
        ``"as close as the bank allows: form Y has more ties (2 of 15 vs 1 of
        15)"`` (``smd`` at ``closest``), ``"slightly uneven: form Y has more
        ties (13% vs 0%)"`` (under :data:`UNEVEN`) or ``"uneven: ..."``.

    Raises
    ------
    ValueError
        When ``forms`` names a pair not in the bank, or no pair has a form.

    Examples
    --------
    >>> bank = pd.DataFrame({
    ...     "id": ["p1", "p2", "p3", "p4"],
    ...     "response_a": ["short", "a much longer answer here", "yes", "no"],
    ...     "response_b": ["a much longer answer here", "short", "yes indeed", "no way"],
    ...     "gold": ["A", "B", "A", "B"],
    ...     "tags": [("length",), ("length",), (), ()],
    ... })
    >>> table = form_balance(bank, pd.Series({"p1": "X", "p2": "X", "p3": "Y", "p4": "Y"}))
    >>> row = table.set_index("criterion").loc["tag:length"]
    >>> float(row["X"]), float(row["Y"]), round(float(row["smd"]), 2)
    (1.0, 0.0, 2.0)
    >>> row["verdict"]
    'uneven: form X has more pairs tagged length (100% vs 0%)'
    """
    ids = _check_bank(bank)
    labels = pd.Series(forms).copy()
    labels.index = labels.index.astype(str)
    unknown = labels.index.difference(pd.Index(ids))
    if len(unknown):
        raise ValueError(f"forms names {len(unknown)} pair(s) not in the bank, e.g. {str(unknown[0])!r}.")
    form = labels.reindex(ids).fillna("").astype(str).to_numpy()
    present = [f for f in FORM_LABELS if (form == f).any()]
    present += sorted(set(form[form != ""]) - set(present))
    if not present:
        raise ValueError("forms gives no pair of the bank a form.")
    values = _criteria(bank, difficulty)
    in_form = form != ""
    rows: list[dict[str, Any]] = [
        {
            "criterion": "size",
            "label": "pairs",
            "kind": "count",
            **{f: float((form == f).sum()) for f in present},
            "n": int(in_form.sum()),
            "smd": math.nan,
            "verdict": _size_verdict({f: int((form == f).sum()) for f in present}),
        }
    ]
    for key in values.columns:
        column = values[key].to_numpy(float)
        known = in_form & ~np.isnan(column)
        measured = {f: int((known & (form == f)).sum()) for f in present}
        means = {f: float(column[known & (form == f)].mean()) if measured[f] else math.nan for f in present}
        sd = float(column[known].std()) if known.any() else math.nan
        spread = max(means.values()) - min(means.values()) if len(present) > 1 else 0.0
        label, more, kind = _describe(key)
        closest = math.nan
        if kind == "share" and sd > 0:
            closest = _closest_spread(int(round(float(column[known].sum()))), list(measured.values())) / sd
        smd = 0.0 if sd == 0 else spread / sd
        rows.append(
            {
                "criterion": key,
                "label": label,
                "kind": kind,
                **means,
                "n": int(known.sum()),
                "smd": smd,
                "closest": 0.0 if sd == 0 else closest,
                "verdict": _verdict(smd, closest, means, measured, more, kind),
            }
        )
    columns = ["criterion", "label", "kind", *present, "n", "smd", "closest", "verdict"]
    return pd.DataFrame(rows, columns=columns)


def balance_summary(table: pd.DataFrame) -> str:
    """One paragraph on a :func:`form_balance` table, for the lead console.

    Parameters
    ----------
    table : DataFrame
        As :func:`form_balance` returns it.

    Returns
    -------
    str
        The forms and their sizes, how many criteria are well matched or as
        close as the bank's counts allow, the largest standardized difference,
        and each uneven criterion's verdict.

    Examples
    --------
    >>> bank = pd.DataFrame({
    ...     "id": ["p1", "p2", "p3", "p4"],
    ...     "response_a": ["short", "a much longer answer here", "yes", "no"],
    ...     "response_b": ["a much longer answer here", "short", "yes indeed", "no way"],
    ...     "gold": ["A", "B", "A", "B"],
    ...     "tags": [("length",), ("length",), (), ()],
    ... })
    >>> print(balance_summary(form_balance(bank, split_forms(bank))))  # doctest: +NORMALIZE_WHITESPACE
    Forms X and Y (2 and 2 pairs) are well matched on 5 of 7 criteria (largest standardized
    difference 1.15); 2 more differ only as far as the bank's counts force.
    """
    forms = list(table.columns[table.columns.get_loc("kind") + 1 : table.columns.get_loc("n")])
    size = table.loc[table["criterion"] == "size", forms].iloc[0].astype(int).tolist()
    names = _listed([str(f) for f in forms])
    counts = _listed([str(n) for n in size])
    rows = table[table["criterion"] != "size"]
    if len(forms) < 2:
        return f"One form, {names}, of {counts} pairs: nothing to match."
    well = rows["verdict"] == "well matched"
    forced = rows["verdict"].str.startswith("as close as")
    largest = float(rows["smd"].max()) if len(rows) else 0.0
    head = f"Forms {names} ({counts} pairs)"
    tail = f"(largest standardized difference {largest:.2f})"
    if well.all():
        return f"{head} are well matched on all {len(rows)} criteria {tail}."
    text = f"{head} are well matched on {int(well.sum())} of {len(rows)} criteria {tail}"
    if forced.any():
        text += f"; {int(forced.sum())} more differ only as far as the bank's counts force"
    uneven = rows[~well & ~forced]
    if len(uneven):
        text += ". " + "; ".join(
            f"{label}: {verdict}" for label, verdict in zip(uneven["label"], uneven["verdict"], strict=True)
        )
    return text + "."


def form_order(rater_index: int, n_forms: int = 2, stages: Sequence[str] = STAGES) -> dict[str, str]:
    """Which form a rater takes at each stage: a Williams Latin square over raters.

    Rater ``i`` takes row ``i mod r`` of a Williams design of ``n_forms``
    forms (``r = n_forms`` rows when it is even, ``2 * n_forms`` when odd):
    over each block of ``r`` consecutive raters every form is taken equally
    often at every stage (so form difficulty cancels out of a change between
    stages), and every form follows every other equally often (so carry-over
    does too; Williams 1949). With two forms, even raters take ``X`` first and
    odd raters ``Y``. With fewer forms than stages the forms repeat in the
    same cyclic order, so with two forms the retention stage repeats the
    baseline form, the one taken longest before; three forms avoid any repeat.

    Parameters
    ----------
    rater_index : int
        The rater's position in the cohort (0, 1, 2, ... in the order they joined).
    n_forms : int, default 2
        How many forms there are.
    stages : sequence of str, default ("pre", "post", "retention")
        The stages, in the order a rater takes them.

    Returns
    -------
    dict
        Stage -> form label, in the order of ``stages``.

    Raises
    ------
    ValueError
        When ``rater_index`` is negative or not a whole number, ``n_forms``
        is not from 1 to 26, or a stage repeats.

    Examples
    --------
    >>> form_order(0), form_order(1)
    ({'pre': 'X', 'post': 'Y', 'retention': 'X'}, {'pre': 'Y', 'post': 'X', 'retention': 'Y'})
    >>> form_order(4, n_forms=3)
    {'pre': 'X', 'post': 'Z', 'retention': 'Y'}
    """
    if isinstance(rater_index, bool) or not isinstance(rater_index, (int, np.integer)) or rater_index < 0:
        raise ValueError(f"rater_index must be a whole number >= 0, got {rater_index!r}.")
    labels = form_labels(n_forms)
    stages = list(stages)
    if len(set(stages)) != len(stages):
        raise ValueError(f"stages must not repeat, got {stages!r}.")
    rows = _williams(n_forms)
    row = rows[int(rater_index) % len(rows)]
    return {stage: labels[row[i % n_forms]] for i, stage in enumerate(stages)}


# -- helpers -------------------------------------------------------------------------


def _check_n_forms(n_forms: Any) -> None:
    if isinstance(n_forms, bool) or not isinstance(n_forms, (int, np.integer)):
        raise ValueError(f"n_forms must be a whole number, got {n_forms!r}.")
    if not 1 <= n_forms <= len(FORM_LABELS):
        raise ValueError(f"n_forms must be from 1 to {len(FORM_LABELS)}, got {n_forms}.")


def _check_bank(bank: pd.DataFrame) -> np.ndarray:
    """The bank's ids as str, after checking it has what the split reads."""
    missing = [c for c in _REQUIRED if c not in bank.columns]
    if missing:
        raise ValueError(f"The bank lacks column(s) {', '.join(missing)}.")
    ids = bank["id"].astype(str).to_numpy()
    repeated = pd.Index(ids)[pd.Index(ids).duplicated()]
    if len(repeated):
        raise ValueError(f"The bank's ids must be unique; {repeated[0]!r} repeats.")
    return ids


def _probe_marks(bank: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: whether it is a probe, and its base id (``""`` for an ordinary pair)."""
    n = len(bank)
    probe = bank["probe"].fillna("").astype(str).to_numpy() if "probe" in bank else np.full(n, "")
    base = bank["probe_of"].fillna("").astype(str).to_numpy() if "probe_of" in bank else np.full(n, "")
    is_probe = probe != ""
    return is_probe, np.where(is_probe, base, "")


def _groups(bank: pd.DataFrame, ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Group code of each pair and the number of groups (codes 0.. in order of first pair).

    A probe joins its base (or, base absent, the other probes of that base),
    and pairs with the same prompt join each other: the groups are the
    connected parts of these links (union-find).
    """
    is_probe, base = _probe_marks(bank)
    keys = [np.where(is_probe & (base != ""), "id:" + base, "id:" + ids.astype(object))]
    if "prompt" in bank.columns:
        prompt = bank["prompt"].fillna("").astype(str).str.split().str.join(" ").str.casefold()
        keys.append(np.where(prompt.to_numpy() != "", "prompt:" + prompt.to_numpy(dtype=object), "id:" + ids))
    parent = np.arange(len(ids))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for key in keys:
        codes, _ = pd.factorize(pd.Series(key), sort=False)
        first: dict[int, int] = {}
        for i, code in enumerate(codes):
            j = first.setdefault(int(code), i)
            a, b = root(i), root(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    roots = np.array([root(i) for i in range(len(ids))], dtype=np.int64)
    codes, uniques = pd.factorize(roots, sort=False)
    return np.asarray(codes, dtype=np.int64), len(uniques)


def _criteria(bank: pd.DataFrame, difficulty: pd.Series | None) -> pd.DataFrame:
    """One column per matching criterion, one row per pair (index = pair id)."""
    ids = bank["id"].astype(str).to_numpy()
    features = pair_features(bank.assign(id=ids)) if len(bank) else None
    gold = bank["gold"].astype(str).to_numpy()
    decided = np.isin(gold, ("A", "B"))
    out: dict[str, np.ndarray] = {}
    tags = pd.Series([tuple(t) if isinstance(t, (tuple, list, np.ndarray)) else () for t in bank["tags"]])
    counts = pd.Series([tag for row in tags for tag in dict.fromkeys(row)], dtype=object).value_counts()
    for tag in sorted(counts.index, key=lambda t: (-counts[t], t)):
        out[f"tag:{tag}"] = np.array([tag in row for row in tags], dtype=float)
    longer = features["longer"].to_numpy() if features is not None else np.array([], dtype=str)
    polished = features["more_polished"].to_numpy() if features is not None else np.array([], dtype=str)
    out["gold_longer"] = (decided & (longer == gold)).astype(float)
    out["gold_shorter"] = (decided & (longer != "") & (longer != gold)).astype(float)
    out["gold_polished"] = (decided & (polished == gold)).astype(float)
    out["gold_plainer"] = (decided & (polished != "") & (polished != gold)).astype(float)
    out["length_gap"] = (
        np.abs(features["length_doublings"].to_numpy(float)) if features is not None else np.array([])
    )
    out["gold_a"] = (gold == "A").astype(float)
    if (gold == "tie").any():
        out["tie"] = (gold == "tie").astype(float)
    is_probe, _ = _probe_marks(bank)
    if is_probe.any():
        out["probe"] = is_probe.astype(float)
    if difficulty is not None:
        easiness = _easiness(difficulty, ids)
        if not np.isnan(easiness).all():
            out["easiness"] = easiness
    return pd.DataFrame(out, index=pd.Index(ids, name="id"))


def _easiness(difficulty: pd.Series, ids: np.ndarray) -> np.ndarray:
    """Easiness of each pair of ``ids`` (NaN where unknown), after checking ``difficulty``."""
    series = pd.Series(difficulty)
    numbers = pd.to_numeric(series, errors="coerce") if not pd.api.types.is_bool_dtype(series) else None
    if numbers is None or (numbers.isna() & series.notna()).any():
        raise ValueError(f"difficulty must hold numbers (easiness by pair id), got dtype {series.dtype}.")
    keys = series.index.astype(str)
    if keys.duplicated().any():
        raise ValueError(f"difficulty names pair {keys[keys.duplicated()][0]!r} more than once.")
    numbers.index = keys
    values = np.array(numbers.reindex(ids).to_numpy(float), dtype=float)  # a copy: written below
    values[~np.isfinite(values)] = np.nan
    return values


def _standardized(values: pd.DataFrame) -> np.ndarray:
    """Criteria over their bank-wide SD, constant ones dropped, for the swap pass (pairs x criteria).

    A criterion known on some pairs only (easiness) is centred, set to 0 where
    unknown and scaled up by (pairs / measured pairs), and whether it is known
    becomes a criterion of its own: forms then get as many measured pairs, with
    the same mean among them.
    """
    x = values.to_numpy(float)
    unknown = np.isnan(x)
    partly = unknown.any(axis=0) & ~unknown.all(axis=0)
    columns = []
    for j in range(x.shape[1]):
        known = x[~unknown[:, j], j]
        sd = float(known.std()) if len(known) else 0.0
        if sd > 0:  # centred, and scaled so that a form's mean reads as the mean over its measured pairs
            weight = len(x) / len(known)
            columns.append(np.where(unknown[:, j], 0.0, x[:, j] - known.mean()) * weight / sd)
        if partly[j]:
            columns.append((~unknown[:, j]) / (~unknown[:, j]).std())
    return np.column_stack(columns) if columns else np.zeros((len(x), 0))


def _strata(values: pd.DataFrame, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Stratum of each group, by its first pair: tags, gold longer/shorter/neither, easiness tercile."""
    _, first = np.unique(groups, return_index=True)  # each group's first pair (codes are 0..n_groups-1)
    tag_cols = [c for c in values.columns if c.startswith("tag:")]
    tag_key = (
        values[tag_cols].astype(int).astype(str).agg("".join, axis=1).to_numpy()
        if tag_cols
        else np.full(len(values), "")
    )
    side = (values["gold_longer"] - values["gold_shorter"]).to_numpy().astype(int).astype(str)
    if "easiness" in values:
        ease = values["easiness"]
        tercile = pd.qcut(ease.rank(method="first"), 3, labels=False) if ease.notna().sum() >= 3 else ease * 0
        ease_key = tercile.fillna(-1).astype(int).astype(str).to_numpy()
    else:
        ease_key = np.full(len(values), "")
    key = pd.Series(tag_key) + "|" + side + "|" + ease_key
    codes, _ = pd.factorize(key.to_numpy()[first], sort=True)
    return np.asarray(codes, dtype=np.int64)


def _deal(strata: np.ndarray, sizes: np.ndarray, n_forms: int, rng: np.random.Generator) -> np.ndarray:
    """Deal groups stratum by stratum (shuffled within), each to the form with the fewest pairs.

    Groups of several pairs (a base and its probes) are dealt first, so that
    single pairs dealt last even the sizes out.
    """
    shuffle = rng.permutation(len(strata))
    order = np.lexsort((shuffle, strata, sizes == 1))  # multi-pair groups first, then by stratum
    assign = np.empty(len(strata), dtype=np.int64)
    load = np.zeros(n_forms, dtype=np.int64)
    turn = int(rng.integers(n_forms))
    for g in order:
        least = np.flatnonzero(load == load.min())
        form = int(least[np.searchsorted(least, turn) % len(least)])
        assign[g] = form
        load[form] += sizes[g]
        turn = (form + 1) % n_forms
    return assign


def _objective(means: np.ndarray) -> tuple[float, float]:
    """Largest standardized spread across forms and the sum of squared spreads (means: forms x criteria)."""
    if means.shape[1] == 0:
        return 0.0, 0.0
    spread = means.max(axis=0) - means.min(axis=0)
    return float(spread.max()), float((spread**2).sum())


def _improve(
    sums: np.ndarray, sizes: np.ndarray, assign: np.ndarray, n_forms: int, rng: np.random.Generator
) -> np.ndarray:
    """Swap same-size groups between forms while the (largest, sum of squares) spread falls."""
    assign = assign.copy()
    if n_forms < 2 or sums.shape[1] == 0:
        return assign
    load = np.bincount(assign, weights=sizes, minlength=n_forms)
    totals = np.stack([sums[assign == f].sum(axis=0) for f in range(n_forms)])
    current = _objective(totals / load[:, None])
    idle = 0
    for _ in range(_MAX_STEPS):
        best: tuple[float, float, int, int] | None = None
        sampled = False
        for f in range(n_forms):
            for g in range(f + 1, n_forms):
                mine, theirs = np.flatnonzero(assign == f), np.flatnonzero(assign == g)
                if len(mine) > _SWAP_SAMPLE:
                    mine, sampled = np.sort(rng.choice(mine, _SWAP_SAMPLE, replace=False)), True
                if len(theirs) > _SWAP_SAMPLE:
                    theirs, sampled = np.sort(rng.choice(theirs, _SWAP_SAMPLE, replace=False)), True
                others = [h for h in range(n_forms) if h not in (f, g)]
                delta = sums[theirs][None, :, :] - sums[mine][:, None, :]
                mean_f = (totals[f] + delta) / load[f]
                mean_g = (totals[g] - delta) / load[g]
                high, low = np.maximum(mean_f, mean_g), np.minimum(mean_f, mean_g)
                if others:
                    rest = totals[others] / load[others][:, None]
                    high, low = np.maximum(high, rest.max(axis=0)), np.minimum(low, rest.min(axis=0))
                spread = high - low
                worst = spread.max(axis=2)
                squares = (spread**2).sum(axis=2)
                same = sizes[mine][:, None] == sizes[theirs][None, :]
                worst = np.where(same, worst, np.inf)
                lowest = worst.min()
                if not np.isfinite(lowest):
                    continue
                squares = np.where(worst <= lowest + _EPS, squares, np.inf)
                i, j = np.unravel_index(int(np.argmin(squares)), squares.shape)
                candidate = (float(lowest), float(squares[i, j]), int(mine[i]), int(theirs[j]))
                if best is None or candidate[:2] < best[:2]:
                    best = candidate
        if best is not None and (
            best[0] < current[0] - _EPS or (best[0] <= current[0] + _EPS and best[1] < current[1] - _EPS)
        ):
            a, b = best[2], best[3]
            fa, fb = assign[a], assign[b]
            totals[fa] += sums[b] - sums[a]
            totals[fb] += sums[a] - sums[b]
            assign[a], assign[b] = fb, fa
            current = _objective(totals / load[:, None])
            idle = 0
            continue
        idle += 1
        if not sampled or idle >= _PATIENCE:
            break
    return assign


def _williams(n_forms: int) -> list[list[int]]:
    """Rows of a Williams design: a Latin square (two when ``n_forms`` is odd) balanced for carry-over."""
    first, low, high = [0], 1, n_forms - 1
    while len(first) < n_forms:
        first.append(low)
        low += 1
        if len(first) < n_forms:
            first.append(high)
            high -= 1
    rows = [[(x + r) % n_forms for x in first] for r in range(n_forms)]
    if n_forms % 2 == 1 and n_forms > 1:
        rows += [row[::-1] for row in rows]
    return rows


def _describe(key: str) -> tuple[str, str, str]:
    if key.startswith("tag:"):
        tag = key[4:]
        return f"tagged {tag}", f"more pairs tagged {tag}", "share"
    return _CRITERIA[key]


def _shown(value: float, kind: str) -> str:
    if math.isnan(value):
        return "none"
    return f"{value:.0%}" if kind == "share" else f"{value:.2f}"


def _closest_spread(count: int, sizes: list[int]) -> float:
    """The least (largest share - smallest share) when ``count`` marked pairs go to forms of ``sizes``.

    Each form gets the floor or the ceiling of its fair share of ``count``
    (``tests/test_forms.py`` checks this against every allocation of small
    cases); NaN beyond 8 forms, where the choices are too many to try.
    """
    n = np.asarray(sizes, dtype=np.int64)
    if len(n) < 2 or (n == 0).any():
        return 0.0 if len(n) < 2 else math.nan
    if len(n) > 8:
        return math.nan
    low = np.floor(count * n / n.sum()).astype(np.int64)
    extra = int(count - low.sum())
    best = math.inf
    for chosen in itertools.combinations(range(len(n)), extra):
        share = (low + np.isin(np.arange(len(n)), chosen)) / n
        best = min(best, float(share.max() - share.min()))
    return best


def _verdict(
    smd: float, closest: float, means: dict[str, float], measured: dict[str, int], more: str, kind: str
) -> str:
    if len(means) < 2:
        return "one form only"
    if any(math.isnan(v) for v in means.values()):
        empty = [f for f, v in means.items() if math.isnan(v)]
        return f"not measured in form {', '.join(empty)}"
    if smd < WELL_MATCHED:
        return "well matched"
    top = max(means, key=lambda f: means[f])
    bottom = min(means, key=lambda f: means[f])
    if smd <= closest + _EPS:
        hits = {f: int(round(means[f] * measured[f])) for f in (top, bottom)}
        return (
            f"as close as the bank allows: form {top} has {more} "
            f"({hits[top]} of {measured[top]} vs {hits[bottom]} of {measured[bottom]})"
        )
    word = "slightly uneven" if smd < UNEVEN else "uneven"
    return f"{word}: form {top} has {more} ({_shown(means[top], kind)} vs {_shown(means[bottom], kind)})"


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _size_verdict(counts: dict[str, int]) -> str:
    if len(counts) < 2:
        return "one form only"
    gap = max(counts.values()) - min(counts.values())
    return "equal sizes" if gap <= 1 else f"sizes differ by {gap} pairs"
