"""Statistics at cohort scale: what a lead's cohort view computes, against a notebook baseline.

Run::

    python bench/bench_stats.py                 # (a), (b), (c), (d), medians of 5 / 5 / 3 / 3 runs
    python bench/bench_stats.py --quick         # tiny sizes, one run: a smoke test
    python bench/bench_stats.py --json OUT.json --repeat 7

Cases (simulated cohorts from ``calibration.simulate`` on a synthetic bank of
5,000 pairs; nothing is read from disk or the network):

(a) one rater with 5,000 judgments; (b) 1,000 raters x 200; (c) 5,000 raters x
200 (1 M judgments); (d) building blocks on their own, with the speed limits
the unit tests used to assert (wall-clock limits live here, not in tests/):
``firth_logistic`` on 1,000 raters x 200 (< 1 s), ``bias_by_rater`` on
1,000 x 200 (< 2 s, with its likelihood-ratio tests and profile intervals),
``synthetic_bank`` of 10,000 pairs (< 5 s) and
``simulate_judgments`` of 5,000 raters x 200 (< 5 s).

"ours" is what the lead's cohort view and the leaderboard compute, end to end
from the judgments DataFrame (``Store.export_judgments`` layout):
``calibration.data.prepare`` (join to gold and text features), then
``calibration.leaderboard.leaderboard`` (Brier-skill score with its interval,
accuracy, overconfidence, the per-rater Firth bias fit of
``calibration.bias.bias_by_rater`` and streaks), then
``calibration.confidence.calibration_by_rater`` (Brier, log score, Murphy
decomposition, ECE, overconfidence interval, recalibration slope).

"baseline" is what an analyst would write in a notebook: merge the judgments
with gold and the same text features, then loop over raters with a
statsmodels ``Logit`` on the same design as our bias model (picked left ~
position intercept + gold side + length doublings + polish / 0.5) and
scikit-learn's ``calibration_curve`` and ``brier_score_loss``; separation or
non-convergence turned into an exception and counted as a failed fit.

Each case runs in a fresh Python process per side, which loads the judgments
from a pickle, runs the work ``--repeat`` times and reports the median time
and its peak resident set size (``VmHWM``): interpreter, libraries, input and
the work's peak together. The baseline of (c) runs once.
"""

from __future__ import annotations

import pickle
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench import _table  # noqa: E402
from calibration.simulate import RaterSpec, simulate_judgments, synthetic_bank  # noqa: E402

SCRIPT = Path(__file__).resolve()
BANK_PAIRS = 5000
#: raters, judgments per rater, time target (s), memory target (MiB) or None
CASES = {
    "a": (1, 5000, 0.3, None),
    "b": (1000, 200, 2.0, None),
    "c": (5000, 200, 10.0, 2048.0),
}
QUICK = {"a": (1, 300), "b": (20, 100), "c": (50, 100)}  # raters, judgments each
REPEATS = {"a": 5, "b": 5, "c": 3}
SPEEDUP_TARGET = 10.0  # on (b)


def cohort(bank: pd.DataFrame, n_raters: int, n_per_rater: int, seed: int = 0) -> pd.DataFrame:
    """Judgments of ``n_raters`` simulated raters of varied skill, biases and calibration."""
    rng = np.random.default_rng(seed)
    raters = [
        RaterSpec(
            f"r{i:05d}",
            skill=float(rng.uniform(0.3, 2.5)),
            length_bias=float(rng.normal(0.2, 0.3)),
            polish_bias=float(rng.normal(0.1, 0.2)),
            position_bias=float(rng.normal(0.0, 0.2)),
            confidence_scale=float(rng.uniform(0.6, 2.0)),
        )
        for i in range(n_raters)
    ]
    return simulate_judgments(bank, raters, n_per_rater=n_per_rater, seed=seed)


# --------------------------------------------------------------------------- the two sides


def ours(bank: pd.DataFrame, judgments: pd.DataFrame) -> dict[str, float]:
    """The lead's cohort view, end to end; returns seconds per stage."""
    from calibration.confidence import calibration_by_rater
    from calibration.data import prepare
    from calibration.leaderboard import leaderboard

    stages = {}
    start = time.perf_counter()
    prepared = prepare(bank, judgments)
    stages["prepare"] = time.perf_counter() - start
    start = time.perf_counter()
    leaderboard(prepared)
    stages["leaderboard"] = time.perf_counter() - start
    start = time.perf_counter()
    calibration_by_rater(prepared)
    stages["calibration_by_rater"] = time.perf_counter() - start
    return stages


