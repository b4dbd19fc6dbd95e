"""Importing a 10,000-pair bank: read and validate, then store, as the lead console does.

Run::

    python bench/bench_import.py                # 10,000 pairs, median of 3
    python bench/bench_import.py --quick        # 300 pairs, one run: a smoke test
    python bench/bench_import.py --json OUT.json

The bank is generated here (``calibration.simulate.synthetic_bank``) and written
as native JSONL into a temporary directory; nothing is read from the network.
Each run mirrors the "Import a bank" tab of ``views/lead.py``: the file's bytes
go through ``pairs.importers.check_bank_bytes`` with a progress callback (the
tab's ``st.progress`` bar), then ``Store.import_bank`` writes them into a fresh
SQLite database (schema created before the clock starts). A second import of
the same file into the same bank, which updates every pair (a lead re-uploading
a corrected bank), is timed too.

All runs happen in one fresh Python process; its peak resident set size
(``VmHWM``) is reported.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _table  # noqa: E402

SCRIPT = Path(__file__).resolve()
N_PAIRS, QUICK_PAIRS = 10_000, 300
TARGET_S = 10.0
REPEATS = 3


def write_bank(path: Path, n_pairs: int) -> None:
    """A synthetic bank of ``n_pairs`` as native JSONL."""
    from calibration.simulate import synthetic_bank
    from pairs.bank import bank_to_records

    bank = synthetic_bank(n_pairs, seed=7, tie_share=0.05)
    with open(path, "w", encoding="utf-8") as f:
        for record in bank_to_records(bank):
            f.write(json.dumps(record, ensure_ascii=False) + "\n")


def child(argv: list[str]) -> None:
    """``--child FILE DIR REPEAT``: import FILE into fresh databases in DIR, print JSON."""
    from pairs import features
    from pairs.balance import bank_stats
    from pairs.importers import check_bank_bytes
    from storage.store import Store

    path, workdir, repeat = Path(argv[0]), Path(argv[1]), int(argv[2])
    out = {"validate": [], "store": [], "total": [], "reimport": [], "stats": []}
    for i in range(repeat):
        store = Store(f"sqlite:///{workdir / f'run{i}.db'}")
        fractions: list[float] = []

        def progress(done: int, total: int, fractions=fractions) -> None:
            fractions.append(done / max(total, 1))  # the tab calls bar.progress(done / max(total, 1))

        start = time.perf_counter()
        data = path.read_bytes()  # the uploaded file's bytes (upload.getvalue() in the app)
        bank, problems = check_bank_bytes(data, path.name, "auto", progress=progress)
        validated = time.perf_counter()
        if problems:
            raise RuntimeError(f"{len(problems)} problem(s), e.g. {problems[0]}")
        counts = store.import_bank("bench", bank, source_file=path.name)
        stored = time.perf_counter()
        if counts["added"] != len(bank):
            raise RuntimeError(f"expected {len(bank)} pairs added, got {counts}")
        # the tab then shows the new bank's statistics; text features computed afresh
        features._CACHE.clear()
        bank_stats(store.load_bank("bench"))
        shown = time.perf_counter()
        again = store.import_bank("bench", bank, source_file=path.name)
        reimported = time.perf_counter()
        if again["unchanged"] != len(bank):
            raise RuntimeError(f"expected {len(bank)} pairs unchanged, got {again}")
        out["stats"].append(shown - stored)
        out["validate"].append(validated - start)
        out["store"].append(stored - validated)
        out["total"].append(stored - start)
        out["reimport"].append(reimported - shown)
        out["progress_calls"], out["last_fraction"] = len(fractions), fractions[-1] if fractions else 0
        out["pairs"] = len(bank)
        store.engine.dispose()
    out["peak_rss_mib"] = _table.peak_rss_mib()
    print(json.dumps(out))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1:])
        return
    args = _table.parser(__doc__).parse_args(argv)
    n_pairs = QUICK_PAIRS if args.quick else N_PAIRS
    repeat = 1 if args.quick else (args.repeat or REPEATS)
    with tempfile.TemporaryDirectory(prefix="paircal-bench-import-") as tmp:
        path = Path(tmp) / "bank.jsonl"
        write_bank(path, n_pairs)
        size_mib = path.stat().st_size / 2**20
        res = _table.in_child(SCRIPT, [str(path), tmp, str(repeat)])
    how = f"median of {repeat}"
    label = f"{res['pairs']:,}-pair bank"
    rows = [
        _table.row(
            f"{label}: validated and imported",
            _table.median(res["total"]),
            unit="s",
            target=f"< {TARGET_S:g} s",
            met=_table.median(res["total"]) < TARGET_S,
            notes=(
                f"{how}; JSONL of {size_mib:.1f} MiB; check_bank_bytes then Store.import_bank into a "
                "fresh SQLite database, as the lead console's import tab does"
            ),
        ),
        _table.row(
            f"{label}: read and validate (check_bank_bytes)",
            _table.median(res["validate"]),
            unit="s",
            section="breakdown",
            notes=(
                f"progress callback called {res['progress_calls']} times (the tab's st.progress bar), "
                f"last at {res['last_fraction']:.0%}"
            ),
        ),
        _table.row(
            f"{label}: store (Store.import_bank, new bank)",
            _table.median(res["store"]),
            unit="s",
            section="breakdown",
            notes="one transaction; no progress callback (the tab shows a spinner)",
        ),
        _table.row(
            f"{label}: then the tab's bank statistics (load_bank + bank_stats)",
            _table.median(res["stats"]),
            unit="s",
            section="breakdown",
            notes="the tab then shows the new bank; its text features computed afresh (cache cleared)",
        ),
        _table.row(
            f"{label}: re-import into the same bank (every pair updated)",
            _table.median(res["reimport"]),
            unit="s",
            section="breakdown",
        ),
        _table.row(
            f"{label}: peak RSS",
            res["peak_rss_mib"],
            unit="MiB",
            section="breakdown",
            notes="VmHWM of the fresh process that validated and stored the bank (all runs)",
        ),
    ]
    preamble = "Bank import, as in the lead console: validate the uploaded bytes, then store them." + (
        " QUICK RUN: tiny sizes, one repeat; not a figure." if args.quick else ""
    )
    _table.report(rows, title="Bank import", preamble=preamble, json_path=args.json)


if __name__ == "__main__":
    main()
