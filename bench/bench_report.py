"""The exported bias report of one rater with 5,000 judgments: time to build and write, and size.

Run::

    python bench/bench_report.py                # 5,000 judgments, median of 5
    python bench/bench_report.py --quick        # 300 judgments, one run: a smoke test
    python bench/bench_report.py --json OUT.json

The rater is simulated (``calibration.simulate``, a synthetic bank of 5,000
pairs, so each pair is judged once); nothing is read from the network. Each
run mirrors the report download of ``views/components.py``: from the rater's
prepared judgments, ``calibration.report.build_report(rows, rater=...)``
(default 1,000 bootstrap resamples for the agreement interval), then
``to_html`` (inline SVG charts rendered by vl-convert), ``to_json`` and
``to_markdown``. Sizes are of the UTF-8 encoded text.

All runs happen in one fresh Python process; its peak resident set size
(``VmHWM``) is reported. The first run, which also loads vl-convert and computes
the bank's text features, is timed apart ("cold").
"""

from __future__ import annotations

import json
import pickle
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _table  # noqa: E402

SCRIPT = Path(__file__).resolve()
N_JUDGMENTS, QUICK_JUDGMENTS = 5000, 300
REPEATS = 5
RATER = "r00000"


def child(argv: list[str]) -> None:
    """``--child DATA REPEAT``: build and write the report REPEAT + 1 times, print JSON."""
    from calibration.data import prepare
    from calibration.report import build_report, to_html, to_json, to_markdown

    data, repeat = argv[0], int(argv[1])
    with open(data, "rb") as f:
        bank, judgments = pickle.load(f)
    runs = []
    for _ in range(repeat + 1):  # the first run is cold
        t = {}
        start = time.perf_counter()
        rows = prepare(bank, judgments)
        t["prepare"] = time.perf_counter() - start
        start = time.perf_counter()
        report = build_report(rows, rater=RATER)
        t["build_report"] = time.perf_counter() - start
        for name, fn in (("html", to_html), ("json", to_json), ("markdown", to_markdown)):
            start = time.perf_counter()
            text = fn(report)
            t[name] = time.perf_counter() - start
            t[f"{name}_kib"] = len(text.encode("utf-8")) / 1024
        runs.append(t)
    cold, warm = runs[0], runs[1:]
    out = {key: [r[key] for r in warm] for key in warm[0]}
    out["cold"] = cold
    out["judgments"] = len(judgments)
    out["peak_rss_mib"] = _table.peak_rss_mib()
    print(json.dumps(out))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1:])
        return
    args = _table.parser(__doc__).parse_args(argv)
    from bench.bench_stats import cohort
    from calibration.simulate import synthetic_bank

    n = QUICK_JUDGMENTS if args.quick else N_JUDGMENTS
    repeat = 1 if args.quick else (args.repeat or REPEATS)
    bank = synthetic_bank(500 if args.quick else N_JUDGMENTS, seed=1)
    with tempfile.TemporaryDirectory(prefix="paircal-bench-report-") as tmp:
        data = Path(tmp) / "rater.pkl"
        with open(data, "wb") as f:
            pickle.dump((bank, cohort(bank, 1, n)), f)
        res = _table.in_child(SCRIPT, [str(data), str(repeat)])
    med = {key: _table.median(v) for key, v in res.items() if isinstance(v, list)}
    label = f"one rater x {res['judgments']:,}"
    how = f"median of {repeat} warm runs"
    write = med["build_report"] + med["html"]
    rows = [
        _table.row(
            f"{label}: HTML report, build + write",
            write,
            unit="s",
            notes=f"{how}; build_report (1,000 bootstrap resamples) + to_html with three inline SVG charts",
        ),
        _table.row(f"{label}: HTML report size", med["html_kib"], unit="KiB", notes="self-contained, UTF-8"),
        _table.row(f"{label}: JSON report size", med["json_kib"], unit="KiB"),
        _table.row(f"{label}: Markdown report size", med["markdown_kib"], unit="KiB"),
        _table.row(f"{label}: build_report", med["build_report"], unit="s", section="breakdown"),
        _table.row(f"{label}: to_html", med["html"], unit="s", section="breakdown"),
        _table.row(f"{label}: to_json", med["json"], unit="s", section="breakdown"),
        _table.row(f"{label}: to_markdown", med["markdown"], unit="s", section="breakdown"),
        _table.row(
            f"{label}: HTML report, first run in a fresh process",
            res["cold"]["build_report"] + res["cold"]["html"],
            unit="s",
            section="breakdown",
            notes="includes loading vl-convert and the first chart render",
        ),
        _table.row(
            f"{label}: prepare (not part of the report time)",
            med["prepare"],
            unit="s",
            section="breakdown",
            notes="the app has the prepared judgments cached when the report is asked for",
        ),
        _table.row(
            f"{label}: peak RSS",
            res["peak_rss_mib"],
            unit="MiB",
            section="breakdown",
            notes="VmHWM of the fresh process that built and wrote the reports (all runs)",
        ),
    ]
    preamble = "The exported bias report of one rater." + (
        " QUICK RUN: tiny sizes, one repeat; not a figure." if args.quick else ""
    )
    _table.report(rows, title="Rater report", preamble=preamble, json_path=args.json)


if __name__ == "__main__":
    main()
