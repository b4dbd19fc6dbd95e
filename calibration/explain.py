"""Plain-language notes on a rater's statistics: what each number says about *this* rater.

:func:`plain_notes` reads a rater object of :func:`calibration.report.build_report`
and gives one sentence per statistic, with the rater's own figure and the
yardstick that makes it readable (a coin's score, 0 for perfect, 1 for no
pull). *My report* shows them beside the figures; the HTML report under its
confidence table. A statistic not estimated gets a sentence that says so.
"""

from __future__ import annotations

import math
from typing import Any

from pairs.export import signed_percent

__all__ = ["COIN_BRIER", "COIN_LOG_SCORE", "EFFECT_NAMES", "NOTE_KEYS", "plain_notes"]

COIN_BRIER = 0.25
"""The Brier score of always answering 50%."""

COIN_LOG_SCORE = math.log(0.5)
"""The log score of always answering 50% (about -0.693)."""

EFFECT_NAMES = {
    "length": "the longer answer (twice as long)",
    "polish": "the more formatted answer",
    "position": "the answer on the left",
}

NOTE_KEYS = (
    "brier",
    "overconfidence",
    "ece",
    "reliability",
    "resolution",
    "uncertainty",
    "log_score",
    "alpha",
    "odds_ratio",
)
"""The keys of :func:`plain_notes`, in the order a reader meets them."""


def _known(x: Any) -> bool:
    return x is not None and not (isinstance(x, float) and not math.isfinite(x))


def _brier(b: Any) -> str:
    if not _known(b):
        return "Brier score: not yet (it needs answers with a confidence on pairs that have a right answer)."
    verdict = (
        "better than a coin toss"
        if b < COIN_BRIER - 0.005
        else "no better than a coin toss"
        if b <= COIN_BRIER + 0.005
        else "worse than a coin toss: confident answers that were wrong cost you"
    )
    return (
        f"Your Brier score {b:.3f}: lower is better (0 is perfect); always answering 50% scores "
        f"{COIN_BRIER:.2f}, so yours is {verdict}."
    )


def _overconfidence(o: Any) -> str:
    if not _known(o):
        return "Overconfidence: not yet (it needs answers with a confidence)."
    shown = signed_percent(o)
    if shown == "0%":
        return "Overconfidence 0%: on average you are as sure as you are right, which is the aim."
    side = "more sure than you are right" if o > 0 else "less sure than you are right"
    return (
        f"Overconfidence {shown}: your mean confidence minus your accuracy; you are {side} "
        f"by {abs(o):.0%} on average (0% is the aim)."
    )


_FIGURES = {
    "ece": (
        "ECE",
        "{v:.3f}: at each confidence you state, how far, on average, your accuracy is from it: "
        "about {v:.0%} for you (0 is perfect).",
    ),
    "reliability": (
        "Reliability",
        "{v:.4f} (lower is better, 0 is perfect): the part of your Brier score that comes from "
        "confidence that does not match how often you are right.",
    ),
    "resolution": (
        "Resolution",
        "{v:.4f} (higher is better): how much your confidence tells your right answers from your wrong "
        "ones; 0 means you would be right as often whatever confidence you state.",
    ),
    "uncertainty": (
        "Uncertainty",
        "{v:.4f}: set by your accuracy alone (0.25 at 50% right, lower the more often you are right); "
        "your Brier score is reliability minus resolution plus uncertainty.",
    ),
}
"""The terms of the Brier decomposition and ECE: (name, sentence after the name, with ``{v}``)."""


def _figure(key: str, value: Any) -> str:
    name, sentence = _FIGURES[key]
    return f"{name}: not yet." if not _known(value) else f"{name} " + sentence.format(v=value)


def _log_score(s: Any) -> str:
    if not _known(s):
        return "Log score: not yet."
    verdict = "better than" if s > COIN_LOG_SCORE + 0.005 else "no better than"
    return (
        f"Your log score {s:.3f}: higher (closer to 0) is better; always answering 50% scores "
        f"{COIN_LOG_SCORE:.3f}, so yours is {verdict} a coin toss. A confident wrong answer costs a lot."
    )


def _alpha(agreement: dict[str, Any]) -> str:
    a = agreement.get("alpha_vs_gold")
    if a is None or not _known(a):
        reason = agreement.get("reason")
        why = f"; {str(reason).rstrip('.')}." if reason else "."
        return f"Agreement with the experts (Krippendorff's alpha): not yet{why}"
    if a >= 0.8:
        level = "reliable agreement"
    elif a >= 0.667:
        level = "agreement good enough for tentative conclusions"
    elif a > 0.05:
        level = "agreement beyond chance, but below the 0.667 usually asked of raters"
    else:
        level = "no agreement beyond chance"
    return (
        f"Your agreement with the experts (Krippendorff's alpha) {a:.2f}: 1 means you always pick the "
        f"expert's answer, 0 no better than chance; yours is {level}."
    )


def _odds_ratio(bias: dict[str, Any]) -> str:
    shown = [
        (effect, b)
        for effect, b in bias.items()
        if b and b.get("estimable") and _known(b.get("odds_ratio")) and effect in EFFECT_NAMES
    ]
    if not shown:
        return "Odds ratios: not yet (the bias model needs 30 judgments on pairs with a right answer)."
    effect, b = max(shown, key=lambda item: abs(math.log(item[1]["odds_ratio"])))
    odds = b["odds_ratio"]
    pull = "toward" if odds >= 1 else "away from"
    low, high = b.get("ci_low"), b.get("ci_high")
    apart = _known(low) and _known(high) and (low > 1 or high < 1)  # the 95% interval leaves out 1
    if b.get("significant"):
        clear = "clearly" if apart else "though the evidence is moderate (its interval reaches 1)"
    elif apart:
        clear = "though not clearly yet (its interval leaves out 1, but not by what the verdict needs)"
    else:
        clear = "though not clearly (its interval includes 1)"
    return (
        f"An odds ratio says how much a feature pulls your choice beyond what answer quality explains: "
        f"1 is no pull. Your largest is {odds:.2f} for {EFFECT_NAMES[effect]}: your odds of picking it "
        f"are {odds:.2f} times what its quality explains, a pull {pull} it, {clear}."
    )


def plain_notes(rater: dict[str, Any]) -> dict[str, str]:
    """One plain sentence per statistic of a rater's report, with the rater's own figure.

    Parameters
    ----------
    rater : dict
        A rater object of :func:`calibration.report.build_report` (``calibration``,
        ``agreement`` and ``bias`` are read).

    Returns
    -------
    dict of str to str
        Keyed by :data:`NOTE_KEYS`.

    Examples
    --------
    >>> notes = plain_notes({"calibration": {"brier": 0.18, "overconfidence": 0.08},
    ...                      "agreement": {"alpha_vs_gold": 0.41}, "bias": {}})
    >>> notes["brier"]
    'Your Brier score 0.180: lower is better (0 is perfect); always answering 50% scores 0.25, so yours is better than a coin toss.'
    >>> notes["overconfidence"]
    'Overconfidence +8%: your mean confidence minus your accuracy; you are more sure than you are right by 8% on average (0% is the aim).'
    """  # noqa: E501
    cal = rater.get("calibration", {})
    return {
        "brier": _brier(cal.get("brier")),
        "overconfidence": _overconfidence(cal.get("overconfidence")),
        **{key: _figure(key, cal.get(key)) for key in ("ece", "reliability", "resolution", "uncertainty")},
        "log_score": _log_score(cal.get("log_score")),
        "alpha": _alpha(rater.get("agreement", {})),
        "odds_ratio": _odds_ratio(rater.get("bias", {})),
    }
