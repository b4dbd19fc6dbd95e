"""Probes against the model: power and false alarms with raters who behave like people.

Run::

    python bench/probe_power.py                  # the table of VALIDITY.md (200 raters a point)
    python bench/probe_power.py --raters 50      # a quicker, noisier table

Each simulated rater answers ``n`` probes (the polish kind: one response of a
base pair shown formatted, the other plain, the formatted copy the gold one
in exactly half) and ``n`` ordinary pairs. The probe test is
``calibration.probes.probe_rates_of`` (flagged: ``significant``); the model
is ``calibration.bias.bias_by_rater`` fitted on the ordinary pairs (flagged:
its polish effect significant with an odds ratio above 1; below
``MIN_JUDGMENTS`` = 30 pairs it gives no verdict, so it flags nobody).

How the raters behave (all on the log-odds of picking gold):

* skill ``s`` uniform in [0.8, 2.2] per rater;
* hard items: 35% of pairs are hard (skill times 0.25, near a coin), the
  others have skill times a factor uniform in [0.7, 1.3];
* fatigue: answers come in sessions of 20; skill falls linearly to half by
  the last answer of a session;
* a position pull per rater, normal with sd 0.3, toward the left answer;
* the style pull ``beta`` toward the more formatted answer: ``beta`` times
  the polish difference in the model's unit (0.5 of normalized polish),
  clipped to [-1, 1] -- a person notices which answer is formatted more than
  by how much. A probe is its base pair with the styled response given 1-2
  more units of formatting, so the pull there is mostly the full ``beta``;
* confounds on ordinary pairs: the gold answer is a little more formatted on
  average (polish difference gold minus other ~ N(0.3, 0.8) units) and the
  more formatted answer is longer (length doublings = 0.6 x polish + N(0, 0.8)),
  as in real banks;
* memory: half of the probes' base pairs were among the rater's ordinary
  pairs before; on those, 35% of the time the rater repeats the response they
  picked on the base instead of judging again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.special import expit  # noqa: E402

from calibration.bias import POLISH_UNIT, bias_by_rater  # noqa: E402
from calibration.intervals import clopper_pearson_interval  # noqa: E402
from calibration.probes import probe_rates_of  # noqa: E402

SIZES = (10, 20, 40, 80, 160)
PULLS = (0.7, 1.4)
SESSION = 20
HARD_SHARE, HARD_FACTOR = 0.35, 0.25
MEMORY_SEEN, MEMORY_REPEAT = 0.5, 0.35


def _skill(rng: np.random.Generator, skill: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Skill on each answer: the rater's, times the item's difficulty, times the fatigue of its place."""
    hard = rng.random(shape) < HARD_SHARE
    item = np.where(hard, HARD_FACTOR, rng.uniform(0.7, 1.3, shape))
    place = rng.integers(0, SESSION, shape)
    fatigue = 1 - 0.5 * place / (SESSION - 1)
    return skill[:, None] * item * fatigue


