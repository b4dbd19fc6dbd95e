"""The bias report: every statistic for a rater or a cohort, as plain data.

:func:`build_report` gathers the statistics of the other modules into plain
Python data (the JSON schema, documented in the README); :func:`to_json`
writes it. The Markdown and HTML renderers are in :mod:`calibration.render`
(and importable from here too, with :data:`FORMATS`).

Schema (``build_report(..., rater=ID)`` gives one rater object; without
``rater``, ``{"raters": [...], "cohort": {...}}``)::

    rater object
      rater, simulated, n, n_ties, accuracy, accuracy_ci_low, accuracy_ci_high,
      bias: {length|polish|position: {odds_ratio, ci_low, ci_high, p_value,
             significant, estimable, unit, summary, p_adjusted, correction}},
      trend: {length|polish: {change_per_100_judgments, ci_low, ci_high, p_value,
              p_adjusted, significant, estimable, summary}},
      plain_rates: [{dimension, n_gold_less, rate_gold_less, ci_low_gold_less,
                     ci_high_gold_less, n_gold_more, rate_gold_more, ..., p_value, summary}],
      calibration: {n, n_excluded, brier, brier_skill, log_score, reliability,
                    resolution, uncertainty, ece, overconfidence,
                    overconfidence_ci_low, overconfidence_ci_high, slope,
                    intercept, calibration, verdict,
                    bins: [{bin, confidence, accuracy, n, ci_low, ci_high}],
                    spiegelhalter_z, spiegelhalter_p_value, auc, auc_p_value,
                    resolution_shown, mcb, dsc, unc,
                    corp: [{confidence, calibrated, accuracy, n}]},
      agreement: {alpha_vs_gold, ci_low, ci_high, n, reason},
      tags: [{tag, n, accuracy, ci_low, ci_high, weak_spot}],
      tracks: [{track, n, correct, accuracy, ci_low, ci_high,
                length_or, length_ci_low, length_ci_high, length_significant,
                polish_..., position_...}]  (empty without ``domains``),
      n_split, n_tie_answers, n_tie_answers_on_ties, score,
      pair_easiness (judgments given their pair's easiness measured on the rest of the cohort),
      probes: {polish|padding|authority: {n, picked_styled, rate, ci_low, ci_high,
               expected, p_value, significant, summary},
               swap: {n, consistent, rate, ci_low, ci_high, summary}}
              (kinds without answers, and swap without swapped repeats, left out),
      verdict: [sentences, most important first],
      bias_method: [sentences: what the bias verdicts allow for]

    cohort object
      n_raters, n_judgments, n_ties, accuracy, simulated_raters,
      n_split, n_tie_answers, n_tie_answers_on_ties,
      bias: {...as above, pooled with cluster-robust intervals},
      bias_flags: [{rater, effect, odds_ratio, ci_low, ci_high, p_value, p_adjusted}],
      bias_flags_correction: str,
      calibration: {...as above, over all judgments},
      agreement: {alpha, ci_low, ci_high, n_raters, n_pairs, reason},
      leaderboard: [rows of calibration.leaderboard.leaderboard: rank, rater, n,
                    score, raw_score, ci_low, ci_high (95% posterior interval
                    of score), accuracy, overconfidence, length_or, polish_or,
                    streak, ranked, raw_ci_low, raw_ci_high, prior_judgments],
      gold_audit: [rows of calibration.items.item_table flagged gold_doubtful],
      gold_audit_method: {method, fdr, min_raters, n_audited, n_flagged,
                          expected_false_flags}  (calibration.items.audit_summary),
      tracks: [{track, n_raters, n, correct, accuracy, ci_low, ci_high,
                length_or, ..., position_significant}]  (empty without ``domains``),
      probes: {...as above, every rater's first answers pooled},
      verdict: [sentences]

Training effect (:mod:`calibration.effect`). When the judgments carry a
``form`` column with answers in assessment forms (``pre``, ``post``,
``retention``), every section above uses the drill answers only (``form``
empty; all answers when there are none), and, once there are answers in both
the pre and post forms, the rater objects of raters who took a form and the
cohort object gain::

    effect: {accuracy|score|brier_skill|overconfidence|length|polish|position|probe_KIND:
             {pre, post, change, ci_low, ci_high, p_value, significant, effect_size, n, summary}}
            (post form against pre form; for length, polish and position pre and
             post are odds ratios and change is their ratio),
    effect_retention: {...the same, retention form against post form: what is kept},
    effect_retention_vs_pre: {...the same, retention form against pre form},
    effect_n: {pre, post, retention}            (rater object: answers in each form)
    effect_n_raters, effect_order_balance: {versions, orders, balanced, adjusted,
             form_accuracy_effects, summary}    (cohort object)

Each is absent when there is nothing to compare; ``effect_retention`` and
``effect_retention_vs_pre`` are ``{}`` before any retention answers. The cohort's
``verdict`` opens with the training effect's sentences; a rater's verdict
says their change in accuracy. :func:`effect_csv` writes the table.

``simulated`` (and the cohort's ``simulated_raters``) says which raters the
*caller* names as simulated, with ``build_report(..., simulated=names)``: the
app and ``python -m calibration report --db`` pass the raters whose
``raters.simulated`` column is set in the database. Judgments read from a CSV
file carry no such mark, so their raters are real unless named with
``--simulated``. Nothing is inferred from a rater's name.

Split pairs and tie answers (``calibration.data``): ``accuracy`` counts agreement
with the experts' majority on decided pairs (a tie answer there does not agree);
``calibration``, ``bias``, ``plain_rates`` and ``agreement`` leave tie answers out
(they chose no side). The fields beside them: ``n_split``, judgments on pairs
where the experts split (``gold_confidence`` below 1); ``n_tie_answers``, answers
"About equally good"; ``n_tie_answers_on_ties``, those on gold ties (right
answers, outside ``accuracy`` as every gold tie is); ``score``, the rater's mean
ranked probability skill over every judgment with a confidence, expected over
the experts' split (the leaderboard's ``raw_score``; null without confidences).

Per track (``build_report(..., domains=...)``, the domain of each pair): each
rater's accuracy and bias on the pairs of each domain of the bank
(:func:`calibration.tracks.track_accuracy`), and the cohort's
(:func:`calibration.tracks.cohort_track_accuracy`: the raters' counts summed,
the pooled bias model on each track); a report built without ``domains`` has
``tracks: []`` in every rater object and in the cohort object.

Probes (:mod:`calibration.probes`): pairs of the bank that restyle one
response of a base pair. They count in ``n``, ``accuracy``, ``calibration``,
``score``, ``tags`` and ``tracks`` accuracy like any pair with a gold, but stay
out of ``bias``, ``plain_rates`` and the tracks' odds ratios (the model would
count the base's content twice); ``probes`` holds the test designed for them,
and the verdict says whether the probes and the model agree. ``swap`` needs
repeated answers, which the prepared frame has dropped: pass every answer with
``build_report(..., answers=judgments)`` (the CLI does); without it there is no
``swap``.

Calibration (:mod:`calibration.confidence`): ``calibration`` is one of
``"overconfident"``, ``"underconfident"``, ``"well calibrated"``, ``"not
enough data yet"``, ``"confidence without resolution"`` (confidence right on
average that does not tell right answers from wrong ones) or
``"miscalibrated"`` (right on average, spread too wide or narrow);
``spiegelhalter_z``/``spiegelhalter_p_value`` test every stated confidence at
once, ``auc``/``auc_p_value``/``resolution_shown`` whether right answers carry
more confidence than wrong ones, ``mcb``, ``dsc``, ``unc`` are CORP's
decomposition of the Brier score and ``corp`` its reliability diagram.

Bias inference (:mod:`calibration.bias`): ``p_value`` is the penalized
likelihood-ratio test and ``ci_low``/``ci_high`` the profile interval;
``significant`` is the verdict after correcting for multiple tests, with
``p_adjusted`` and ``correction`` saying which: weighted Holm over a rater's
bias dimensions at a 7% family-wise level (the cohort's: 5%), each dimension's
share spent mostly on the direction the traps push (longer, more polished, the
left: :data:`calibration.bias.TOWARD_SHARES`), ``significant`` when
``p_adjusted`` is below it. ``bias_flags`` lists the (rater, effect) pairs
flagged across the cohort with the Benjamini-Hochberg false discovery rate at
5% over every rater's tests, each spending its level on the directions as the
rater's own verdict does (:func:`calibration.bias.across_raters`);
``bias_flags_correction`` says so. ``trend`` is
:func:`calibration.trend.bias_trend`: whether the rater's length (polish)
odds ratio changes, per 100 judgments, with its test (a rater with fewer than
60 decided first answers gets ``estimable: false``).

NaN is written as ``null``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import pandas as pd

from calibration.agreement import N_BOOT, alpha_by_rater, alpha_vs_gold, cohort_alpha
from calibration.bias import (
    BIAS_COLUMNS,
    EFFECTS,
    across_raters,
    bias_by_rater,
    plain_rates,
    pooled_bias,
    tag_accuracy,
    with_cohort_easiness,
)
from calibration.confidence import calibration_summaries, calibration_summary
from calibration.effect import effect_table, training_effect
from calibration.intervals import wilson_interval
from calibration.items import audit_summary, item_table
from calibration.leaderboard import leaderboard
from calibration.probes import KINDS, probe_objects, probe_rates_of, probe_verdict, swap_consistency
from calibration.scoring import ranked_probability_skill
from calibration.tracks import TRACK_COLUMNS, cohort_track_accuracy, track_accuracy
from calibration.trend import BIAS_TREND_COLUMNS, bias_trend
from pairs.export import count_of

__all__ = ["CHARTS_FOR_AT_MOST", "FORMATS", "build_report", "effect_csv", "to_html", "to_json", "to_markdown"]

_BIAS_KEYS = BIAS_COLUMNS[BIAS_COLUMNS.index("odds_ratio") :]  # the columns after rater, effect, n
_TREND_KEYS = BIAS_TREND_COLUMNS[3:]  # after rater, effect, n
_FLAG_KEYS = ["rater", "effect", "odds_ratio", "ci_low", "ci_high", "p_value", "p_adjusted"]
_PLAIN_KEYS = [
    "dimension",
    "n_gold_less",
    "rate_gold_less",
    "ci_low_gold_less",
    "ci_high_gold_less",
    "n_gold_more",
    "rate_gold_more",
    "ci_low_gold_more",
    "ci_high_gold_more",
    "p_value",
    "summary",
]
_TAG_KEYS = ["tag", "n", "accuracy", "ci_low", "ci_high", "weak_spot"]


def build_report(
    prepared: pd.DataFrame,
    *,
    rater: str | None = None,
    n_boot: int = N_BOOT,
    simulated: Collection[str] = (),
    streaks: Mapping[str, int] | None = None,
    domains: Mapping[str, str] | pd.Series | None = None,
    answers: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The report for one rater, or for every rater and the cohort.

    The bias model is fitted once per report: the per-rater fit behind each
    rater's ``bias`` also gives the leaderboard's ``length_or`` and
    ``polish_or``. Per-rater statistics are computed for all raters together
    (grouped kernels), not rater by rater.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare`.
    rater : str, optional
        Report only this rater (a single rater object).
    n_boot : int, default 1000
        Bootstrap resamples for the agreement intervals.
    simulated : collection of str, default ()
        Raters to label as simulated (demo data, not people): the caller knows,
        e.g. from the database's ``raters.simulated`` column.
    streaks : mapping of str to int, optional
        Each rater's streak of finished daily drills, for the cohort
        leaderboard; without it the leaderboard estimates streaks from
        timestamps (see :func:`calibration.leaderboard.leaderboard`).
    domains : mapping or Series of str, optional
        The domain (track) of each pair, by pair id (e.g.
        :func:`calibration.tracks.bank_domains`); with it every rater object,
        and the cohort object, lists its accuracy and bias per track (``tracks``).
    answers : DataFrame, optional
        Every answer, repeats included (the judgments before
        :func:`calibration.data.first_answers`): the ``swap`` figures of
        ``probes`` (:func:`calibration.probes.swap_consistency`) need the
        repeats. Without it ``probes`` has no ``swap``.

    Returns
    -------
    dict
        The schema of the module docstring, JSON-ready (NaN as None).

    Raises
    ------
    ValueError
        If ``rater`` has no judgments.
    """
    simulated = {str(name) for name in simulated}
    if rater is not None:
        one, _ = _drills_and_forms(prepared[prepared["rater"] == rater])
        # the effect is fitted on every rater's forms given (the form-difficulty adjustment is
        # learnt from all of them), then this rater's entry is kept
        drills, forms = _drills_and_forms(prepared)
        if one.empty:
            raise ValueError(f"rater {rater!r} has no judgments.")
        one = _with_easiness(drills, one)
        bias = bias_by_rater(one)
        tracks = None if domains is None else track_accuracy(one, domains, bias=bias)
        mine = None if answers is None else answers[answers["rater"].astype(str) == str(rater)]
        probes = _probes(one, mine, by="rater")
        obj = _rater_objects(one, bias, n_boot=n_boot, simulated=simulated, tracks=tracks, probes=probes)[0]
        return _with_effect({"raters": [obj]}, _effect_of(forms), simulated)["raters"][0]
    prepared, forms = _drills_and_forms(prepared)
    prepared = _with_easiness(prepared, prepared)
    bias = bias_by_rater(prepared)
    tracks = None if domains is None else track_accuracy(prepared, domains, bias=bias)
    probes = _probes(prepared, answers, by="rater")
    raters = _rater_objects(prepared, bias, n_boot=n_boot, simulated=simulated, tracks=tracks, probes=probes)
    cohort = _cohort_object(
        prepared, bias, n_boot=n_boot, simulated=simulated, streaks=streaks, domains=domains, tracks=tracks
    )
    cohort["probes"] = _clean(_probes(prepared, answers, by=None).get("cohort", {}))
    cohort["verdict"] += [
        "Cohort: " + line for line in _probe_lines(cohort["probes"], cohort["bias"], you=False)
    ]
    return _with_effect({"raters": raters, "cohort": cohort}, _effect_of(forms), simulated)


