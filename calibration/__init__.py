"""PairCal's statistics: how a rater's choices are swayed, and whether their confidence is right.

Statistics only: no storage, no user interface. Every function takes the
judgments joined to their bank by :func:`prepare` (one row per judgment) and
returns numbers or tidy DataFrames with documented columns.

=====================  ==========================================================
module                 what it computes
=====================  ==========================================================
``data``               :func:`prepare` (judgments joined to gold and features),
                       :func:`split_ties`
``bias``               length, polish and position bias per rater
                       (:func:`bias_by_rater`) and pooled (:func:`pooled_bias`),
                       plain rates, accuracy per trap kind
``firth``              Firth's penalized logistic regression, batched over raters
``confidence``         calibration of stated confidence per rater
``scoring``            Brier, log score, Murphy decomposition, ECE, slope
``reliability``        reliability bins and CORP diagrams
``agreement``          Krippendorff's alpha against gold and within the cohort
``items``              per-pair statistics and the gold audit
``latent``             the gold audit's model of raters and pairs (Dawid-Skene,
                       GLAD, MACE) and its Bayesian false discovery rule
``leaderboard``        a proper-score leaderboard, per-rater rows and ranking
``trend``              measures per week or day, and the test of a changing bias
                       (:func:`bias_trend`)
``report``             the report as data (:func:`build_report`, :func:`to_json`)
``render``             the report as Markdown and self-contained HTML
``explain``            plain-language notes on a rater's figures
``charts``             Altair charts (and SVG) of the statistics
``probes``             counterfactual probes: the style-pull test per probe kind
                       (:func:`probe_rates`) and the swap figure
                       (:func:`swap_consistency`)
``effect``             the training effect between assessment forms, the
                       qualification gate and readiness
``simulate``           simulated raters with planted biases, synthetic banks
``people``             simulated raters who behave like people (hard pairs,
                       fatigue, memory of repeats)
``intervals``          the Wilson and exact (Clopper-Pearson) intervals
=====================  ==========================================================

Every name of :data:`__all__` is importable from here (``from calibration
import build_report``); each module is imported on first use of one of its
names, so ``import calibration`` stays cheap (the charts load Altair).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, tuple[str, ...]] = {
    "agreement": ("ALPHA_COLUMNS", "N_BOOT", "alpha_by_rater", "alpha_vs_gold", "cohort_alpha"),
    "bias": (
        "BIAS_COLUMNS",
        "EFFECTS",
        "FAMILY_ALPHA",
        "HOLM_WEIGHTS",
        "MIN_JUDGMENTS",
        "TOWARD_SHARES",
        "across_raters",
        "benjamini_hochberg",
        "bias_by_rater",
        "directed",
        "holm",
        "plain_rates",
        "pooled_bias",
        "tag_accuracy",
    ),
    "charts": (
        "corp_diagram",
        "forest_plot",
        "reliability_diagram",
        "tag_accuracy_chart",
        "to_svg",
        "trend_chart",
    ),
    "confidence": ("SUMMARY_FIELDS", "calibration_by_rater", "calibration_summaries", "calibration_summary"),
    "data": ("JUDGMENT_COLUMNS", "prepare", "split_ties"),
    "explain": ("plain_notes",),
    "firth": ("FirthResult", "firth_logistic"),
    "intervals": ("clopper_pearson_interval", "wilson_interval"),
    "effect": ("EFFECT_COLUMNS", "effect_table", "qualification", "readiness", "training_effect"),
    "items": ("ITEM_COLUMNS", "agreement_model", "audit_summary", "item_table"),
    "latent": ("LatentFit", "bayesian_fdr", "fit_latent_truth"),
    "leaderboard": (
        "LEADERBOARD_COLUMNS",
        "MIN_RANKED",
        "PRIOR_JUDGMENTS",
        "RATER_SCORE_COLUMNS",
        "eb_scores",
        "leaderboard",
        "rank_raters",
        "rater_scores",
        "skill_points",
        "timestamp_streaks",
    ),
    "probes": ("probe_rates", "probe_rates_of", "swap_consistency"),
    "people": ("Person", "llmbar_like_bank", "simulate_people"),
    "reliability": (
        "BIN_COLUMNS",
        "CorpReliability",
        "corp_consistency_band",
        "corp_reliability",
        "reliability_bins",
    ),
    "render": ("to_html", "to_markdown"),
    "report": ("FORMATS", "build_report", "to_json"),
    "scoring": (
        "CalibrationFit",
        "MurphyDecomposition",
        "Overconfidence",
        "brier_loss",
        "brier_skill_score",
        "calibration_slope_intercept",
        "expected_calibration_error",
        "log_loss",
        "log_score",
        "murphy_decomposition",
        "overconfidence",
    ),
    "simulate": ("RaterSpec", "demo_cohort", "demo_raters", "simulate_judgments", "synthetic_bank"),
    "trend": ("BIAS_TREND_COLUMNS", "MEASURES", "TREND_COLUMNS", "bias_trend", "trend"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use (PEP 562).

    Parameters
    ----------
    name : str
        A name of :data:`__all__` (or a submodule).

    Returns
    -------
    object
        The function, class or constant.

    Raises
    ------
    AttributeError
        If ``name`` is not part of the public API.
    """
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'calibration' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"calibration.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public API, for ``dir(calibration)`` and completion.

    Returns
    -------
    list of str
        :data:`__all__`.
    """
    return list(__all__)
