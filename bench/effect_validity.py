"""The training effect against planted learning: interval coverage and false alarms.

Run::

    python bench/effect_validity.py            # the tables of VALIDITY.md (200 cohorts a scenario)
    python bench/effect_validity.py --quick    # 12 cohorts a scenario, a noisier table

Each run simulates one cohort with :func:`calibration.simulate.simulate_forms`
and computes :func:`calibration.effect.training_effect` on it.

How the raters behave (see ``simulate_forms`` for the details):

* skill differs between raters (log-odds of picking gold uniform in
  [0.5, 1.8]); confidence scale uniform in [0.8, 1.4] times 1.6 before
  training (people start overconfident); a position pull per rater
  (normal, sd 0.2) and a polish pull (normal, sd 0.15);
* hard items: each pair's easiness is normal with sd 0.6 log-odds, not known
  to the rater, who states confidence from their usual skill; the pairs of one
  of the two parallel forms are 0.25 log-odds harder;
* fatigue: skill falls by 0.01 per item within a form;
* before training everyone favours the longer answer (log odds ratio
  ``log 1.5`` per doubling);
* form order counterbalanced (half the cohort X then Y, half Y then X); the
  retention form repeats the pre form, with no feedback given on it.

Planted learning: skill +0.6, the length pull multiplied by 0.3 (it fades),
the confidence scale ``gamma`` becomes ``gamma ** 0.3``; at retention 60% of
each change is kept. No learning: none of these changes.

What is checked. The planted value of a rater's change is what training
changed on the same pairs: the true expected value (accuracy: mean probability
of picking gold; overconfidence: mean expected confidence minus that; Brier
skill: ``1 - 4`` mean expected squared error) with the trained parameters minus
that with the untrained ones, on the pairs of the later form. A rater's two
forms differ in difficulty; the estimate takes out the difference the cohort
shows (``form_adjustment``), so this is what it estimates. The cohort's
planted change is the mean of the raters'. For the length odds ratio it is
``exp(planted change of the log odds ratio)``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from calibration.data import prepare  # noqa: E402
from calibration.effect import training_effect  # noqa: E402
from calibration.intervals import clopper_pearson_interval  # noqa: E402
from calibration.simulate import RaterSpec, simulate_forms, synthetic_bank  # noqa: E402

N_RATERS, FORM_SIZE = 24, 30
QUICK_RUNS = 12
LENGTH_PULL, LENGTH_FADE = math.log(1.5), 0.3
NO_LEARNING = {"accuracy_gain": 0.0, "length_fade": 1.0, "calibration_keep": 1.0}
MEASURES = ("accuracy", "brier_skill", "overconfidence", "length")
NULL_MEASURES = ("accuracy", "score", "brier_skill", "overconfidence", "length", "polish", "position")


def raters(n: int, rng: np.random.Generator) -> list[RaterSpec]:
    """Raters who differ as people do (see the module docstring)."""
    return [
        RaterSpec(
            f"sim-{i:03d}",
            skill=float(rng.uniform(0.5, 1.8)),
            confidence_scale=float(rng.uniform(0.8, 1.4)),
            position_bias=float(rng.normal(0.0, 0.2)),
            polish_bias=float(rng.normal(0.0, 0.15)),
        )
        for i in range(n)
    ]


def _planted(sim: pd.DataFrame) -> dict[str, dict]:
    """Planted changes: per rater (between forms) and for the cohort (training on the same pairs)."""
    sim = sim.assign(
        over=sim["expected_confidence"] - sim["p_gold"],
        over_u=sim["expected_confidence_untrained"] - sim["p_gold_untrained"],
        skill=1 - 4 * sim["expected_brier"],
        skill_u=1 - 4 * sim["expected_brier_untrained"],
    )
    means = sim.groupby(["rater", "form"])[["p_gold", "over", "skill", "length_bias"]].mean()
    means_u = sim.groupby(["rater", "form"])[["p_gold_untrained", "over_u", "skill_u"]].mean()
    out: dict[str, dict] = {}
    for before, after, key in (("pre", "post", "effect"), ("pre", "retention", "retention_vs_pre")):
        if after not in set(sim["form"]):
            continue
        b, a = means.xs(before, level="form"), means.xs(after, level="form")
        learned = means_u.xs(after, level="form")
        out[key] = {
            "raters": {
                "accuracy": a["p_gold"] - learned["p_gold_untrained"],
                "overconfidence": a["over"] - learned["over_u"],
                "brier_skill": a["skill"] - learned["skill_u"],
                "length": np.exp(a["length_bias"] - b["length_bias"]),
            },
            "cohort": {
                "accuracy": float((a["p_gold"] - learned["p_gold_untrained"]).mean()),
                "overconfidence": float((a["over"] - learned["over_u"]).mean()),
                "brier_skill": float((a["skill"] - learned["skill_u"]).mean()),
                "length": float(np.exp((a["length_bias"] - b["length_bias"]).mean())),
            },
        }
    return out


def run(seed: int, *, learning: bool, n_raters: int = N_RATERS, form_size: int = FORM_SIZE) -> dict:
    """One simulated cohort: which intervals cover the planted values, which changes are significant."""
    rng = np.random.default_rng(seed)
    bank = synthetic_bank(2 * form_size + 20, seed=seed)
    plant = {} if learning else NO_LEARNING
    sim = simulate_forms(
        bank,
        raters=raters(n_raters, rng),
        form_size=form_size,
        seed=seed + 1,
        length_pull=LENGTH_PULL,
        truth=True,
        **({"length_fade": LENGTH_FADE} | plant),
    )
    got = training_effect(prepare(bank, sim))
    planted = _planted(sim)
    covered: dict[tuple[str, str, str], list[bool]] = {}
    significant: dict[tuple[str, str], list[bool]] = {}
    for key, truth in planted.items():
        for m in MEASURES:
            entry = got["cohort"][key][m]
            covered.setdefault((key, "cohort", m), []).append(
                bool(entry["ci_low"] <= truth["cohort"][m] <= entry["ci_high"])
            )
            for rater, value in truth["raters"][m].items():
                e = got["raters"][rater][key][m]
                if np.isfinite(e["ci_low"]):
                    covered.setdefault((key, "raters", m), []).append(
                        bool(e["ci_low"] <= value <= e["ci_high"])
                    )
    for m in NULL_MEASURES:
        significant[("cohort", m)] = [bool(got["cohort"]["effect"][m]["significant"])]
        significant[("raters", m)] = [bool(r["effect"][m]["significant"]) for r in got["raters"].values()]
    headline = [bool(got["cohort"]["effect"][m]["significant"]) for m in MEASURES]
    significant[("cohort", "any of the four")] = [any(headline)]
    return {"covered": covered, "significant": significant, "cohort": got["cohort"]}


def collect(runs: int, seed: int, *, learning: bool, **kwargs) -> dict:
    """Pool :func:`run` over ``runs`` cohorts."""
    covered: dict = {}
    significant: dict = {}
    for r in range(runs):
        one = run(seed + 1000 * r, learning=learning, **kwargs)
        for k, v in one["covered"].items():
            covered.setdefault(k, []).extend(v)
        for k, v in one["significant"].items():
            significant.setdefault(k, []).extend(v)
    return {"covered": covered, "significant": significant}


def share(k: int, n: int, spec: str = ".1%") -> str:
    """``"94.5% (91.2%-96.8%)"``: a share with its exact 95% interval."""
    low, high = clopper_pearson_interval(k, n)
    return f"{k / n:{spec}} ({float(low):{spec}}-{float(high):{spec}})"


def coverage_table(result: dict) -> str:
    """Markdown: coverage of the planted values by the 95% intervals."""
    lines = [
        "| comparison | measure | cohort intervals covering | rater intervals covering |",
        "| --- | --- | --- | --- |",
    ]
    labels = {"effect": "post vs pre", "retention_vs_pre": "retention vs pre"}
    for key, label in labels.items():
        for m in MEASURES:
            cells = []
            for who in ("cohort", "raters"):
                hits = result["covered"].get((key, who, m), [])
                cells.append(share(sum(hits), len(hits)) + f", n = {len(hits)}" if hits else "-")
            lines.append(f"| {label} | {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def null_table(result: dict) -> str:
    """Markdown: with no learning, the share of cohorts (and raters) with no significant change."""
    lines = [
        "| measure | cohorts with no significant change | raters with no significant change |",
        "| --- | --- | --- |",
    ]
    for m in (*NULL_MEASURES, "any of the four"):
        cohort = result["significant"][("cohort", m)]
        rater = result["significant"].get(("raters", m))
        rater_cell = share(len(rater) - sum(rater), len(rater)) if rater else "-"
        lines.append(f"| {m} | {share(len(cohort) - sum(cohort), len(cohort))} | {rater_cell} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print the coverage and no-learning tables."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=200, help="simulated cohorts a scenario (default 200)")
    p.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} cohorts a scenario")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    runs = QUICK_RUNS if args.quick else args.runs
    start = time.perf_counter()
    learned = collect(runs, args.seed, learning=True)
    null = collect(runs, args.seed + 1, learning=False)
    print(
        f"{runs} simulated cohorts a scenario, {N_RATERS} raters, forms of {FORM_SIZE} pairs, "
        f"seed {args.seed}; shares with their exact 95% interval."
    )
    print()
    print("Planted learning: share of 95% intervals covering the planted change")
    print()
    print(coverage_table(learned))
    print()
    print("No learning: share with no significant change (post vs pre, 5% level)")
    print()
    print(null_table(null))
    print()
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
