"""The command line from the file: ``python -m calibration leaderboard`` on a judgments CSV, whole processes.

Run::

    python bench/bench_cli.py                  # (a) 1,000 x 200 and (b) 5,000 x 200, median of 3 runs each
    python bench/bench_cli.py --quick          # 50 x 20, one run: a smoke test
    python bench/bench_cli.py --json OUT.json --repeat 5

Inputs are made once, in a temporary directory, before any clock starts:

* the bank: the five LLMBar files of ``../shared/data/llmbar/`` converted with
  ``python -m pairs convert`` and put together (419 pairs); when they are not
  there, 419 pairs of ``calibration.simulate.synthetic_bank``, written as JSONL;
* the judgments: ``python -m calibration simulate --raters N --per-rater 200``
  (``calibration.simulate``), a CSV of 1,000 x 200 (14 MB) and of 5,000 x 200
  (1 M judgments, 70 MB).

"ours" is one process: ``python -m calibration leaderboard --bank BANK
--judgments J.csv --format csv --out OUT``, from the interpreter starting to
the leaderboard written (reading and checking the bank and every judgment, the
Firth bias fit of every rater, the scores). The "baseline" is a process that
only does ``pandas.read_csv(J.csv)``. The two alternate, run after run, so both
see the same machine; one uncounted run of each comes first. Peak memory is
each child's own maximum resident set (``ru_maxrss`` from ``wait4``).

Both children run with Python's default bytecode cache, as on a user's
machine: ``PYTHONDONTWRITEBYTECODE`` is removed from their environment. With
it set, every run would compile the project's modules from source (about
70 ms here) while pandas' and scipy's installed ``.pyc`` files are used as
they are, so only "ours" would pay; the warm-up run writes the project's
``__pycache__`` (git ignores it) like any user's second run.

Where the time goes is measured in one more process that runs the command's
steps one by one (``--child``): imports, the bank, the judgments, ``prepare``,
``leaderboard``, the CSV written.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _table  # noqa: E402

SCRIPT = Path(__file__).resolve()
ROOT = _table.ROOT
LLMBAR = ROOT.parent / "shared" / "data" / "llmbar"
BANK_PAIRS = 419  # the five LLMBar files
PER_RATER = 200
#: case -> raters, and its targets: ratio to read_csv, seconds, MiB (None: no target)
CASES = {"a": (1000, 3.0, None, None), "b": (5000, None, 10.0, 2048.0)}
QUICK_RATERS = {"a": 50, "b": 100}
QUICK_PER_RATER = 20
REPEATS = 3


# --------------------------------------------------------------------------- inputs


def make_bank(workdir: Path) -> tuple[Path, str]:
    """The bank file and where it came from: LLMBar converted by ``python -m pairs convert``, or synthetic."""
    bank = workdir / "bank.jsonl"
    files = sorted(LLMBAR.glob("*.json"))
    if files:
        parts = []
        for file in files:
            out = workdir / f"{file.stem}.jsonl"
            _run([sys.executable, "-m", "pairs", "convert", str(file), "--out", str(out)])
            parts.append(out.read_text(encoding="utf-8"))
        bank.write_text("".join(parts), encoding="utf-8")
        return bank, f"LLMBar ({len(files)} files, python -m pairs convert)"
    from calibration.simulate import synthetic_bank
    from pairs.bank import bank_to_records

    records = bank_to_records(synthetic_bank(BANK_PAIRS, seed=11))
    bank.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return bank, f"synthetic ({BANK_PAIRS} pairs; ../shared/data/llmbar/ not found)"


def make_judgments(bank: Path, out: Path, raters: int, per_rater: int) -> None:
    """Simulated judgments on ``bank`` by ``python -m calibration simulate``."""
    cmd = [sys.executable, "-m", "calibration", "simulate", "--bank", str(bank), "--out", str(out)]
    _run(cmd + ["--raters", str(raters), "--per-rater", str(per_rater), "--seed", "3"])


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")


# --------------------------------------------------------------------------- measuring


CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""The children's environment: Python's default bytecode cache, as a user has it (see the module's notes)."""


