"""Simulated raters with planted skill, biases and (mis)calibration.

Everything PairCal measures can be checked against a rater whose truth is
known. :func:`synthetic_bank` makes pairs of generated texts whose length and
polish differences vary widely and are independent of gold;
:func:`simulate_judgments` lets :class:`RaterSpec` raters judge them.

The choice model is exactly the bias model of :mod:`calibration.bias`. For a
judgment with gold on the left (:math:`g = +1`), on the right (:math:`g = -1`)
or a tie (:math:`g = 0`), the rater perceives

.. math::

    U = s g + b + \\varepsilon, \\qquad
    b = \\beta_{pos} + \\beta_{len} \\ell + \\beta_{pol} \\pi / 0.5, \\qquad
    \\varepsilon \\sim \\text{Logistic}(0, 1),

with :math:`\\ell` the log2 word ratio and :math:`\\pi` the normalized polish
difference, left minus right, and picks the left answer when :math:`U > 0`. So
:math:`P(\\text{left}) = \\operatorname{expit}(s g + b)`: ``skill`` :math:`s` is
the log odds of picking gold over the other answer, all else equal, and the
biases are log odds ratios per doubling, per 0.5 polish difference and for the
left side.

Calibration truth. The evidence in :math:`U` is :math:`u = U - b = s g +
\\varepsilon`; with gold equally likely on either side, the probability that
the chosen answer is gold is

.. math::

    p = \\operatorname{expit}(\\pm\\lambda(u)), \\qquad
    \\lambda(u) = \\log \\frac{\\phi(u - s)}{\\phi(u + s)}
              = 2 \\log\\cosh\\frac{u + s}{2} - 2 \\log\\cosh\\frac{u - s}{2},

(:math:`\\phi` the logistic density; + when the left answer was chosen). A
calibrated rater (``confidence_scale = 1``) states :math:`p`; others state
:math:`\\operatorname{expit}(\\gamma \\operatorname{logit} p)`, over-confident
for :math:`\\gamma > 1` and under-confident for :math:`\\gamma < 1`. Statements
are rounded to the slider step (1%) and kept in [0.5, 1]. When a bias made
the rater pick against their own evidence, :math:`p < 0.5`, which the slider
cannot express: it is stated as 0.5 (``truth=True`` keeps :math:`p`). This
truth holds on banks where length and polish are independent of gold, as in
:func:`synthetic_bank`; on a real bank, where the longer answer is often the
trap, the rater's "prior 1/2" no longer matches the bank.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from calibration.bias import POLISH_UNIT
from pairs.bank import COLUMNS, KNOWN_TAGS
from pairs.features import pair_features

__all__ = [
    "CONFIDENCE_STEP",
    "RaterSpec",
    "demo_cohort",
    "demo_raters",
    "simulate_forms",
    "simulate_judgments",
    "synthetic_bank",
]

#: Step of the confidence slider.
CONFIDENCE_STEP = 0.01

#: Drills are this many judgments long; a rater does one drill per day.
DRILL_LENGTH = 10

_VOCABULARY = np.array(
    """
    answer system value result method model number table record process signal
    change review detail reason option factor source element summary feature
    account report request design pattern measure effect sample context outcome
    balance content version example problem solution context section format
    clear simple careful quick steady useful common direct general typical
    often usually rarely always simply mostly partly mainly nearly probably
    uses shows gives makes takes keeps finds needs helps turns moves holds
    """.split()
)
_EMOJIS = np.array(["\u2705", "\U0001f680", "\U0001f4a1", "\u2b50"])
_CONTENT_TAGS = tuple(t for t in KNOWN_TAGS if t not in ("length", "polish"))
_MARKDOWN_KINDS = 5  # headers, list items, bold, links, emojis


@dataclass(frozen=True)
class RaterSpec:
    """A simulated rater's planted truth (all effects on the log-odds scale).

    Parameters
    ----------
    rater : str
        Rater id.
    skill : float, default 1.0
        Log odds of picking gold over the other answer, all else equal
        (``expit(skill)`` is the accuracy on a pair without length, polish or
        position pull). Must be >= 0.
    length_bias : float, default 0.0
        Log odds ratio of picking an answer per doubling of its length relative
        to the other (``log(2)``: odds x2 when one answer is twice as long).
    polish_bias : float, default 0.0
        Log odds ratio per 0.5 of polish difference (``pairs.features``).
    position_bias : float, default 0.0
        Log odds of picking the left answer, all else equal.
    confidence_scale : float, default 1.0
        :math:`\\gamma` in ``stated = expit(gamma * logit(p))``: 1 calibrated,
        > 1 over-confident, < 1 under-confident.
    records_left : bool, default True
        When False the judgments have no ``left`` (as from an old export).
    states_confidence : bool, default True
        When False ``confidence`` is NaN.
    """

    rater: str
    skill: float = 1.0
    length_bias: float = 0.0
    polish_bias: float = 0.0
    position_bias: float = 0.0
    confidence_scale: float = 1.0
    records_left: bool = True
    states_confidence: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.rater, str) or not self.rater:
            raise ValueError(f"rater must be a non-empty string; got {self.rater!r}.")
        for name in ("skill", "length_bias", "polish_bias", "position_bias", "confidence_scale"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} of rater {self.rater!r} must be finite.")
        if self.skill < 0:
            raise ValueError(f"skill of rater {self.rater!r} must be >= 0; got {self.skill}.")
        if self.confidence_scale <= 0:
            raise ValueError(
                f"confidence_scale of rater {self.rater!r} must be > 0; got {self.confidence_scale}."
            )


def synthetic_bank(n_pairs: int, *, seed: int, tie_share: float = 0.0) -> pd.DataFrame:
    """A bank of generated pairs whose length and polish are independent of gold.

    Each pair has a gold response and another one whose lengths are
    exchangeable: a geometric mean length log-uniform in [25, 250] words and a
    word ratio log-uniform in [1/6, 6], split evenly between the two (so each
    answer has 10-612 words); 0-12 markdown elements each, drawn independently
    (headers, list items, bold spans, links and emojis in random proportions).
    Gold is put on side A for exactly half of the pairs (counterbalanced). So
    the gold-minus-other length and polish differences are symmetric about 0
    and carry no information about gold. Texts are filler words; only their
    length and formatting matter.

    Tags: ``length`` when the other answer is at least 1.5 times longer than
    gold (``(words + 1)`` ratio), ``polish`` when it has more markdown, else one
    of ``constraint``, ``factual``, ``sycophancy``, ``control`` at random (these
    carry no simulated effect).

    Parameters
    ----------
    n_pairs : int
        Number of pairs (ids ``syn-00001``, ``syn-00002``, ...).
    seed : int
        Seed of the random generator.
    tie_share : float, default 0.0
        Share of pairs whose gold is ``"tie"``.

    Returns
    -------
    DataFrame
        Columns :data:`pairs.bank.COLUMNS` (``source`` is ``"paircal-synthetic"``,
        ``domain`` ``"synthetic"``, ``gold_confidence`` NaN).

    Examples
    --------
    >>> bank = synthetic_bank(4, seed=0)
    >>> bank["id"].tolist(), bank["gold"].tolist()
    (['syn-00001', 'syn-00002', 'syn-00003', 'syn-00004'], ['A', 'B', 'B', 'A'])
    """
    if isinstance(n_pairs, bool) or not isinstance(n_pairs, (int, np.integer)) or n_pairs < 1:
        raise ValueError(f"n_pairs must be a positive integer; got {n_pairs!r}.")
    if not 0 <= tie_share <= 1:
        raise ValueError(f"tie_share must be in [0, 1]; got {tie_share!r}.")
    rng = np.random.default_rng(seed)
    n = int(n_pairs)
    middle = np.exp(rng.uniform(np.log(25), np.log(250), n))
    root_ratio = np.sqrt(2.0 ** rng.uniform(-np.log2(6), np.log2(6), n))
    words_gold = np.rint(middle * root_ratio).astype(int)
    words_other = np.rint(middle / root_ratio).astype(int)
    polish_gold = rng.integers(0, 13, n)
    polish_other = rng.integers(0, 13, n)
    kinds = np.full(_MARKDOWN_KINDS, 1.0 / _MARKDOWN_KINDS)
    texts_gold, wg = _texts(words_gold, rng.multinomial(polish_gold, kinds), rng)
    texts_other, wo = _texts(words_other, rng.multinomial(polish_other, kinds), rng)

    order = rng.permutation(n)
    n_gold_a = n // 2 + int(rng.integers(0, 2)) * (n % 2)  # exactly half; a coin decides an odd one
    gold = np.where(order < n_gold_a, "A", "B").astype(object)
    ties = rng.permutation(n) < round(tie_share * n)
    a_is_gold = gold == "A"
    response_a = np.where(a_is_gold, texts_gold, texts_other)
    response_b = np.where(a_is_gold, texts_other, texts_gold)
    gold[ties] = "tie"

    length_trap = (wo + 1) >= LENGTH_TRAP_RATIO * (wg + 1)
    polish_trap = polish_other > polish_gold
    content = np.asarray(_CONTENT_TAGS, dtype=object)[rng.integers(0, len(_CONTENT_TAGS), n)]
    tags = [
        (("length",) if lt else ()) + (("polish",) if pt else ()) or (c,)
        for lt, pt, c in zip(length_trap, polish_trap, content, strict=True)
    ]
    topics = _VOCABULARY[rng.integers(0, len(_VOCABULARY), n)]
    return pd.DataFrame(
        {
            "id": [f"syn-{i:05d}" for i in range(1, n + 1)],
            "prompt": [
                f"Synthetic prompt {i}: write a short note about the {t}." for i, t in enumerate(topics, 1)
            ],
            "response_a": response_a,
            "response_b": response_b,
            "gold": gold,
            "rationale": "Synthetic pair: gold was drawn at random, independent of length and formatting.",
            "tags": tags,
            "domain": "synthetic",
            "source": "paircal-synthetic",
            "gold_confidence": np.nan,
            "probe": "",
            "probe_of": "",
            "styled": "",
        }
    )[COLUMNS]


#: Word ratio from which :func:`synthetic_bank` tags a pair ``length``.
LENGTH_TRAP_RATIO = 1.5


def _texts(words: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Filler texts with ``words`` body words and ``counts`` (n, 5) markdown elements.

    Returns the texts and their whitespace-separated token counts.
    """
    headers, items, bold, links, emojis = counts.T
    need = np.maximum(words, 2 * headers + 3 * items + bold + links + 1)
    stream = _VOCABULARY[rng.integers(0, len(_VOCABULARY), int(need.sum()))].tolist()
    emoji_pick = _EMOJIS[rng.integers(0, len(_EMOJIS), int(emojis.sum()))].tolist()
    texts, tokens = [], []
    at = e_at = 0
    for w, h, li, bo, lk, em in zip(
        need.tolist(),
        headers.tolist(),
        items.tolist(),
        bold.tolist(),
        links.tolist(),
        emojis.tolist(),
        strict=True,
    ):
        body = stream[at : at + w]
        at += w
        head_words, body = body[: 2 * h], body[2 * h :]
        item_words, body = body[: 3 * li], body[3 * li :]
        for j in range(bo):
            body[j] = f"**{body[j]}**"
        for j in range(bo, bo + lk):
            body[j] = f"[{body[j]}](https://example.org/{j})"
        body[-1] += "."
        body += emoji_pick[e_at : e_at + em]
        e_at += em
        chunks = np.array_split(np.array(body, dtype=object), h + 1)
        lines = [" ".join(chunks[0])]
        for k in range(h):
            lines.append(f"## {head_words[2 * k].capitalize()} {head_words[2 * k + 1]}")
            lines.append(" ".join(chunks[k + 1]))
        if li:
            lines.append("\n".join(f"- {' '.join(item_words[3 * k : 3 * k + 3])}" for k in range(li)))
        text = "\n\n".join(line for line in lines if line)
        texts.append(text)
        tokens.append(w + h + li + em)
    return np.array(texts, dtype=object), np.array(tokens)


