"""The benchmarks still run: ``bench/run_all.py --quick`` end to end, and its table.

No time is asserted here (the figures live in BENCHMARKS.md, made by the full
run); this only keeps the scripts from rotting: each one runs at tiny sizes,
every figure of the issue appears in the summary with a number, and a
regenerated file keeps the hand-written notes outside its markers.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_browser import _require_browser

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.browser
def test_run_all_quick_writes_every_figure_and_keeps_the_notes(tmp_path):
    _require_browser()
    out = tmp_path / "BENCHMARKS.md"
    old = "<!-- generated: start -->\nold\n<!-- generated: end -->"
    out.write_text(f"# Benchmarks\n\nintro kept\n\n{old}\n\nnotes kept\n")
    done = subprocess.run(
        [sys.executable, "bench/run_all.py", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text()
    assert text.startswith("# Benchmarks\n\nintro kept\n") and text.rstrip().endswith("notes kept")
    assert "\nold\n" not in text and "QUICK RUN" in text
    summary = text.split("## Summary", 1)[1].split("\n## ", 1)[0]
    figures = {
        "(a) one rater": "s",
        "(b) 20 raters": "s",
        "speed-up over the baseline": "x",
        "(c) 50 raters": "s",
        "submit → gold visible, p50": "ms",
        "submit → gold visible, p95": "ms",
        "next → next pair visible, p50": "ms",
        "next → next pair visible, p95": "ms",
        "cold start": "s",
        "300-pair bank: validated and imported": "s",
        "HTML report, build + write": "s",
        "HTML report size": "KiB",
        "Leaderboard page, first open": "s",
        "My report page, first open": "s",
        "My report page after one new judgment": "s",
    }
    for figure, unit in figures.items():
        line = next((row for row in summary.splitlines() if figure in row), None)
        assert line is not None, f"{figure!r} is not in the summary"
        ours = line.split("|")[2].strip()
        assert re.fullmatch(rf"[0-9][0-9,.]* ?{re.escape(unit)}", ours), (figure, ours)
    for heading in (
        "Statistics at cohort scale",
        "drill in a real browser",
        "10,000-pair bank",
        "HTML report",
    ):
        assert heading in text
