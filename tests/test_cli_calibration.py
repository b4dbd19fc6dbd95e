"""The ``python -m calibration`` command line: the defaults it shares with the library, and what it loads.

The commands' behaviour (reports, leaderboards, problems as FILE:LINE) is
tested in tests/test_report.py; the time from a judgments CSV to a
leaderboard is measured in bench/bench_cli.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

import cli.calibration
from calibration.agreement import N_BOOT
from calibration.leaderboard import MIN_RANKED, PRIOR_JUDGMENTS
from pairs.bank import STARTER_BANK_PATH
from tests.conftest import ROOT


def test_the_defaults_are_the_librarys_constants(monkeypatch):
    parse = cli.calibration.build_parser().parse_args
    board = parse(["leaderboard", "--bank", "b.jsonl", "--judgments", "j.csv"])
    assert (board.prior, board.min_n) == (PRIOR_JUDGMENTS, MIN_RANKED) == (30, 20)
    assert parse(["report", "--bank", "b.jsonl", "--judgments", "j.csv"]).bootstrap == N_BOOT == 1000
    # read from the constants, not written again: change them and the command line follows
    monkeypatch.setattr(cli.calibration, "PRIOR_JUDGMENTS", 12.5)
    monkeypatch.setattr(cli.calibration, "MIN_RANKED", 7)
    monkeypatch.setattr(cli.calibration, "N_BOOT", 99)
    parse = cli.calibration.build_parser().parse_args
    board = parse(["leaderboard", "--bank", "b.jsonl", "--judgments", "j.csv"])
    assert (board.prior, board.min_n) == (12.5, 7)
    assert parse(["report", "--bank", "b.jsonl", "--judgments", "j.csv"]).bootstrap == 99


def test_the_leaderboard_from_files_loads_neither_scipy_stats_nor_sqlalchemy(tmp_path):
    # scipy.stats alone takes longer to import than pandas; the leaderboard needs only scipy.special.
    ids = pd.read_json(STARTER_BANK_PATH, lines=True)["id"].head(3).tolist()
    judgments = tmp_path / "j.csv"
    judgments.write_text("rater,pair_id,choice,confidence\n" + "".join(f"ann,{i},A,0.7\n" for i in ids))
    out = tmp_path / "board.csv"
    argv = ["leaderboard", "--bank", str(STARTER_BANK_PATH), "--judgments", str(judgments), "--out", str(out)]
    script = (
        "import json, sys\nfrom cli.calibration import main\n"
        f"code = main({argv!r})\n"
        "print(json.dumps([code, sorted(m for m in ('scipy.stats', 'sqlalchemy') if m in sys.modules)]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [0, []]
    assert pd.read_csv(out)["rater"].tolist() == ["ann"]
