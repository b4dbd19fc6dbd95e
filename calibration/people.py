"""Simulated raters who behave like people, on a bank whose hard pairs are short-gold.

:mod:`calibration.simulate` draws choices from exactly the bias model PairCal
fits, on a bank where length says nothing about gold or difficulty. Real
raters and real banks are not like that, and a statistic validated only there
can be wrong on LLMBar-like data. This module adds what the model does not
assume:

* **Item difficulty correlated with length** (:func:`llmbar_like_bank`). The
  bank has a ``natural`` stratum (easy pairs, gold the longer answer about 60%
  of the time) and an ``adversarial`` stratum (hard pairs, gold the longer
  answer only about 15% of the time), as in LLMBar (Zeng et al. 2023), plus a
  per-pair easiness spread within each stratum. A rater who ignores length but
  is worse on hard pairs then picks the longer answer more often when it is
  wrong: the confound that makes item difficulty read as length bias.
  ``confound`` adds a within-stratum correlation of easiness with the
  gold-minus-other length, which bank strata alone cannot absorb.
* **Memory of repeats**: a pair seen before (its gold was revealed) is
  answered from memory, right with probability ``memory``.
* **Fatigue**: skill falls linearly within each drill of 10 judgments.
* **Drift**: length and polish biases that change with the judgments done.
* **A preference for response A** whatever side it is shown on, and raters who
  do not record the side (``records_left=False``).

The choice model, for a first answer to pair :math:`j` by rater :math:`r` at
their :math:`t`-th judgment (:math:`t = 0, 1, \\dots`), oriented left minus
right with gold on the left :math:`g = +1` or right :math:`g = -1`:

.. math::

    \\operatorname{logit} P(\\text{left}) =
        g\\,(s_r + w_r e_j - f_r d_t)
        + \\beta_{pos} + \\beta_A a
        + (\\beta_{len} + \\delta_{len} t / 100)\\,\\ell
        + (\\beta_{pol} + \\delta_{pol} t / 100)\\,\\pi / 0.5,

with :math:`e_j` the pair's easiness (column ``easiness`` of the bank),
:math:`d_t \\in [0, 1]` the place in the drill, :math:`a = \\pm 1` when A is on
the left (right), :math:`\\ell` the log2 word ratio and :math:`\\pi` the
normalized polish difference. So ``length_bias`` is a log odds ratio per
doubling, as in :mod:`calibration.bias`. A repeat picks gold with probability
``memory``, whatever the biases.

Examples
--------
>>> bank = llmbar_like_bank(200, seed=0)
>>> sorted(bank["source"].unique())
['adversarial', 'natural']
>>> people = [Person("p-1", skill=1.0), Person("p-2", length_bias=0.7)]
>>> sim = simulate_people(bank, people, n_per_rater=50, seed=1, repeat_share=0.1)
>>> len(sim), sorted(sim.columns)[:4]
(100, ['answered_at', 'choice', 'confidence', 'left'])

References
----------
Zeng, Z., Yu, J., Gao, T., Meng, Y., Goyal, T. and Chen, D. (2023). Evaluating
large language models at evaluating instruction following. arXiv:2310.07641.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from calibration.bias import POLISH_UNIT
from calibration.simulate import CONFIDENCE_STEP, DRILL_LENGTH, _draw_pairs, _timestamps, synthetic_bank
from pairs.features import pair_features

__all__ = ["STRATA", "Person", "llmbar_like_bank", "simulate_people"]

#: Strata of :func:`llmbar_like_bank`: (share of pairs, P(gold is the longer answer), mean easiness).
STRATA = {
    "natural": (0.4, 0.60, 1.0),
    "adversarial": (0.6, 0.15, -1.0),
}

#: Standard deviation of the easiness of pairs within a stratum.
EASINESS_SPREAD = 0.6


@dataclass(frozen=True)
class Person:
    """A simulated rater (see the module docstring for the model).

    Attributes
    ----------
    rater : str
        Rater id.
    skill : float, default 1.5
        Log odds of picking gold on a pair of easiness 0, at the start of a drill.
    item_weight : float, default 1.0
        How much the pair's easiness moves the rater (0: all pairs alike).
    length_bias, polish_bias, position_bias : float, default 0.0
        Log odds ratios per doubling, per 0.5 polish difference, for the left side.
    a_bias : float, default 0.0
        Log odds ratio for response A, whatever side it is shown on.
    length_change, polish_change : float, default 0.0
        Change of ``length_bias`` (``polish_bias``) per 100 judgments.
    fatigue : float, default 0.0
        Skill lost from the first to the last judgment of a drill.
    memory : float, default 0.9
        Probability of picking gold on a pair seen before.
    records_left : bool, default True
        Whether the side shown on the left is recorded.
    states_confidence : bool, default True
    """

    rater: str
    skill: float = 1.5
    item_weight: float = 1.0
    length_bias: float = 0.0
    polish_bias: float = 0.0
    position_bias: float = 0.0
    a_bias: float = 0.0
    length_change: float = 0.0
    polish_change: float = 0.0
    fatigue: float = 0.0
    memory: float = 0.9
    records_left: bool = True
    states_confidence: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.memory <= 1.0:
            raise ValueError(f"memory must be in [0, 1]; got {self.memory!r}.")


def llmbar_like_bank(n_pairs: int, *, seed: int, confound: float = 0.0) -> pd.DataFrame:
    """A bank whose hard pairs are mostly short-gold, as LLMBar's adversarial sets.

    Texts come from :func:`calibration.simulate.synthetic_bank`; then each pair
    is put in a stratum of :data:`STRATA` (``source`` is the stratum's name, and
    ``adversarial`` pairs also carry that tag, as the LLMBar importer gives
    them), gold is made the longer answer with the stratum's probability, and
    each pair gets an ``easiness`` (stratum mean plus normal noise of standard
    deviation :data:`EASINESS_SPREAD`, plus ``confound`` times the gold-minus-other
    log2 word ratio). Length tags are recomputed for the new gold.

    Parameters
    ----------
    n_pairs : int
    seed : int
    confound : float, default 0.0
        Within-stratum slope of easiness on the gold-minus-other length
        doublings (positive: pairs whose gold is longer are easier).

    Returns
    -------
    DataFrame
        The bank columns plus ``easiness`` (the hidden truth; PairCal ignores it).
    """
    rng = np.random.default_rng(seed)
    bank = synthetic_bank(n_pairs, seed=seed)
    feats = pair_features(bank).reindex(bank["id"].astype(str))
    ld = feats["length_doublings"].to_numpy(dtype=float)  # A minus B
    names = list(STRATA)
    shares = np.array([STRATA[s][0] for s in names])
    stratum = rng.choice(len(names), size=len(bank), p=shares / shares.sum())
    p_longer = np.array([STRATA[s][1] for s in names])[stratum]
    longer_a = ld > 0
    gold_longer = rng.random(len(bank)) < p_longer
    gold = np.where(ld == 0, bank["gold"].to_numpy(dtype=object), np.where(gold_longer == longer_a, "A", "B"))
    gold_minus_other = np.where(gold == "A", ld, -ld)
    easiness = (
        np.array([STRATA[s][2] for s in names])[stratum]
        + rng.normal(0.0, EASINESS_SPREAD, len(bank))
        + confound * gold_minus_other
    )
    source = np.asarray(names, dtype=object)[stratum]
    tags = []
    for s, gmo, old in zip(source, gold_minus_other, bank["tags"], strict=True):
        kept = tuple(t for t in old if t != "length")
        if gmo <= -np.log2(1.5):
            kept = ("length",) + kept
        if s == "adversarial":
            kept = kept + ("adversarial",)
        tags.append(tuple(t for t in kept if t) or ("control",))
    out = bank.assign(gold=gold, source=source, tags=tags, easiness=easiness)
    out["rationale"] = "Synthetic pair: gold and difficulty depend on the stratum, as in LLMBar."
    return out


def simulate_people(
    bank: pd.DataFrame,
    people: list[Person],
    *,
    n_per_rater: int,
    seed: int,
    repeat_share: float = 0.0,
    start: str | pd.Timestamp = "2025-01-06",
) -> pd.DataFrame:
    """Judgments of :class:`Person` raters on ``bank`` (with an ``easiness`` column, else 0).

    Each rater answers ``n_per_rater`` items in drills of 10, one drill a day;
    after the first drill each item is, with probability ``repeat_share``, a
    pair the rater answered earlier (a repeat, answered from memory).

    Parameters
    ----------
    bank : DataFrame
        E.g. :func:`llmbar_like_bank`.
    people : list of Person
        Distinct ids.
    n_per_rater : int
    seed : int
    repeat_share : float, default 0.0
        In [0, 1).
    start : str or Timestamp, default "2025-01-06"

    Returns
    -------
    DataFrame
        ``rater, pair_id, choice, confidence, left, answered_at, seconds`` (the
        judgment-store layout) and ``repeat`` (True on a repeat: the truth,
        not a judgment field).
    """
    if not people or len({p.rater for p in people}) != len(people):
        raise ValueError("people must be a non-empty list of Person with distinct ids.")
    if not 0.0 <= repeat_share < 1.0:
        raise ValueError(f"repeat_share must be in [0, 1); got {repeat_share!r}.")
    if isinstance(n_per_rater, bool) or not isinstance(n_per_rater, (int, np.integer)) or n_per_rater < 1:
        raise ValueError(f"n_per_rater must be a positive integer; got {n_per_rater!r}.")
    rng = np.random.default_rng(seed)
    R, n = len(people), int(n_per_rater)
    feats = pair_features(bank).reindex(bank["id"].astype(str))
    pair_ids = bank["id"].astype(str).to_numpy()
    gold = bank["gold"].to_numpy(dtype=object)
    ld = feats["length_doublings"].to_numpy(dtype=float)
    pdiff = feats["polish_diff"].to_numpy(dtype=float)
    words = (feats["words_a"] + feats["words_b"]).to_numpy(dtype=float)
    ease = bank["easiness"].to_numpy(dtype=float) if "easiness" in bank.columns else np.zeros(len(bank))

    idx = _draw_pairs(R, n, len(bank), rng)
    t = np.broadcast_to(np.arange(n), (R, n))
    repeat = (rng.random((R, n)) < repeat_share) & (t >= DRILL_LENGTH)
    earlier = np.floor(rng.random((R, n)) * t).astype(int)
    rows = np.arange(R)[:, None]
    for _ in range(8):  # a repeat of a repeat is the same pair: resolve chains
        idx = np.where(repeat, idx[rows, earlier], idx)

    def field(name):
        return np.array([getattr(p, name) for p in people], dtype=float)[:, None]

    a_left = rng.random((R, n)) < 0.5
    sign = np.where(a_left, 1.0, -1.0)
    g = np.select([gold[idx] == "A", gold[idx] == "B"], [1.0, -1.0], 0.0) * sign
    place = (t % DRILL_LENGTH) / (DRILL_LENGTH - 1)
    skill = field("skill") + field("item_weight") * ease[idx] - field("fatigue") * place
    length, polish = sign * ld[idx], sign * pdiff[idx] / POLISH_UNIT
    bias = (
        field("position_bias")
        + field("a_bias") * sign
        + (field("length_bias") + field("length_change") * t / 100) * length
        + (field("polish_bias") + field("polish_change") * t / 100) * polish
    )
    eta = g * skill + bias
    pick_left = rng.random((R, n)) < expit(eta)
    remembered = rng.random((R, n)) < field("memory")
    pick_left = np.where(repeat & (g != 0), (g > 0) == remembered, pick_left)
    felt = expit(np.abs(g * skill))  # the evidence the rater feels, biases unfelt
    confidence = np.clip(np.round(felt / CONFIDENCE_STEP) * CONFIDENCE_STEP, 0.5, 1.0)
    confidence[~np.array([p.states_confidence for p in people])] = np.nan

    left = np.where(a_left, "A", "B").astype(object)
    left[~np.array([p.records_left for p in people])] = None
    choice = np.where(pick_left == a_left, "A", "B").astype(object)
    seconds = np.round(np.clip((20 + words[idx] / 5) * rng.lognormal(0.0, 0.4, (R, n)), 3, 1800), 1)
    return pd.DataFrame(
        {
            "rater": np.repeat(np.array([p.rater for p in people], dtype=object), n),
            "pair_id": pair_ids[idx].ravel(),
            "choice": choice.ravel(),
            "confidence": confidence.ravel(),
            "left": left.ravel(),
            "answered_at": _timestamps(seconds, pd.Timestamp(start), rng),
            "seconds": seconds.ravel(),
            "repeat": repeat.ravel(),
        }
    )