def bias_alone(bank: pd.DataFrame, judgments: pd.DataFrame) -> float:
    """Seconds of ``bias_by_rater`` alone (it runs inside ``leaderboard``)."""
    from calibration.bias import bias_by_rater
    from calibration.data import prepare

    prepared = prepare(bank, judgments)
    start = time.perf_counter()
    bias_by_rater(prepared)
    return time.perf_counter() - start


def baseline(bank: pd.DataFrame, judgments: pd.DataFrame) -> int:
    """A notebook analysis: per-rater statsmodels Logit and scikit-learn calibration.

    Returns the number of raters whose logistic fit failed (perfect separation,
    no convergence or a singular matrix).
    """
    import statsmodels.api as sm
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    from pairs.features import pair_features

    feats = pair_features(bank)[["length_doublings", "polish_diff"]]
    df = judgments.merge(bank[["id", "gold"]].rename(columns={"id": "pair_id"}), on="pair_id")
    df = df.merge(feats, left_on="pair_id", right_index=True)
    df = df[df["gold"] != "tie"]
    known = df["left"].isin(["A", "B"])
    shown_left = df["left"].where(known, "A")
    sign = np.where(shown_left == "A", 1.0, -1.0)
    df = df.assign(
        position=known.astype(float),
        gold_side=np.where(df["gold"] == shown_left, 1.0, -1.0),
        length=sign * df["length_doublings"],
        polish=sign * df["polish_diff"] / 0.5,
        picked_left=(df["choice"] == shown_left).astype(float),
        correct=(df["choice"] == df["gold"]).astype(float),
    )

    rows, failed = [], 0
    for rater, g in df.groupby("rater"):
        row = {"rater": rater, "n": len(g)}
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            warnings.simplefilter("error", ConvergenceWarning)
            try:
                fit = sm.Logit(g["picked_left"], g[["position", "gold_side", "length", "polish"]]).fit(disp=0)
                odds = np.exp(fit.params)
                ci = np.exp(fit.conf_int())
                for effect in ("length", "polish", "position"):
                    row[f"{effect}_or"] = odds[effect]
                    row[f"{effect}_low"], row[f"{effect}_high"] = ci.loc[effect]
                    row[f"{effect}_p"] = fit.pvalues[effect]
            except (PerfectSeparationWarning, ConvergenceWarning, np.linalg.LinAlgError):
                failed += 1
        scored = g[g["confidence"].notna()]
        if len(scored):
            prob_true, prob_pred = calibration_curve(scored["correct"], scored["confidence"], n_bins=10)
            row["curve"] = (prob_true, prob_pred)
            row["brier"] = brier_score_loss(scored["correct"], scored["confidence"])
            row["accuracy"] = scored["correct"].mean()
            row["overconfidence"] = scored["confidence"].mean() - row["accuracy"]
        rows.append(row)
    board = pd.DataFrame(rows)
    board["skill"] = 1 - board["brier"] / 0.25
    board = board.sort_values("skill", ascending=False)
    return failed


# --------------------------------------------------------------------------- building blocks

#: block, its size (full, quick) and time target (s)
BLOCKS = {
    "firth_logistic": ((1000, 200), (50, 100), 1.0),
    # penalized likelihood-ratio tests and profile intervals: a null fit per effect and
    # about two held fits per interval end, each stopped a step early (calibration.firth)
    "bias_by_rater": ((1000, 200), (50, 100), 2.0),
    "synthetic_bank": ((10_000,), (500,), 5.0),
    "simulate_judgments": ((5000, 200), (100, 100), 5.0),
}