def _with_easiness(cohort: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (a slice of ``cohort``) with each judgment's pair easiness measured on the rest of ``cohort``
    and its posterior variance (``easiness``, ``easiness_var``).

    Left as they are when they carry ``easiness`` already (e.g. from the app's
    cache), or when ``cohort``'s raters share no pair or its index does not
    name each row once (:func:`calibration.bias.with_cohort_easiness`).
    """
    if "easiness" in rows.columns or not cohort.index.is_unique:
        return rows
    measured = with_cohort_easiness(cohort)
    if "easiness" not in measured.columns:
        return rows
    columns = ["easiness", "easiness_var"]
    return rows.assign(**{c: measured[c].reindex(rows.index).to_numpy() for c in columns})


def _drills_and_forms(prepared: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The answers for the ordinary sections (drill answers, or every answer when all are in
    assessment forms) and the assessment-form answers (None without any)."""
    if "form" not in prepared.columns:
        return prepared, None
    in_form = prepared["form"].fillna("").astype(str).ne("").to_numpy()
    if not in_form.any():
        return prepared, None
    return (prepared[~in_form] if (~in_form).any() else prepared), prepared[in_form]


def _effect_of(forms: pd.DataFrame | None) -> dict[str, Any] | None:
    """:func:`calibration.effect.training_effect` of the form answers; None without pre and post answers."""
    if forms is None:
        return None
    try:
        return training_effect(forms)
    except ValueError:  # no post form yet: nothing to compare
        return None


def _with_effect(
    report: dict[str, Any], effect: dict[str, Any] | None, simulated: set[str]
) -> dict[str, Any]:
    """The report with the training effect's fields (module docstring); the cohort's verdict opens with it."""
    if effect is None:
        return report
    for obj in report["raters"]:
        mine = effect["raters"].get(str(obj["rater"]))
        if mine is None:
            continue
        obj.update(_clean({_EFFECT_FIELDS[k]: mine[k] for k in _EFFECT_FIELDS if k in mine}))
        first = obj["effect"]["accuracy"]["summary"]
        sentence = f"Between your assessment forms: {first[:1].lower()}{first[1:]}"
        obj["verdict"].insert(1 if obj["simulated"] else 0, sentence)
    if "cohort" in report:
        cohort = report["cohort"]
        cohort.update(
            _clean({_EFFECT_FIELDS[k]: effect["cohort"][k] for k in _EFFECT_FIELDS if k in effect["cohort"]})
        )
        lines = list(effect["cohort"]["summary"])
        n_simulated = sum(name in simulated for name in effect["raters"])
        if lines and n_simulated:
            lines[0] += f" {_simulated_of(n_simulated)} (demo data with planted learning)."
        cohort["verdict"] = lines + cohort["verdict"]
    return report


_EFFECT_FIELDS = {
    "effect": "effect",
    "retention": "effect_retention",
    "retention_vs_pre": "effect_retention_vs_pre",
    "n": "effect_n",
    "n_raters": "effect_n_raters",
    "order_balance": "effect_order_balance",
}
"""Keys of :func:`calibration.effect.training_effect`'s objects -> fields of the report's objects."""


def effect_csv(report: dict[str, Any]) -> str:
    """The training effect of a report as CSV: :func:`calibration.effect.effect_table` of its fields.

    Parameters
    ----------
    report : dict
        Output of :func:`build_report` (a cohort report, or one rater's object).

    Returns
    -------
    str
        CSV text with the columns :data:`calibration.effect.EFFECT_COLUMNS`
        (only the header when the report has no training effect).
    """
    from pairs.export import csv_text

    inverse = {field: key for key, field in _EFFECT_FIELDS.items()}

    def back(obj: dict[str, Any]) -> dict[str, Any]:
        return {inverse[k]: v for k, v in obj.items() if k in inverse}

    objects = report["raters"] if "raters" in report else [report]
    shaped = {"raters": {str(r["rater"]): back(r) for r in objects}, "cohort": back(report.get("cohort", {}))}
    return csv_text(effect_table(shaped), decimals=4)


def _probes(prepared: pd.DataFrame, answers: pd.DataFrame | None, *, by: str | None) -> dict[str, dict]:
    """The ``probes`` object of each rater (or of ``"cohort"``), keyed by rater id."""
    swaps = None
    if answers is not None and not answers.empty:
        swaps = swap_consistency(answers, by=by)
    return probe_objects(probe_rates_of(prepared, by=by), swaps)


def _probe_lines(probes: dict[str, Any], bias: dict[str, Any], *, you: bool) -> list[str]:
    """Verdict sentences on the probes: the model weighed against them, and a clear pull with no model twin.

    ``authority`` has no twin in the model: only a clear pull is said.
    """
    lines = probe_verdict(probes, bias, you=you)
    for kind in KINDS:
        if kind not in ("polish", "padding") and (probes.get(kind) or {}).get("significant"):
            lines.append(probes[kind]["summary"])
    return lines


def _by_rater(frame: pd.DataFrame, keys: list[str]) -> dict[str, list[dict[str, Any]]]:
    """``{rater: [row dicts with keys]}`` of a long per-rater table, in one pass."""
    out: dict[str, list[dict[str, Any]]] = {}
    for who, row in zip(frame["rater"].tolist(), frame[keys].to_dict("records"), strict=True):
        out.setdefault(who, []).append(row)
    return out


def _rater_objects(
    prepared: pd.DataFrame,
    bias: pd.DataFrame,
    *,
    n_boot: int,
    simulated: set[str],
    tracks: pd.DataFrame | None = None,
    probes: Mapping[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    probes = probes or {}
    bias_rows = _by_rater(bias, ["effect", *_BIAS_KEYS])
    trend_rows = _by_rater(bias_trend(prepared), ["effect", *_TREND_KEYS])
    plain = _by_rater(plain_rates(prepared), _PLAIN_KEYS)
    tags = _by_rater(tag_accuracy(prepared), _TAG_KEYS)
    by_track = {} if tracks is None else _by_rater(tracks, TRACK_COLUMNS[1:])
    raters = pd.unique(prepared["rater"])
    if len(raters) > 1:
        alphas = alpha_by_rater(prepared, n_boot=n_boot)
        agreement = {
            r["rater"]: {
                "alpha_vs_gold": r["alpha"],
                **{key: r[key] for key in ("ci_low", "ci_high", "n", "reason")},
            }
            for r in alphas.to_dict("records")
        }
        calibration = calibration_summaries(prepared)
    else:
        a = alpha_vs_gold(prepared, n_boot=n_boot)
        agreement = {
            raters[0]: {
                "alpha_vs_gold": a["alpha"],
                **{key: a[key] for key in ("ci_low", "ci_high", "n", "reason")},
            }
        }
        calibration = {raters[0]: calibration_summary(prepared)}
    # judgments, ties and right answers per rater, for all raters at once
    code = pd.Index(raters).get_indexer(prepared["rater"])
    tie = prepared["tie"].to_numpy(dtype=bool)
    n = np.bincount(code, minlength=len(raters))
    n_ties = np.bincount(code[tie], minlength=len(raters))
    right = np.bincount(
        code[~tie], weights=prepared["correct"].to_numpy(dtype=float)[~tie], minlength=len(raters)
    )
    right = np.rint(right).astype(int)
    decided = n - n_ties
    low, high = wilson_interval(right, decided)
    counts = _split_and_tie_counts(prepared, code, len(raters))
    measured = np.zeros(len(raters), dtype=int)  # judgments given their pair's easiness in the cohort
    if "easiness" in prepared.columns:
        has = prepared["easiness"].notna().to_numpy()
        measured = np.bincount(code[has], minlength=len(raters))
    out = []
    for i, rater in enumerate(raters):
        obj = {
            "rater": rater,
            "simulated": str(rater) in simulated,
            "n": int(n[i]),
            "n_ties": int(n_ties[i]),
            "accuracy": right[i] / decided[i] if decided[i] else math.nan,
            "accuracy_ci_low": float(low[i]),
            "accuracy_ci_high": float(high[i]),
            "bias": {r["effect"]: {key: r[key] for key in _BIAS_KEYS} for r in bias_rows.get(rater, [])},
            "trend": {r["effect"]: {key: r[key] for key in _TREND_KEYS} for r in trend_rows.get(rater, [])},
            "plain_rates": plain.get(rater, []),
            "calibration": calibration[str(rater)],
            "agreement": agreement[rater],
            "tags": tags.get(rater, []),
            "tracks": by_track.get(rater, []),
            **counts[i],
            "probes": probes.get(str(rater), {}),
            "pair_easiness": int(measured[i]),
        }
        obj["verdict"] = _rater_verdict(obj)
        obj["bias_method"] = _bias_method(obj)
        out.append(_clean(obj))
    return out


def _split_and_tie_counts(prepared: pd.DataFrame, code: np.ndarray, n_groups: int) -> list[dict[str, Any]]:
    """Per group: judgments on split pairs, tie answers, tie answers on gold ties, and the mean score."""
    tie = prepared["tie"].to_numpy(dtype=bool)
    tie_answer = prepared["choice"].eq("tie").to_numpy(dtype=bool)
    share = prepared["gold_share"] if "gold_share" in prepared.columns else pd.Series(np.nan, prepared.index)
    split = share.to_numpy(dtype=float) < 1
    confidence = prepared["confidence"].to_numpy(dtype=float)
    has = ~np.isnan(confidence)
    points = np.zeros(len(prepared))
    points[has] = ranked_probability_skill(
        prepared["choice"].to_numpy(dtype=object)[has],
        confidence[has],
        prepared["gold"].to_numpy(dtype=object)[has],
        share.to_numpy(dtype=float)[has],
    )
    n_split = np.bincount(code[split], minlength=n_groups)
    n_tie_answers = np.bincount(code[tie_answer], minlength=n_groups)
    on_ties = np.bincount(code[tie_answer & tie], minlength=n_groups)
    n_scored = np.bincount(code[has], minlength=n_groups)
    total = np.bincount(code[has], weights=points[has], minlength=n_groups)
    return [
        {
            "n_split": int(n_split[i]),
            "n_tie_answers": int(n_tie_answers[i]),
            "n_tie_answers_on_ties": int(on_ties[i]),
            "score": float(total[i] / n_scored[i]) if n_scored[i] else math.nan,
        }
        for i in range(n_groups)
    ]


def _cohort_object(
    prepared: pd.DataFrame,
    bias: pd.DataFrame,
    *,
    n_boot: int,
    simulated: set[str],
    streaks: Mapping[str, int] | None,
    domains: Mapping[str, str] | pd.Series | None = None,
    tracks: pd.DataFrame | None = None,
) -> dict[str, Any]:
    tie = prepared["tie"].to_numpy(dtype=bool)
    correct = prepared["correct"].to_numpy(dtype=float)[~tie]
    pooled = pooled_bias(prepared)
    agreement = cohort_alpha(prepared, n_boot=n_boot)
    items = item_table(prepared)
    board = leaderboard(prepared, bias=bias, streaks=streaks)
    flags = across_raters(bias)
    raters = pd.unique(prepared["rater"])
    cal = calibration_summary(prepared.assign(rater="cohort"))
    by_track = (
        []
        if domains is None
        else cohort_track_accuracy(prepared, domains, by_rater=tracks, pooled=pooled).to_dict("records")
    )
    obj = {
        "n_raters": len(raters),
        "simulated_raters": int(sum(str(r) in simulated for r in raters)),
        "n_judgments": len(prepared),
        "n_ties": int(tie.sum()),
        "accuracy": float(correct.mean()) if len(correct) else math.nan,
        **{
            key: value
            for key, value in _split_and_tie_counts(prepared, np.zeros(len(prepared), dtype=int), 1)[
                0
            ].items()
            if key != "score"
        },
        "bias": {r["effect"]: {key: r[key] for key in _BIAS_KEYS} for r in pooled.to_dict("records")},
        "bias_flags": flags.loc[flags["significant"], _FLAG_KEYS].to_dict("records"),
        "bias_flags_correction": _flags_correction(flags),
        "calibration": cal,
        "agreement": {
            "alpha": agreement["alpha"],
            **{key: agreement[key] for key in ("ci_low", "ci_high", "n_raters", "n_pairs", "reason")},
        },
        "leaderboard": board.to_dict("records"),
        "gold_audit": items[items["gold_doubtful"]].to_dict("records"),
        "gold_audit_method": audit_summary(items),
        "tracks": by_track,
    }
    obj["verdict"] = _cohort_verdict(obj)
    return _clean(obj)


def _rater_verdict(obj: dict[str, Any]) -> list[str]:
    lines = []
    if obj["simulated"]:
        lines.append("This is a simulated rater (demo data), not a person.")
    n_dec = obj["n"] - obj["n_ties"]
    if n_dec:
        lines.append(
            f"You agreed with the expert on {obj['accuracy']:.0%} of {count_of(n_dec, 'pair')} "
            f"(95% CI {obj['accuracy_ci_low']:.0%}-{obj['accuracy_ci_high']:.0%})."
        )
    significant = [e for e in EFFECTS if obj["bias"].get(e, {}).get("significant")]
    lines += _bias_lines(obj["bias"], significant + [e for e in EFFECTS if e not in significant])
    lines += [t["summary"] for t in obj.get("trend", {}).values() if t.get("significant")]
    lines += _probe_lines(obj["probes"], obj["bias"], you=True)
    if obj["calibration"].get("verdict"):
        lines.append(obj["calibration"]["verdict"])
    weak = [t["tag"] for t in obj["tags"] if t.get("weak_spot")]
    if weak:
        lines.append("You miss these trap kinds more than others: " + ", ".join(weak) + ".")
    return lines


def _bias_method(obj: dict[str, Any]) -> list[str]:
    """How a rater's bias verdicts were made, in plain sentences (none without an estimable line).

    Shown beside the bias figures, not in the verdict: they say what the
    verdicts allow for, not what the rater does."""
    estimable = [b for b in obj["bias"].values() if b.get("estimable")]
    if not estimable:
        return []
    lines = []
    corrected = {b.get("correction") for b in estimable} - {None, ""}
    if any(c.startswith("Holm") for c in corrected):
        lines.append(
            f"These bias verdicts allow for testing {len(estimable)} dimensions at once (Holm's correction), "
            "so a chance pull in one of them is not reported as a bias."
        )
    lines.append(
        "The bias verdicts look first for the pulls the drills' traps set (toward longer, more "
        "polished and left answers), so a pull the other way needs stronger evidence to be called."
    )
    if obj.get("pair_easiness"):
        lines.append(
            "Your bias verdicts allow for how hard each pair was for the rest of your cohort "
            f"({count_of(obj['pair_easiness'], 'judgment')} of yours; a pair no one else judged counts "
            "as hard as its kind), so a pair that was hard for everyone does not count as a pull."
        )
    return lines


def _bias_lines(bias: dict[str, Any], order: list[str]) -> list[str]:
    """One sentence per effect; effects sharing a sentence (e.g. "not enough data yet") share one line."""
    by_summary: dict[str, list[str]] = {}
    for effect in order:
        summary = bias.get(effect, {}).get("summary")
        if summary:
            by_summary.setdefault(summary, []).append(effect)
    lines = []
    for summary, effects in by_summary.items():
        if len(effects) == 1:
            lines.append(summary)
        else:
            names = ", ".join(effects[:-1]) + " and " + effects[-1]
            lines.append(f"{names.capitalize()} bias: {summary[0].lower()}{summary[1:]}")
    return lines


def _simulated_of(n: int) -> str:
    """How many of the raters are simulated, the verb agreeing with the count."""
    return f"{n} of the raters {'is' if n == 1 else 'are'} simulated"


def _flags_correction(flags: pd.DataFrame) -> str:
    """The correction behind ``bias_flags`` ("" when no rater had a bias test)."""
    used = flags.loc[flags["estimable"], "correction"]
    return str(used.iloc[0]) if len(used) else ""


def _cohort_verdict(obj: dict[str, Any]) -> list[str]:
    lines = [
        f"{count_of(obj['n_raters'], 'rater')}, {count_of(obj['n_judgments'], 'judgment')}; "
        "the cohort agreed with the experts on "
        f"{obj['accuracy']:.0%} of decided pairs."
        if obj["n_judgments"]
        else "No judgments yet."
    ]
    if obj["simulated_raters"]:
        lines.append(f"{_simulated_of(obj['simulated_raters'])} (demo data).")
    lines += ["Cohort: " + line for line in _bias_lines(obj["bias"], list(EFFECTS))]
    if obj.get("bias_flags_correction"):
        flagged = len({f["rater"] for f in obj["bias_flags"]})
        rate = f"the false discovery rate controlled at 5% ({obj['bias_flags_correction']})"
        lines.append(
            f"No rater flagged for a bias across the cohort, {rate}."
            if flagged == 0
            else f"{count_of(flagged, 'rater')} flagged for a bias across the cohort, {rate}: "
            "about 1 flag in 20 may be chance."
        )
    if obj["gold_audit"]:
        disputed = len(obj["gold_audit"])
        has = "has" if disputed == 1 else "have"
        lines.append(f"{count_of(disputed, 'pair')} {has} a gold that strong raters dispute: review them.")
    return lines


def _clean(value: Any) -> Any:
    """Plain JSON-ready Python: numpy scalars unwrapped, NaN and NaT as None, tuples as lists.

    Dispatches on the exact type first: a cohort report holds a few hundred
    thousand values, nearly all plain floats, strings and ints.
    """
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {str(k): _clean(v) for k, v in value.items()}
    if kind is list or kind is tuple or kind is np.ndarray:
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return _clean(value.item())
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (str, int)):
        return value
    if value is pd.NaT or pd.isna(value):
        return None
    return value


def to_json(report: dict[str, Any]) -> str:
    """The report as strict JSON (no NaN), two-space indented.

    Parameters
    ----------
    report : dict
        Output of :func:`build_report`.

    Returns
    -------
    str
        UTF-8-ready JSON text (non-ASCII characters kept as they are).
    """
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False)


# The renderers live in calibration.render; they are importable from here too.
from calibration.render import CHARTS_FOR_AT_MOST, to_html, to_markdown  # noqa: E402

FORMATS = {"json": to_json, "md": to_markdown, "html": to_html}
"""Renderer of each ``--format`` of ``python -m calibration report``."""
