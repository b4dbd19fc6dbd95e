"""``bench/effect_validity.py --quick`` runs, and its figures hold: intervals cover planted learning,
and a cohort with no learning rarely shows a significant change (the full table is in VALIDITY.md)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def _shares(text: str, title: str) -> dict[tuple[str, ...], list[float]]:
    """The percentages of each row of the Markdown table after ``title``, keyed by its label cells."""
    block = text[text.index(title) :].split("\n\n")[1]
    rows: dict[tuple[str, ...], list[float]] = {}
    for line in block.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        labels = tuple(c for c in cells if "%" not in c and c != "-")
        rows[labels] = [float(m) / 100 for m in re.findall(r"(\d+\.\d)% \(", line)]
    return rows


def test_quick_validity_run():
    done = subprocess.run(
        [sys.executable, "bench/effect_validity.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    coverage = _shares(done.stdout, "Planted learning")
    for measure in ("accuracy", "brier_skill", "overconfidence", "length"):
        cohort, raters = coverage[("post vs pre", measure)]
        assert raters >= 0.90, (measure, raters)  # a few hundred rater intervals a run
        assert cohort >= 0.70, (measure, cohort)  # 12 cohort intervals: a loose bound
    null = _shares(done.stdout, "No learning")
    for measure in ("accuracy", "brier_skill", "overconfidence", "length"):
        cohort, _ = null[(measure,)]
        assert cohort >= 0.75, (measure, cohort)