def blocks(quick: bool, repeat: int) -> dict[str, list[float]]:
    """Seconds of each building block, ``repeat`` times after one warm-up call."""
    from scipy.special import expit

    from calibration.bias import bias_by_rater
    from calibration.data import prepare
    from calibration.firth import firth_logistic
    from pairs.features import pair_features

    size = {name: spec[1 if quick else 0] for name, spec in BLOCKS.items()}
    rng = np.random.default_rng(11)
    raters, n = size["firth_logistic"]
    X = np.concatenate(
        [
            np.ones((raters, n, 1)),
            rng.choice([-1.0, 1.0], (raters, n, 1)),
            rng.normal(0, 1.5, (raters, n, 1)),
            rng.uniform(-2, 2, (raters, n, 1)),
        ],
        axis=2,
    )
    y = (rng.random((raters, n)) < expit(X @ np.array([0.2, 1.0, 0.5, 0.3]))).astype(float)
    y[:10] = X[:10, :, 1] > 0  # a few separated raters
    bank = synthetic_bank(BANK_PAIRS, seed=3)
    prepared = prepare(bank, cohort(bank, *size["bias_by_rater"], seed=400))
    big_bank = synthetic_bank(size["simulate_judgments"][1] * 50, seed=12)
    pair_features(big_bank)  # cached, as the app does
    specs = [RaterSpec(f"sim-{i}", skill=1.0) for i in range(size["simulate_judgments"][0])]
    work = {
        "firth_logistic": lambda: firth_logistic(X, y),
        "bias_by_rater": lambda: bias_by_rater(prepared),
        "synthetic_bank": lambda: synthetic_bank(size["synthetic_bank"][0], seed=12),
        "simulate_judgments": lambda: simulate_judgments(
            big_bank, specs, n_per_rater=size["simulate_judgments"][1], seed=13
        ),
    }
    firth_logistic(X[:10], y[:10])  # warm up
    bias_by_rater(prepared.iloc[:2_000])
    return {name: _table.timed(fn, repeat) for name, fn in work.items()}


def block_rows(quick: bool, repeat: int | None) -> list[dict]:
    """(d): each building block against the limit its unit test asserted before."""
    reps = 1 if quick else (repeat or 3)
    out = _table.in_child(SCRIPT, ["blocks", "quick" if quick else "full", str(reps)])
    rows = []
    for name, (full, small, target) in BLOCKS.items():
        size = " x ".join(f"{v:,}" for v in (small if quick else full))
        seconds = _table.median(out[name])
        rows.append(
            _table.row(
                f"(d) {name}, {size}",
                seconds,
                unit="s",
                target=f"< {target:g} s",
                met=seconds < target,
                notes=f"median of {reps} after a warm-up call, in a fresh process",
            )
        )
    return rows


# --------------------------------------------------------------------------- child process


def child(argv: list[str]) -> None:
    """``--child ours|baseline DATA REPEAT``: time the work on pickled data, print JSON."""
    import json

    if argv[0] == "blocks":
        print(json.dumps(blocks(argv[1] == "quick", int(argv[2]))))
        return
    side, data, repeat = argv[0], argv[1], int(argv[2])
    with open(data, "rb") as f:
        bank, judgments = pickle.load(f)
    if side == "baseline":  # import the libraries before measuring, as ours imports its own
        import sklearn.calibration  # noqa: F401
        import statsmodels.api  # noqa: F401
    else:
        import calibration.leaderboard  # noqa: F401
    rss_before = _table.rss_mib()
    out: dict = {"rss_before_mib": rss_before, "rows": len(judgments)}
    if side == "ours":
        runs = [ours(bank, judgments) for _ in range(repeat)]
        out["times"] = [sum(r.values()) for r in runs]
        out["stages"] = {k: _table.median([r[k] for r in runs]) for k in runs[0]}
        out["peak_rss_mib"] = _table.peak_rss_mib()  # before the extra runs below
        out["bias_alone"] = _table.median([bias_alone(bank, judgments) for _ in range(repeat)])
    else:
        failures = []
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            failures.append(baseline(bank, judgments))
            times.append(time.perf_counter() - start)
        out["times"], out["failed"] = times, failures[0]
    out["raters"] = int(judgments["rater"].nunique())
    out.setdefault("peak_rss_mib", _table.peak_rss_mib())
    print(json.dumps(out))


# --------------------------------------------------------------------------- main


def case_label(key: str, n_raters: int, n_per: int) -> str:
    """``(b) 1,000 raters x 200``: the case and its actual sizes."""
    who = "one rater" if n_raters == 1 else f"{n_raters:,} raters"
    return f"({key}) {who} x {n_per:,}"


