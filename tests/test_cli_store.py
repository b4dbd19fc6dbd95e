"""The database commands of ``python -m pairs``: import, export, judgments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli.pairs import main
from storage.store import Store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
STARTER = ROOT / "pairs" / "data" / "starter_bank.jsonl"


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_import_then_export_round_trips_the_bank(db, tmp_path, capsys):
    assert main(["import", str(STARTER), "--bank", "shipped", "--db", db]) == 0
    assert f"{len(STARTER.read_text().splitlines())} pairs added" in capsys.readouterr().out
    out = tmp_path / "again.jsonl"
    assert main(["export", "--bank", "shipped", "--out", str(out), "--db", db]) == 0
    original = [json.loads(line) for line in STARTER.read_text().splitlines()]
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert exported == original


def test_import_of_a_broken_bank_lists_every_problem_and_imports_nothing(db, capsys):
    assert main(["import", str(FIXTURES / "broken_bank.jsonl"), "--bank", "b", "--db", db]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 9 and all(line.startswith(str(FIXTURES / "broken_bank.jsonl") + ":") for line in err)
    assert Store(db).bank_names() == []


def test_export_of_an_unknown_bank_names_the_known_ones(db, tmp_path, capsys):
    main(["import", str(STARTER), "--bank", "shipped", "--db", db])
    capsys.readouterr()
    assert main(["export", "--bank", "nope", "--out", str(tmp_path / "x.jsonl"), "--db", db]) == 1
    assert "no bank named 'nope' (banks: shipped)" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()


def write_judgments(path: Path, rows: list[str]) -> Path:
    path.write_text(
        "rater,pair_id,choice,confidence,left,answered_at,seconds\n" + "".join(r + "\n" for r in rows)
    )
    return path


def test_judgments_import_export_and_reimport(db, tmp_path, capsys):
    Store(db).ensure_starter_bank()  # the shipped bank, as the app loads it (the name is kept for it)
    j = write_judgments(
        tmp_path / "j.csv",
        [
            "ann,starter-coding-001,A,0.9,B,2026-11-20T09:00:00Z,14",
            "ann,starter-math-003,B,0.6,A,2026-11-20T09:01:00Z,30",
            "bob,starter-coding-001,B,,,2026-11-20T10:00:00Z,",
        ],
    )
    assert main(["judgments", "import", str(j), "--bank", "starter", "--db", db]) == 0
    assert "3 judgments imported, 0 already present" in capsys.readouterr().out
    assert main(["judgments", "import", str(j), "--bank", "starter", "--db", db]) == 0
    assert "0 judgments imported, 3 already present" in capsys.readouterr().out
    out = tmp_path / "out.csv"
    assert main(["judgments", "export", "--out", str(out), "--db", db]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "rater,pair_id,choice,confidence,left,answered_at,seconds"
    assert lines[1] == "ann,starter-coding-001,A,0.9,B,2026-11-20T09:00:00.000000Z,14"  # as written
    assert lines[3] == "bob,starter-coding-001,B,,,2026-11-20T10:00:00.000000Z,"


def test_judgments_import_with_problems_imports_nothing(db, tmp_path, capsys):
    Store(db).ensure_starter_bank()  # the shipped bank, as the app loads it (the name is kept for it)
    j = write_judgments(
        tmp_path / "j.csv",
        [
            "ann,starter-coding-001,A,0.9,B,2026-11-20T09:00:00Z,14",
            "ann,nope,A,0.9,B,2026-11-20T09:00:00Z,14",
        ],
    )
    assert main(["judgments", "import", str(j), "--bank", "starter", "--db", db]) == 1
    assert f"{j}:3: pair_id: unknown pair 'nope' (not in the bank)" in capsys.readouterr().err
    assert Store(db).count_judgments() == 0


def test_concurrent_judgment_imports_store_each_judgment_once(db, tmp_path):
    Store(db).ensure_starter_bank()  # the shipped bank, as the app loads it (the name is kept for it)
    ids = [json.loads(line)["id"] for line in STARTER.read_text().splitlines()]
    rows = [
        f"r{r},{pid},A,0.75,B,2026-11-20T09:{r:02d}:{i % 60:02d}.{i:06d}Z,5"
        for r in range(6)
        for i, pid in enumerate(ids)
    ]
    j = write_judgments(tmp_path / "j.csv", rows)
    cmd = [sys.executable, "-m", "pairs", "judgments", "import", str(j), "--bank", "starter", "--db", db]
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert all(code == 0 for _, _, code in results), results
    assert Store(db).count_judgments() == len(rows)
    added = sum(int(out.split(": ")[1].split(" ")[0]) for out, _, _ in results)
    assert added == len(rows)


def test_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for command in [
        "validate",
        "convert",
        "stats",
        "import",
        "export",
        "judgments import",
        "judgments export",
    ]:
        assert f"python -m pairs {command}" in readme, command


@pytest.mark.parametrize("bad", ["b" * 201, "nul\x00name"], ids=["too-long", "nul"])
def test_a_bank_or_cohort_name_the_database_cannot_hold_is_a_problem(db_url, tmp_path, capsys, bad):
    """PostgreSQL would refuse these mid-transaction (SQLite would store them): both say why instead."""
    assert main(["import", str(STARTER), "--bank", bad, "--db", db_url]) == 1
    assert capsys.readouterr().err.startswith(f"{STARTER.name}:: bank name: ")
    assert Store(db_url).bank_names() == []

    assert Store(db_url).ensure_starter_bank()
    j = write_judgments(tmp_path / "j.csv", ["ann,starter-coding-001,A,0.9,B,2026-11-20T09:00:00Z,14"])
    capsys.readouterr()
    assert main(["judgments", "import", str(j), "--bank", "starter", "--cohort", bad, "--db", db_url]) == 1
    assert capsys.readouterr().err.startswith(f"{j}:: cohort: ")
    assert Store(db_url).count_judgments() == 0
