"""The command lines print no raw control character: names, cells and file names are escaped.

A rater named ``\\x1b[2J...`` (clear the screen), ``\\x1b]0;...\\x07`` (retitle
the terminal) or holding a right-to-left override would otherwise act on the
terminal of whoever runs the command.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

import cli.calibration
import cli.pairs
from pairs.bank import STARTER_BANK_PATH
from pairs.importers import read_bank
from pairs.judgments import COLUMNS
from tests.conftest import ROOT

ESCAPE = "\x1b[31mmallory\x1b[0m"
HIDDEN = ("\x1b", "\x07", "\x9b", "\u202e", "\u200b", "\r")


def run(*argv: str) -> subprocess.CompletedProcess:
    """``python -m ARGV...`` as a person runs it, its output as bytes."""
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, timeout=300)


def assert_nothing_hidden(*texts: bytes | str) -> None:
    for text in texts:
        decoded = text.decode("utf-8") if isinstance(text, bytes) else text
        assert not [ch for ch in HIDDEN if ch in decoded], decoded[:2000]


def judgments_file(tmp_path, raters: list[str]):
    ids = pd.read_json(STARTER_BANK_PATH, lines=True)["id"].head(25).tolist()
    rows = [f"{r},{i},A,0.7,,," for r in raters for i in ids]
    path = tmp_path / "j.csv"
    path.write_text(",".join(COLUMNS) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_judgments_file_with_an_escape_code_rater_is_refused_without_echoing_it(tmp_path):
    path = judgments_file(tmp_path, ["ann", ESCAPE, "bob\u202e"])
    done = run("calibration", "leaderboard", "--bank", str(STARTER_BANK_PATH), "--judgments", str(path))
    assert done.returncode == 1, done.stdout
    assert_nothing_hidden(done.stdout, done.stderr)
    err = done.stderr.decode()
    assert f"{path}:27: rater: must not contain control characters (U+001B ESCAPE)" in err
    assert f"{path}:52: rater: must not contain invisible characters (U+202E RIGHT-TO-LEFT OVERRIDE)" in err


def test_pairs_judgments_import_refuses_it_too(tmp_path):
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert run("pairs", "import", str(STARTER_BANK_PATH), "--bank", "shipped", "--db", db).returncode == 0
    path = judgments_file(tmp_path, [ESCAPE])
    done = run("pairs", "judgments", "import", str(path), "--bank", "shipped", "--db", db)
    assert done.returncode == 1
    assert_nothing_hidden(done.stdout, done.stderr)
    assert "U+001B ESCAPE" in done.stderr.decode()


def test_a_file_name_with_an_escape_code_is_printed_escaped(tmp_path):
    missing = tmp_path / "bank\x1b]0;owned\x07.jsonl"
    done = run("pairs", "validate", str(missing))
    assert done.returncode == 2
    assert_nothing_hidden(done.stdout, done.stderr)
    assert "bank\\x1b]0;owned\\x07.jsonl" in done.stderr.decode()


def test_bank_stats_print_tags_and_domains_escaped(tmp_path, capsys):
    records = [json.loads(line) for line in STARTER_BANK_PATH.read_text().splitlines()[:3]]
    records[0]["tags"] = ["\x1b[2jwiped"]
    records[1]["domain"] = "math\u202eevil"
    path = tmp_path / "bank.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert cli.pairs.main(["stats", str(path)]) == 0
    out, err = capsys.readouterr()
    assert_nothing_hidden(out, err)
    assert "\\x1b[2jwiped" in out and "math\\u202eevil" in out


def test_a_leaderboard_printed_to_the_terminal_escapes_names_the_database_holds(monkeypatch, capsys):
    """Names stored before they were checked come out of the database as they are."""
    bank = read_bank(STARTER_BANK_PATH)
    ids = bank["id"].head(25).tolist()
    judgments = pd.DataFrame(
        [{"rater": r, "pair_id": i, "choice": "A", "confidence": 0.7} for r in ("ann", ESCAPE) for i in ids]
    ).reindex(columns=COLUMNS)
    monkeypatch.setattr(cli.calibration, "load_inputs", lambda args, **_: (bank, judgments))
    assert cli.calibration.main(["leaderboard", "--bank", "starter", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert_nothing_hidden(out, err)
    assert "\\x1b[31mmallory\\x1b[0m" in out
    for fmt in ("json", "md"):
        argv = ["report", "--bank", "starter", "--rater", ESCAPE, "--format", fmt, "--bootstrap", "20"]
        assert cli.calibration.main(argv) == 0
        out, err = capsys.readouterr()
        assert_nothing_hidden(out, err)


def test_streams_are_given_back_after_a_command(capsys):
    before = sys.stdout, sys.stderr
    assert cli.pairs.main(["validate", "/nonexistent/\x1b.jsonl"]) == 2
    assert cli.calibration.main(["report"]) == 2  # a usage error, printed by argparse
    assert (sys.stdout, sys.stderr) == before
    assert_nothing_hidden(*capsys.readouterr())