def run_case(key: str, data: Path, label: str, *, quick: bool, repeat: int | None) -> list[dict]:
    time_target, mem_target = CASES[key][2:]
    reps = 1 if quick else (repeat or REPEATS[key])
    base_reps = 1 if key == "c" else reps
    ours_out = _table.in_child(SCRIPT, ["ours", str(data), str(reps)])
    base_out = _table.in_child(SCRIPT, ["baseline", str(data), str(base_reps)])
    t_ours, t_base = _table.median(ours_out["times"]), _table.median(base_out["times"])
    raters, rows_n = ours_out["raters"], ours_out["rows"]
    how = f"median of {reps}" + ("" if base_reps == reps else f"; baseline run {base_reps}x")
    rows = [
        _table.row(
            f"{label}: time",
            t_ours,
            baseline=t_base,
            unit="s",
            target=f"< {time_target:g} s",
            met=t_ours < time_target,
            notes=(
                f"{rows_n:,} judgments, {raters:,} rater(s); {how}; prepare + leaderboard (with the "
                f"Firth bias fit) + calibration_by_rater; the baseline's statsmodels Logit failed "
                f"(separation / no convergence) for {base_out['failed']} of {raters} rater(s)"
            ),
        )
    ]
    if key == "b":
        speedup = t_base / t_ours
        rows.append(
            _table.row(
                f"{label}: speed-up over the baseline",
                speedup,
                unit="x",
                target=f">= {SPEEDUP_TARGET:g}x",
                met=speedup >= SPEEDUP_TARGET,
                notes="baseline time / our time, measured in the same run",
            )
        )
    rows.append(
        _table.row(
            f"{label}: peak RSS",
            ours_out["peak_rss_mib"],
            baseline=base_out["peak_rss_mib"],
            unit="MiB",
            target="" if mem_target is None else f"< {mem_target / 1024:g} GiB",
            met=None if mem_target is None else ours_out["peak_rss_mib"] < mem_target,
            notes=(
                "peak resident set size (VmHWM) of the fresh process doing the work: interpreter, "
                "libraries, the judgments frame and the work's peak; before the work it held "
                f"{ours_out['rss_before_mib']:,.0f} MiB (baseline {base_out['rss_before_mib']:,.0f} MiB)"
            ),
        )
    )
    for stage, seconds in ours_out["stages"].items():
        rows.append(_table.row(f"{label}: {stage}", seconds, unit="s", section="breakdown"))
    rows.append(
        _table.row(
            f"{label}: bias_by_rater alone",
            ours_out["bias_alone"],
            unit="s",
            section="breakdown",
            notes="runs inside leaderboard; timed apart after the runs above, in the same process",
        )
    )
    return rows


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1:])
        return
    p = _table.parser(__doc__)
    p.add_argument("--cases", default="abcd", help="which of a, b, c, d to run (default: all)")
    args = p.parse_args(argv)
    bank = synthetic_bank(500 if args.quick else BANK_PAIRS, seed=1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="paircal-bench-") as tmp:
        for key in args.cases.replace("d", ""):
            n_raters, n_per = QUICK[key] if args.quick else CASES[key][:2]
            data = Path(tmp) / f"{key}.pkl"
            with open(data, "wb") as f:
                pickle.dump((bank, cohort(bank, n_raters, n_per)), f)
            rows += run_case(
                key, data, case_label(key, n_raters, n_per), quick=args.quick, repeat=args.repeat
            )
            data.unlink()
    if "d" in args.cases:
        rows += block_rows(args.quick, args.repeat)
    preamble = (
        "Statistics at scale (simulated cohorts). ours = prepare + leaderboard (incl. per-rater Firth "
        "bias) + calibration_by_rater; baseline = notebook loop of statsmodels Logit + scikit-learn "
        "calibration_curve / brier_score_loss per rater. ratio = ours / baseline. Each side runs in a "
        "fresh process; peak RSS is that process's VmHWM."
        + (" QUICK RUN: tiny sizes, one repeat; not a figure." if args.quick else "")
    )
    _table.report(rows, title="Statistics at scale", preamble=preamble, json_path=args.json)


if __name__ == "__main__":
    main()