def simulate(n: int, n_raters: int, pull: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` ordinary answers and ``n`` polish probes for each of ``n_raters`` raters with a planted ``pull``.

    Returns the two frames ``(ordinary, probes)`` in the layout
    ``bias_by_rater`` and ``probe_rates_of`` read.
    """
    rng = np.random.default_rng(seed)
    shape = (n_raters, n)
    skill = rng.uniform(0.8, 2.2, n_raters)
    position = rng.normal(0.0, 0.3, n_raters)[:, None]
    raters = np.repeat(np.array([f"r{i:04d}" for i in range(n_raters)], dtype=object), n)

    # ordinary pairs, oriented gold minus other
    polish = rng.normal(0.3, 0.8, shape)  # in the model's unit
    length = 0.6 * polish + rng.normal(0.0, 0.8, shape)
    gold_left = rng.random(shape) < 0.5
    side = np.where(gold_left, 1.0, -1.0)
    u = _skill(rng, skill, shape) + pull * np.clip(polish, -1, 1) + position * side
    picked_gold = rng.random(shape) < expit(u)
    gold_is_a = rng.random(shape) < 0.5
    sign_a = np.where(gold_is_a, 1.0, -1.0)  # A minus B = sign_a * (gold minus other)
    gold = np.where(gold_is_a, "A", "B")
    other = np.where(gold_is_a, "B", "A")
    left = np.where(gold_left, gold, other)
    ordinary = pd.DataFrame(
        {
            "rater": raters,
            "choice": np.where(picked_gold, gold, other).ravel(),
            "gold": gold.ravel(),
            "tie": False,
            "left": left.ravel(),
            "length_doublings": (sign_a * length).ravel(),
            "polish_diff": (sign_a * polish * POLISH_UNIT).ravel(),
        }
    )

    # probes: the formatted copy is gold in exactly half of each rater's probes
    styled_gold = np.argsort(rng.random(shape), axis=1) < n // 2 + (rng.random((n_raters, 1)) < 0.5) * (n % 2)
    styled_side = np.where(styled_gold, 1.0, -1.0)
    base_polish = rng.normal(0.3, 0.8, shape)  # the base pair's own styles, gold minus other
    probe_polish = base_polish + styled_side * rng.uniform(1.0, 2.0, shape)  # the styled copy gains 1-2 units
    gold_left = rng.random(shape) < 0.5
    side = np.where(gold_left, 1.0, -1.0)
    u = _skill(rng, skill, shape) + pull * np.clip(probe_polish, -1, 1) + position * side
    picked_gold = rng.random(shape) < expit(u)
    # memory: a base seen among the ordinary pairs; its earlier answer, judged on the base's own styles
    seen = rng.random(shape) < MEMORY_SEEN
    base_side = np.where(rng.random(shape) < 0.5, 1.0, -1.0)
    base_u = _skill(rng, skill, shape) + pull * np.clip(base_polish, -1, 1) + position * base_side
    base_gold = rng.random(shape) < expit(base_u)
    repeat = seen & (rng.random(shape) < MEMORY_REPEAT)
    picked_gold = np.where(repeat, base_gold, picked_gold)
    gold_is_a = rng.random(shape) < 0.5
    gold = np.where(gold_is_a, "A", "B")
    other = np.where(gold_is_a, "B", "A")
    probes = pd.DataFrame(
        {
            "rater": raters,
            "choice": np.where(picked_gold, gold, other).ravel(),
            "gold": gold.ravel(),
            "probe": "polish",
            "styled": np.where(styled_gold, gold, other).ravel(),
        }
    )
    return ordinary, probes


def flagged(n: int, n_raters: int, pull: float, seed: int) -> tuple[int, int, int]:
    """Raters flagged, of ``n_raters``: by the probe test, by the model's verdict, and by the model one-sided.

    The model's verdict is its two-sided 5% Wald test with an odds ratio above 1, so one-sided it
    runs at 2.5%; the third count gives it the probe test's one-sided 5% (half its p-value below
    0.05), to show how much of the gap is the level.
    """
    ordinary, probes = simulate(n, n_raters, pull, seed)
    rates = probe_rates_of(probes)
    by_probes = int(rates["significant"].sum())
    bias = bias_by_rater(ordinary)
    polish = bias[bias["effect"] == "polish"]
    toward = polish["odds_ratio"] > 1
    by_model = int((polish["significant"].astype(bool) & toward).sum())
    one_sided = int(((polish["p_value"] / 2 < 0.05) & toward).sum())
    return by_probes, by_model, one_sided


def share(k: int, n: int, spec: str = ".0%") -> str:
    """``"12% (8%-17%)"``: a share with its exact 95% interval."""
    low, high = clopper_pearson_interval(k, n)
    return f"{k / n:{spec}} ({float(low):{spec}}-{float(high):{spec}})"


def table(n_raters: int, seed: int) -> str:
    """The Markdown table of VALIDITY.md: share of raters flagged by pull and n."""
    lines = [
        "| pull | n | probes | model (its verdict) | model, one-sided 5% |",
        "| --- | --- | --- | --- | --- |",
    ]
    for j, pull in enumerate(PULLS):
        for i, n in enumerate(SIZES):
            counts = flagged(n, n_raters, pull, seed + 100 * i + j)
            lines.append(f"| {pull} | {n} | " + " | ".join(share(k, n_raters) for k in counts) + " |")
    return "\n".join(lines)


def false_alarms(n_raters: int, seed: int) -> str:
    """The Markdown table of false alarms: unbiased raters flagged, by n, with more raters a point."""
    lines = [
        "| n | probes | model (its verdict) | model, one-sided 5% |",
        "| --- | --- | --- | --- |",
    ]
    for i, n in enumerate(SIZES):
        counts = flagged(n, n_raters, 0.0, seed + 1000 + i)
        lines.append(f"| {n} | " + " | ".join(share(k, n_raters, ".1%") for k in counts) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print the power and false-alarm table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--raters", type=int, default=200, help="simulated raters a point (default 200)")
    p.add_argument("--seed", type=int, default=13)
    args = p.parse_args(argv)
    print(
        f"Share of raters flagged (95% exact interval), {args.raters} simulated raters a point, "
        f"seed {args.seed}; n = probe answers for the probes, ordinary pairs for the model."
    )
    print()
    print(table(args.raters, args.seed))
    print()
    print(f"Unbiased raters (hard items, fatigue, memory, no pull), {10 * args.raters} a point:")
    print()
    print(false_alarms(10 * args.raters, args.seed))


if __name__ == "__main__":
    main()
