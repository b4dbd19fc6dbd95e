"""Benchmark the statistics at cohort scale; prints a table of medians.

Run: ``python bench/bench_stats.py [--repeat 3] [--large]``. Data are simulated
(``calibration.simulate``); nothing is read from disk or the network.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from calibration.bias import bias_by_rater  # noqa: E402
from calibration.confidence import calibration_by_rater  # noqa: E402
from calibration.data import prepare  # noqa: E402
from calibration.leaderboard import leaderboard  # noqa: E402
from calibration.report import build_report  # noqa: E402
from calibration.simulate import RaterSpec, simulate_judgments, synthetic_bank  # noqa: E402


def cohort(bank, n_raters: int, n_per_rater: int, seed: int = 0):
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


def measure(fn, repeat: int) -> tuple[float, float]:
    """Median seconds over ``repeat`` runs, and peak traced memory (MiB) of one more run."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--large", action="store_true", help="also 5,000 raters x 200 (1 M judgments)")
    args = parser.parse_args()
    bank = synthetic_bank(2000, seed=1)
    cases = [("one rater x 5,000", 1, 5000, 0.3), ("1,000 raters x 200", 1000, 200, 2.0)]
    if args.large:
        cases.append(("5,000 raters x 200", 5000, 200, 10.0))
    rows = []
    for label, n_raters, n_per, target in cases:
        prepared = prepare(bank, cohort(bank, n_raters, n_per))
        work = {
            "prepare (join + features)": lambda p=prepared: prepare(
                bank, p[["rater", "pair_id", "choice", "confidence", "left", "answered_at", "seconds"]]
            ),
            "bias_by_rater": lambda p=prepared: bias_by_rater(p),
            "calibration_by_rater": lambda p=prepared: calibration_by_rater(p),
            "leaderboard (score + bias + streak)": lambda p=prepared: leaderboard(p),
        }
        if n_raters == 1:
            work["full one-rater report (JSON dict)"] = lambda p=prepared: build_report(p, rater="r00000")
        for name, fn in work.items():
            median, peak = measure(fn, args.repeat)
            ok = "" if name.startswith("prepare") else ("yes" if median < target else "NO")
            rows.append((label, name, median, peak, f"< {target:g} s" if ok else "", ok))
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{len(__import__('os').sched_getaffinity(0))} cores; medians of {args.repeat} runs\n"
    )
    print("| data | work | median s | peak MiB | target | met |")
    print("| --- | --- | ---: | ---: | --- | --- |")
    for label, name, median, peak, target, ok in rows:
        print(f"| {label} | {name} | {median:.3f} | {peak:.0f} | {target} | {ok} |")


if __name__ == "__main__":
    main()