def timed_process(cmd: list[str]) -> tuple[float, float]:
    """Wall-clock seconds and peak resident set (MiB) of one child process, from start to exit."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=CHILD_ENV, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            message = err.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{message}")
    peak = usage.ru_maxrss / 2**20 if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return took, peak


def leaderboard_cmd(bank: Path, judgments: Path, out: Path) -> list[str]:
    """The command the issue times."""
    return [
        sys.executable, "-m", "calibration", "leaderboard", "--bank", str(bank),
        "--judgments", str(judgments), "--format", "csv", "--out", str(out),
    ]  # fmt: skip


def read_csv_cmd(judgments: Path) -> list[str]:
    """A process that only reads the same file with pandas."""
    return [sys.executable, "-c", f"import pandas; pandas.read_csv({str(judgments)!r})"]


def child(argv: list[str]) -> None:
    """``--child BANK J.csv OUT``: run the leaderboard command's steps one by one, print their times."""
    stages: dict[str, float] = {}
    start = time.perf_counter()
    import pandas  # noqa: F401

    import calibration.leaderboard  # noqa: F401
    import cli.calibration  # noqa: F401
    from calibration.data import first_answers, prepare
    from calibration.leaderboard import MIN_RANKED, PRIOR_JUDGMENTS, leaderboard
    from pairs.export import csv_text
    from pairs.files import atomic_write
    from pairs.importers import read_bank
    from pairs.judgments import read_judgments

    stages["imports (pandas, scipy, ...)"] = time.perf_counter() - start

    def step(name: str, fn):
        began = time.perf_counter()
        value = fn()
        stages[name] = time.perf_counter() - began
        return value

    bank = step("read the bank", lambda: read_bank(argv[0]))
    judgments = step(
        "read + check the judgments CSV",
        lambda: first_answers(read_judgments(argv[1], pair_ids=bank["id"])),
    )
    prepared = step("prepare (join to gold, features)", lambda: prepare(bank, judgments))
    board = step(
        "leaderboard (scores, Firth bias fit)",
        lambda: leaderboard(prepared, k=PRIOR_JUDGMENTS, min_n=MIN_RANKED),
    )

    def write() -> None:
        atomic_write(argv[2], [csv_text(board)])

    step("write the CSV", write)
    print(json.dumps({"stages": stages, "peak_rss_mib": _table.peak_rss_mib()}))


# --------------------------------------------------------------------------- main


def run_case(
    key: str, bank: Path, judgments: Path, out: Path, *, raters: int, per: int, reps: int
) -> list[dict]:
    """Time ``ours`` and the read_csv baseline ``reps`` times each, alternating; the case's rows."""
    ratio_target, time_target, mem_target = CASES[key][1:]
    ours, base = [], []
    timed_process(leaderboard_cmd(bank, judgments, out))  # warm-up, not counted: files cached,
    timed_process(read_csv_cmd(judgments))  # the project's bytecode written
    for _ in range(reps):
        ours.append(timed_process(leaderboard_cmd(bank, judgments, out)))
        base.append(timed_process(read_csv_cmd(judgments)))
    t_ours, t_base = _table.median([t for t, _ in ours]), _table.median([t for t, _ in base])
    rss_ours, rss_base = max(m for _, m in ours), max(m for _, m in base)
    label = f"({key}) leaderboard CLI, {raters:,} raters x {per:,} CSV"
    how = f"whole processes, median of {reps}, alternating with pandas.read_csv of the same file"
    rows = []
    if ratio_target is not None:
        ratio = t_ours / t_base
        rows.append(
            _table.row(
                f"{label}: time vs read_csv",
                ratio,
                unit="x",
                target=f"<= {ratio_target:g}x",
                met=ratio <= ratio_target,
                notes=f"{t_ours:.2f} s against {t_base:.2f} s; {how}",
            )
        )
    rows.append(
        _table.row(
            f"{label}: time",
            t_ours,
            baseline=t_base,
            unit="s",
            target="" if time_target is None else f"< {time_target:g} s",
            met=None if time_target is None else t_ours < time_target,
            notes=f"{how}; baseline: read_csv alone",
            section="main" if time_target is not None else "breakdown",
        )
    )
    rows.append(
        _table.row(
            f"{label}: peak RSS",
            rss_ours,
            baseline=rss_base,
            unit="MiB",
            target="" if mem_target is None else f"< {mem_target / 1024:g} GiB",
            met=None if mem_target is None else rss_ours < mem_target,
            notes="the child's maximum resident set (wait4 ru_maxrss), largest of the runs",
            section="main" if mem_target is not None else "breakdown",
        )
    )
    stages = _table.in_child(SCRIPT, [str(bank), str(judgments), str(out)], env=CHILD_ENV)["stages"]
    for name, seconds in stages.items():
        rows.append(
            _table.row(
                f"({key}) {name}", seconds, unit="s", notes="one run, in one process", section="breakdown"
            )
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    p = _table.parser(__doc__)
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.child)
        return
    reps = 1 if args.quick else (args.repeat or REPEATS)
    per = QUICK_PER_RATER if args.quick else PER_RATER
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="paircal-bench-cli-") as tmp:
        workdir = Path(tmp)
        bank, source = make_bank(workdir)
        for key, (n_raters, *_targets) in CASES.items():
            raters = QUICK_RATERS[key] if args.quick else n_raters
            judgments = workdir / f"judgments-{key}.csv"
            print(f"simulating {raters:,} raters x {per} ...", file=sys.stderr, flush=True)
            make_judgments(bank, judgments, raters, per)
            print(f"timing ({key}) ...", file=sys.stderr, flush=True)
            rows += run_case(
                key, bank, judgments, workdir / f"board-{key}.csv", raters=raters, per=per, reps=reps
            )
    preamble = f"Bank: {source}. Judgments: python -m calibration simulate, {per} per rater."
    if args.quick:
        preamble += " QUICK RUN: tiny sizes, one run; not figures."
    _table.report(rows, title="The leaderboard command from the file", preamble=preamble, json_path=args.json)


if __name__ == "__main__":
    main()