def simulate_judgments(
    bank: pd.DataFrame,
    raters: list[RaterSpec],
    *,
    n_per_rater: int,
    seed: int,
    start: str | pd.Timestamp = "2025-01-06",
    truth: bool = False,
) -> pd.DataFrame:
    """Judgments of simulated raters on a bank, in the judgment-store layout.

    Each rater judges ``n_per_rater`` pairs drawn at random without repetition
    (pairs repeat only when ``n_per_rater`` exceeds the bank, each pair then
    appearing as evenly as possible), each shown with A on the left or right
    at random, and chooses by the model in the module docstring. Judgments come
    in drills of :data:`DRILL_LENGTH`, one drill a day, 1-3 days apart, starting
    between 08:00 and 21:00 UTC; ``seconds`` grows with the words to read
    (about 20 s plus 5 words a second, times a log-normal factor).

    Parameters
    ----------
    bank : DataFrame
        A pair bank (``pairs.bank`` columns).
    raters : list of RaterSpec
        Raters with distinct ids.
    n_per_rater : int
        Judgments per rater.
    seed : int
        Seed of the random generator.
    start : str or Timestamp, default "2025-01-06"
        Day of the first drills (UTC).
    truth : bool, default False
        Add the column ``p_correct``: the true probability that the choice is
        gold (NaN on ties), from which a calibrated rater's confidence is the
        rounding.

    Returns
    -------
    DataFrame
        Columns ``rater, pair_id, choice, confidence, left, answered_at,
        seconds`` (and ``p_correct``), raters in the given order, each rater's
        judgments in time order.

    Examples
    --------
    >>> bank = synthetic_bank(50, seed=0)
    >>> sim = simulate_judgments(bank, [RaterSpec("sim-a")], n_per_rater=20, seed=1)
    >>> list(sim.columns), len(sim), sim["pair_id"].is_unique
    (['rater', 'pair_id', 'choice', 'confidence', 'left', 'answered_at', 'seconds'], 20, True)
    """
    specs = list(raters)
    if not specs or not all(isinstance(r, RaterSpec) for r in specs):
        raise ValueError("raters must be a non-empty list of RaterSpec.")
    ids = [r.rater for r in specs]
    if len(set(ids)) != len(ids):
        raise ValueError("raters must have distinct ids.")
    if isinstance(n_per_rater, bool) or not isinstance(n_per_rater, (int, np.integer)) or n_per_rater < 1:
        raise ValueError(f"n_per_rater must be a positive integer; got {n_per_rater!r}.")
    if len(bank) == 0:
        raise ValueError("bank has no pairs.")
    rng = np.random.default_rng(seed)
    R, n = len(specs), int(n_per_rater)
    feats = pair_features(bank)
    pair_ids = bank["id"].astype(str).to_numpy()
    gold = bank["gold"].to_numpy(dtype=object)
    ld = feats["length_doublings"].reindex(pair_ids).to_numpy(dtype=float)
    pd_ = feats["polish_diff"].reindex(pair_ids).to_numpy(dtype=float)
    words = (feats["words_a"] + feats["words_b"]).reindex(pair_ids).to_numpy(dtype=float)

    idx = _draw_pairs(R, n, len(bank), rng)  # (R, n)
    a_left = rng.random((R, n)) < 0.5
    sign = np.where(a_left, 1.0, -1.0)  # orientation: left minus right
    g = np.select([gold[idx] == "A", gold[idx] == "B"], [1.0, -1.0], 0.0) * sign
    spec = {f: np.array([getattr(r, f) for r in specs], dtype=float)[:, None] for f in _SPEC_FIELDS}
    length, polish = sign * ld[idx], sign * pd_[idx] / POLISH_UNIT
    b = spec["position_bias"] + spec["length_bias"] * length + spec["polish_bias"] * polish
    u = spec["skill"] * g + rng.logistic(size=(R, n))  # the evidence
    pick_left = u + b > 0
    lam = 2 * (_logcosh((u + spec["skill"]) / 2) - _logcosh((u - spec["skill"]) / 2))
    p_correct = expit(np.where(pick_left, lam, -lam))
    stated = expit(spec["confidence_scale"] * logit(np.maximum(p_correct, 0.5)))
    confidence = np.clip(np.round(stated / CONFIDENCE_STEP) * CONFIDENCE_STEP, 0.5, 1.0)
    confidence[~np.array([r.states_confidence for r in specs])] = np.nan

    left = np.where(a_left, "A", "B").astype(object)
    choice = np.where(pick_left == a_left, "A", "B").astype(object)
    left[~np.array([r.records_left for r in specs])] = None
    seconds = np.round(np.clip((20 + words[idx] / 5) * rng.lognormal(0.0, 0.4, (R, n)), 3, 1800), 1)
    answered_at = _timestamps(seconds, pd.Timestamp(start), rng)

    out = pd.DataFrame(
        {
            "rater": np.repeat(np.array(ids, dtype=object), n),
            "pair_id": pair_ids[idx].ravel(),
            "choice": choice.ravel(),
            "confidence": confidence.ravel(),
            "left": left.ravel(),
            "answered_at": answered_at,
            "seconds": seconds.ravel(),
        }
    )
    if truth:
        out["p_correct"] = np.where(g == 0, np.nan, p_correct).ravel()
    return out


_SPEC_FIELDS = ("skill", "length_bias", "polish_bias", "position_bias", "confidence_scale")


def _logcosh(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    return ax + np.log1p(np.exp(-2 * ax)) - np.log(2.0)


def _draw_pairs(R: int, n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """(R, n) bank indices: without repetition per rater unless ``n > size``."""
    if 4 * n <= size:
        # rejection: redraw duplicates until none; uniform over repetition-free
        # sequences because the procedure is symmetric in the labels
        idx = rng.integers(0, size, (R, n))
        while True:
            order = np.argsort(idx, axis=1, kind="stable")
            sorted_idx = np.take_along_axis(idx, order, axis=1)
            dup = np.zeros_like(idx, dtype=bool)
            np.put_along_axis(dup, order[:, 1:], sorted_idx[:, 1:] == sorted_idx[:, :-1], axis=1)
            if not dup.any():
                return idx
            idx[dup] = rng.integers(0, size, int(dup.sum()))
    rounds = -(-n // size)
    out = np.empty((R, rounds * size), dtype=np.int64)
    per_chunk = max(1, 4_000_000 // (rounds * size))
    for lo in range(0, R, per_chunk):
        hi = min(R, lo + per_chunk)
        base = np.broadcast_to(np.arange(size), (hi - lo, rounds, size))
        out[lo:hi] = rng.permuted(base, axis=2).reshape(hi - lo, -1)
    return out[:, :n]


def _timestamps(seconds: np.ndarray, start: pd.Timestamp, rng: np.random.Generator) -> pd.DatetimeIndex:
    """Answer times: drills of :data:`DRILL_LENGTH`, one a day, each item after the previous one."""
    R, n = seconds.shape
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    start = start.normalize()
    drill = np.arange(n) // DRILL_LENGTH
    n_drills = int(drill[-1]) + 1
    gaps = rng.integers(1, 4, (R, n_drills))
    gaps[:, 0] = rng.integers(0, 7, R)
    day = np.cumsum(gaps, axis=1)
    drill_start = day * 86_400.0 + rng.uniform(8, 21, (R, n_drills)) * 3_600.0
    padded = np.zeros((R, n_drills * DRILL_LENGTH))
    padded[:, :n] = seconds
    elapsed = np.cumsum(padded.reshape(R, n_drills, DRILL_LENGTH), axis=2).reshape(R, -1)[:, :n]
    offset = drill_start[:, drill] + elapsed
    return start + pd.to_timedelta(offset.ravel(), unit="s")


_ARCHETYPES = {
    "steady": {"skill": 1.5},
    "overconfident": {"skill": 1.0, "confidence_scale": 2.0},
    "long-lover": {"skill": 1.2, "length_bias": math.log(2.0)},
    "polish-lover": {"skill": 1.2, "polish_bias": math.log(2.0)},
    "left-leaner": {"skill": 1.2, "position_bias": math.log(1.8)},
    "underconfident": {"skill": 1.5, "confidence_scale": 0.5},
    "expert": {"skill": 2.5},
    "novice": {"skill": 0.5, "confidence_scale": 1.5},
}


def demo_raters(n_raters: int = 24, *, seed: int = 0) -> list[RaterSpec]:
    """A mixed cohort of simulated raters, ids ``sim-01-steady``, ``sim-02-overconfident``, ...

    Cycles through eight archetypes (steady, overconfident, long-lover,
    polish-lover, left-leaner, underconfident, expert, novice) with skill
    jittered by up to +-0.3 so no two raters are the same.

    Parameters
    ----------
    n_raters : int, default 24
        Raters to make.
    seed : int, default 0
        Seed of the skill jitter.

    Returns
    -------
    list of RaterSpec
        In order ``sim-01-...``, ``sim-02-...``.

    Raises
    ------
    ValueError
        If ``n_raters`` is not a positive integer.

    Examples
    --------
    >>> [r.rater for r in demo_raters(3)]
    ['sim-01-steady', 'sim-02-overconfident', 'sim-03-long-lover']
    """
    if isinstance(n_raters, bool) or not isinstance(n_raters, (int, np.integer)) or n_raters < 1:
        raise ValueError(f"n_raters must be a positive integer; got {n_raters!r}.")
    rng = np.random.default_rng(seed)
    names = list(_ARCHETYPES)
    jitter = rng.uniform(-0.3, 0.3, n_raters)
    specs = []
    for i in range(n_raters):
        name = names[i % len(names)]
        params: dict[str, Any] = dict(_ARCHETYPES[name])
        params["skill"] = max(0.0, params["skill"] + float(jitter[i]))
        specs.append(RaterSpec(f"sim-{i + 1:02d}-{name}", **params))
    return specs


def demo_cohort(
    bank: pd.DataFrame,
    *,
    n_raters: int = 24,
    n_per_rater: int = 120,
    seed: int = 0,
    start: str | pd.Timestamp = "2025-01-06",
    with_forms: bool = False,
    form_size: int = 20,
    forms: pd.Series | None = None,
) -> pd.DataFrame:
    """Judgments of :func:`demo_raters` on ``bank``, for the app's demo.

    Rater ids start with ``sim-``; the app stores them as simulated raters
    (``raters.simulated``), which is what labels them in its pages and reports.

    With ``with_forms`` the raters also take assessment forms with planted
    learning (:func:`simulate_forms` with its defaults: accuracy up, the
    length pull fading, confidence closer to calibrated): a pre form a week
    before their first drill, a post form two weeks later and a retention form
    a month after that. The forms' pairs (``forms``, else ``2 * form_size``
    pairs drawn at random) never appear in the drills, as assessment-only
    pairs must not; the drills answer the rest of the bank. The result then has
    a ``form`` column (``""`` for a drill answer).

    Parameters
    ----------
    bank : DataFrame
        The pair bank to answer.
    n_raters : int, default 24
        Raters, as :func:`demo_raters`.
    n_per_rater : int, default 120
        Judgments per rater.
    seed : int, default 0
        Seed of the raters and their answers.
    start : str or Timestamp, default "2025-01-06"
        The day of the first drill (see :func:`simulate_judgments`).
    with_forms : bool, default False
        Add assessment-form answers with planted learning.
    form_size : int, default 20
        Pairs per form when ``forms`` is not given.
    forms : Series of str, optional
        Form label (``"X"``, ``"Y"``) by pair id: the bank's parallel forms.

    Returns
    -------
    DataFrame
        Judgments in the CSV layout of :func:`simulate_judgments` (and
        ``form`` with ``with_forms``), drills first.

    Examples
    --------
    >>> sim = demo_cohort(synthetic_bank(200, seed=0), n_raters=8, n_per_rater=30)
    >>> len(sim), sim["rater"].str.startswith("sim-").all()
    (240, np.True_)
    >>> sim = demo_cohort(synthetic_bank(200, seed=0), n_raters=4, n_per_rater=30, with_forms=True)
    >>> sim.groupby("form").size().to_dict()
    {'': 120, 'post': 80, 'pre': 80, 'retention': 80}
    """
    raters = demo_raters(n_raters, seed=seed)
    if not with_forms:
        return simulate_judgments(bank, raters, n_per_rater=n_per_rater, seed=seed + 1, start=start)
    first_drill = pd.Timestamp(start)
    answers = simulate_forms(
        bank,
        raters=raters,
        form_size=form_size,
        forms=forms,
        seed=seed + 2,
        start=first_drill - pd.Timedelta(days=7),
    )
    held_out = bank["id"].astype(str).isin(set(answers["pair_id"]))
    drills = simulate_judgments(
        bank[~held_out.to_numpy()], raters, n_per_rater=n_per_rater, seed=seed + 1, start=start
    )
    return pd.concat([drills.assign(form=""), answers], ignore_index=True)


#: Days from the pre form to the post form, and from the post form to the retention form.
FORM_DAYS = (14, 30)


def simulate_forms(
    bank: pd.DataFrame,
    *,
    n_raters: int = 24,
    form_size: int = 30,
    seed: int = 0,
    raters: list[RaterSpec] | None = None,
    forms: pd.Series | None = None,
    accuracy_gain: float = 0.6,
    length_pull: float = math.log(1.5),
    length_fade: float = 0.3,
    overconfidence: float = 1.6,
    calibration_keep: float = 0.3,
    retention_keep: float = 0.6,
    retention: bool = True,
    hardness: float = 0.6,
    form_shift: float = 0.25,
    fatigue: float = 0.01,
    start: str | pd.Timestamp = "2025-01-06",
    truth: bool = False,
) -> pd.DataFrame:
    """Assessment-form answers of simulated raters who learn between the pre and post forms.

    Each rater takes a pre form on joining, a post form :data:`FORM_DAYS`
    days later (after training) and, with ``retention``, a retention form a
    month after that. Two parallel forms X and Y of ``form_size`` pairs each
    are answered in counterbalanced order (odd raters X then Y, even raters
    Y then X); the retention form is the pre form again, answered without
    feedback, so there is nothing to remember. Raters behave as in
    :func:`simulate_judgments`, plus what people do:

    * **hard items**: each pair has an easiness drawn from N(0, ``hardness``)
      that adds to the rater's skill, and the pairs of form Y are
      ``form_shift`` harder (log odds) than those of form X; the rater does not
      know which items are hard, so states confidence from their usual skill
      (overconfident on hard pairs, as people are);
    * **fatigue**: skill drops by ``fatigue`` per item within a form;
    * **untrained pulls**: before training everyone favours the longer
      answer by ``length_pull`` (log odds ratio per doubling, on top of the
      archetype's) and states confidence with ``confidence_scale`` multiplied
      by ``overconfidence``.

    Training (planted learning): skill rises by ``accuracy_gain``; the length
    pull is multiplied by ``length_fade`` (a pull that fades over the days of
    drills); the confidence scale ``gamma`` becomes ``gamma ** calibration_keep``
    (closer to calibrated). At retention each planted change is kept in the
    share ``retention_keep`` (on the log-odds scale). With
    ``accuracy_gain=0, length_fade=1, calibration_keep=1`` nothing is learned.

    Parameters
    ----------
    bank : DataFrame
        A pair bank with at least ``2 * form_size`` pairs (unless ``forms`` is given).
    n_raters : int, default 24
        Raters (from :func:`demo_raters`, ids ``sim-...``) unless ``raters`` is given.
    form_size : int, default 30
        Pairs per form.
    seed : int, default 0
    raters : list of RaterSpec, optional
        The raters' untrained truth.
    forms : Series of str, optional
        Form label (``"X"``, ``"Y"``) by pair id (e.g. from the bank's split
        into parallel forms); default: ``2 * form_size`` pairs drawn at random.
    accuracy_gain, length_pull, length_fade, overconfidence, calibration_keep, retention_keep : float
        The planted learning (above).
    retention : bool, default True
        Add the retention form.
    hardness, form_shift, fatigue : float
        Item difficulty spread, how much harder form Y is, loss of skill per item.
    start : str or Timestamp, default "2025-01-06"
        Day of the first pre forms.
    truth : bool, default False
        Add the planted truth of each answer: ``p_gold`` (probability of
        picking gold), ``expected_confidence`` (stated confidence expected
        before rounding to the slider) and ``expected_brier`` (its expected
        squared error), each also with the suffix ``_untrained`` (the same
        answer under the rater's pre-form parameters), and the
        ``length_bias`` (log odds ratio per doubling) and ``confidence_scale``
        in force.

    Returns
    -------
    DataFrame
        Judgments (``rater, pair_id, choice, confidence, left, answered_at,
        seconds, form``), ``form`` being ``pre``, ``post`` or ``retention``.

    Examples
    --------
    >>> sim = simulate_forms(synthetic_bank(100, seed=0), n_raters=4, form_size=20)
    >>> sim.groupby("form").size().to_dict()
    {'post': 80, 'pre': 80, 'retention': 80}
    """
    rng = np.random.default_rng(seed)
    specs = list(raters) if raters is not None else demo_raters(n_raters, seed=seed)
    ids = bank["id"].astype(str).to_numpy()
    if forms is None:
        if len(bank) < 2 * form_size:
            raise ValueError(f"bank has {len(bank)} pairs; two forms of {form_size} need {2 * form_size}.")
        chosen = rng.permutation(len(bank))[: 2 * form_size]
        forms = pd.Series(["X"] * form_size + ["Y"] * form_size, index=ids[chosen])
    forms = forms.astype(str)
    members = {f: np.flatnonzero(np.isin(ids, forms.index[forms == f])) for f in ("X", "Y")}
    if any(len(m) == 0 for m in members.values()):
        raise ValueError("forms must name pairs of the bank in both form X and form Y.")
    feats = pair_features(bank)
    ld = feats["length_doublings"].reindex(ids).to_numpy(dtype=float)
    pdiff = feats["polish_diff"].reindex(ids).to_numpy(dtype=float)
    words = (feats["words_a"] + feats["words_b"]).reindex(ids).to_numpy(dtype=float)
    gold = bank["gold"].to_numpy(dtype=object)
    easiness = rng.normal(0.0, hardness, len(bank))
    easiness[members["Y"]] -= form_shift
    start_day = pd.Timestamp(start)
    start_day = (start_day.tz_localize("UTC") if start_day.tzinfo is None else start_day).normalize()
    stages = ["pre", "post"] + (["retention"] if retention else [])
    parts = []
    for i, spec in enumerate(specs):
        first, second = ("X", "Y") if i % 2 == 0 else ("Y", "X")
        joined = start_day + pd.Timedelta(days=int(rng.integers(0, 7)))
        untrained = {
            "skill": spec.skill,
            "length_bias": spec.length_bias + length_pull,
            "scale": spec.confidence_scale * overconfidence,
        }
        trained = {
            "skill": spec.skill + accuracy_gain,
            "length_bias": untrained["length_bias"] * length_fade,
            "scale": untrained["scale"] ** calibration_keep,
        }
        kept = {
            k: untrained[k] + retention_keep * (trained[k] - untrained[k]) for k in ("skill", "length_bias")
        }
        kept["scale"] = untrained["scale"] ** (1 - retention_keep * (1 - calibration_keep))
        params = {"pre": untrained, "post": trained, "retention": kept}
        when = {"pre": 0, "post": FORM_DAYS[0], "retention": FORM_DAYS[0] + FORM_DAYS[1]}
        for stage in stages:
            form = first if stage in ("pre", "retention") else second
            idx = rng.permutation(members[form])
            parts.append(
                _answer_form(
                    spec,
                    params[stage],
                    untrained,
                    idx,
                    stage,
                    rng,
                    gold=gold,
                    ld=ld,
                    pdiff=pdiff,
                    words=words,
                    easiness=easiness,
                    fatigue=fatigue,
                    ids=ids,
                    at=joined
                    + pd.Timedelta(days=when[stage])
                    + pd.Timedelta(hours=float(rng.uniform(8, 21))),
                    truth=truth,
                )
            )
    return pd.concat(parts, ignore_index=True)


def _answer_form(
    spec, params, untrained, idx, stage, rng, *, gold, ld, pdiff, words, easiness, fatigue, ids, at, truth
):
    """One rater's answers to one form (see :func:`simulate_forms`)."""
    n = len(idx)
    a_left = rng.random(n) < 0.5
    sign = np.where(a_left, 1.0, -1.0)
    g = np.select([gold[idx] == "A", gold[idx] == "B"], [1.0, -1.0], 0.0) * sign
    length, polish = sign * ld[idx], sign * pdiff[idx] / POLISH_UNIT
    tired = fatigue * np.arange(n)

    def pull(p):
        return spec.position_bias + p["length_bias"] * length + spec.polish_bias * polish

    def acting(p):
        return p["skill"] + easiness[idx] - tired

    def answer(p, noise):
        """Picked left, and the stated confidence before rounding, for logistic ``noise``."""
        u = acting(p) * g + noise
        left = u + pull(p) > 0
        believed = p["skill"]  # the rater does not know which pairs are hard
        lam = 2 * (_logcosh((u + believed) / 2) - _logcosh((u - believed) / 2))
        p_right = expit(np.where(left, lam, -lam))
        return left, expit(p["scale"] * logit(np.maximum(p_right, 0.5)))

    pick_left, stated = answer(params, rng.logistic(size=n))
    confidence = np.clip(np.round(stated / CONFIDENCE_STEP) * CONFIDENCE_STEP, 0.5, 1.0)
    if not spec.states_confidence:
        confidence = np.full(n, np.nan)
    seconds = np.round(np.clip((20 + words[idx] / 5) * rng.lognormal(0.0, 0.4, n), 3, 1800), 1)
    out = pd.DataFrame(
        {
            "rater": spec.rater,
            "pair_id": ids[idx],
            "choice": np.where(pick_left == a_left, "A", "B").astype(object),
            "confidence": confidence,
            "left": np.where(a_left, "A", "B").astype(object) if spec.records_left else None,
            "answered_at": at + pd.to_timedelta(np.cumsum(seconds), unit="s"),
            "seconds": seconds,
            "form": stage,
        }
    )
    if truth:
        # expectations over the noise by quadrature at 400 logistic quantiles
        quantiles = logit((np.arange(400) + 0.5) / 400)[:, None]
        for suffix, p in (("", params), ("_untrained", untrained)):
            left, conf = answer(p, quantiles)  # (400, n)
            right = (left == (g > 0)).astype(float)
            conf = np.clip(conf, 0.5, 1.0)
            decided = g != 0
            out["p_gold" + suffix] = np.where(decided, expit(g * (acting(p) * g + pull(p))), np.nan)
            out["expected_confidence" + suffix] = np.where(decided, conf.mean(axis=0), np.nan)
            out["expected_brier" + suffix] = np.where(decided, ((conf - right) ** 2).mean(axis=0), np.nan)
        out["length_bias"] = params["length_bias"]
        out["confidence_scale"] = params["scale"]
    return out
