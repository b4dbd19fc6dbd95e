"""--skip-invalid: the valid rows are imported, every refused row goes to a rejects file with its reason."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from cli.pairs import main
from pairs.errors import InputError
from pairs.importers import REJECT_COLUMNS, check_bank_file, check_judgments_file, read_bank
from storage.store import Store
from tests.conftest import FIXTURES

PANDALM = FIXTURES / "importers" / "pandalm.json"
PANDALM_BROKEN = FIXTURES / "importers" / "pandalm_broken.json"
ARENA = FIXTURES / "importers" / "arena_conversations.jsonl"
BROKEN = FIXTURES / "broken_bank.jsonl"


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'skip.db'}"


def _rejects(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_without_the_flag_an_import_stays_all_or_nothing(db, capsys):
    assert main(["import", str(PANDALM_BROKEN), "--bank", "panda", "--db", db]) == 1
    out, err = capsys.readouterr()
    assert len(err.splitlines()) == 5 and out == f"{PANDALM_BROKEN}: not valid, 5 problems\n"
    assert Store(db).bank_names() == []


def test_import_skips_the_invalid_rows_and_says_how_many(db, tmp_path, capsys):
    rejects = tmp_path / "rejects.csv"
    args = ["import", str(PANDALM_BROKEN), "--bank", "panda", "--skip-invalid", "--rejects", str(rejects)]
    assert main([*args, "--db", db]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"{PANDALM_BROKEN}: bank 'panda': 2 pairs added, 0 updated, 0 unchanged; "
        f"4 rows refused (listed in {rejects}); "
        "2 without a rationale (raters see no reason after answering)\n"
    )
    assert Store(db).load_bank("panda")["prompt"].tolist() == [
        "Name a primary colour.",
        "Spell 'necessary' correctly.",
    ]
    rows = _rejects(rejects)
    assert list(rows[0]) == REJECT_COLUMNS
    assert [(r["line"], r["field"]) for r in rows] == [
        ("11", "response1"),
        ("20", "response2"),
        ("20", "annotator2"),
        ("28", "annotator2"),
        ("37", "input"),
    ]
    assert rows[0]["message"] == "empty"
    assert json.loads(rows[1]["raw"])["instruction"] == "Give an antonym of 'ancient'."


def test_convert_skips_the_invalid_lines_of_a_jsonl_bank(tmp_path, capsys):
    out, rejects = tmp_path / "bank.jsonl", tmp_path / "rejects.csv"
    args = ["convert", str(BROKEN), "--out", str(out), "--skip-invalid", "--rejects", str(rejects)]
    assert main(args) == 0
    assert f"wrote 2 pairs (jsonl) to {out}; 9 rows refused (listed in {rejects})" in capsys.readouterr().out
    assert read_bank(out)["id"].tolist() == ["b-1", "b-13"]
    rows = _rejects(rejects)
    lines = BROKEN.read_text(encoding="utf-8").split("\n")
    assert [int(r["line"]) for r in rows] == [2, 4, 5, 6, 7, 9, 10, 11, 12]
    assert all(r["raw"] == lines[int(r["line"]) - 1] for r in rows)


def test_a_problem_of_the_whole_file_still_refuses_it(tmp_path, capsys):
    data = b"prompt,response_a,gold\nq,a,A\n"
    bank = tmp_path / "bank.csv"
    bank.write_bytes(data)
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.csv"
    args = ["convert", str(bank), "--out", str(out), "--skip-invalid", "--rejects", str(rejects)]
    assert main(args) == 1
    assert capsys.readouterr().err == f"{bank}:1: response_b: missing column\n"
    assert not out.exists()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b'{"prompt": "q"}\n\xff\n', "b.jsonl", "not UTF-8"),
        (b'[\n{"prompt": "q", "response_a": "a", "response_b": "b", "gold": "A"}\n', "b.json", "not closed"),
        (b'prompt,response_a,response_b,gold\n"q,a,b,A\n', "b.csv", "not valid CSV"),
        (b"[]", "b.json", "cannot tell the format: the JSON list is empty"),
    ],
)
def test_what_skipping_rows_cannot_get_past(data, name, message):
    checked = check_bank_file(data, name)
    assert checked.whole_file and message in str(checked.whole_file[0])
    with pytest.raises(InputError) as refused:
        checked.valid_rows()
    assert refused.value.problems == checked.whole_file


def test_a_file_with_no_valid_row_is_refused_and_its_rejects_written(tmp_path, capsys):
    bank = tmp_path / "all_bad.jsonl"
    bank.write_text('{"prompt": "q", "gold": "A"}\n{"prompt": "r", "gold": "Z"}\n', encoding="utf-8")
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.csv"
    args = ["convert", str(bank), "--out", str(out), "--skip-invalid", "--rejects", str(rejects)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"{bank}:: file: no valid rows: every row was refused"
    assert not out.exists() and len(_rejects(rejects)) == 5


def test_skip_invalid_and_rejects_go_together(tmp_path, capsys):
    assert main(["convert", str(BROKEN), "--out", str(tmp_path / "o.jsonl"), "--skip-invalid"]) == 2
    assert "--skip-invalid needs --rejects FILE" in capsys.readouterr().err
    assert main(["convert", str(BROKEN), "--out", str(tmp_path / "o.jsonl"), "--rejects", "r.csv"]) == 2
    assert "--rejects is written only with --skip-invalid" in capsys.readouterr().err


def test_an_unchanged_file_refuses_nothing(tmp_path, capsys):
    out, rejects = tmp_path / "bank.jsonl", tmp_path / "rejects.csv"
    args = ["convert", str(PANDALM), "--out", str(out), "--skip-invalid", "--rejects", str(rejects)]
    assert main(args) == 0
    assert "0 rows refused" in capsys.readouterr().out
    assert rejects.read_text(encoding="utf-8") == ",".join(REJECT_COLUMNS) + "\n"


def test_a_rejected_cell_that_looks_like_a_formula_is_neutralised(tmp_path):
    bank = tmp_path / "b.jsonl"
    bank.write_text(
        '{"prompt": "=1+1", "gold": "A"}\n{"prompt": "q", "response_a": "a", "response_b": "b", '
        '"gold": "A"}\n',
        encoding="utf-8",
    )
    rejects = tmp_path / "r.csv"
    assert (
        main(
            [
                "convert",
                str(bank),
                "--out",
                str(tmp_path / "o.jsonl"),
                "--skip-invalid",
                "--rejects",
                str(rejects),
            ]
        )
        == 0
    )
    assert all(not row["raw"].startswith("=") for row in _rejects(rejects))


# --------------------------------------------------------------------------- judgments


def test_pandalm_votes_import_as_judgments_on_the_imported_pairs(db, capsys):
    assert main(["import", str(PANDALM), "--bank", "panda", "--db", db]) == 0
    capsys.readouterr()
    assert main(["judgments", "import", str(PANDALM), "--bank", "panda", "--db", db]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"{PANDALM}: 12 judgments imported, 0 already present; skipped 3 repeat votes (a rater's first vote "
        "counts)\n"
    )
    stored = Store(db).export_judgments(bank="panda")
    assert sorted(stored["rater"].unique()) == ["annotator1", "annotator2", "annotator3"]
    assert (stored["choice"] == "tie").sum() == 3  # the 0 votes: "About equally good"
    assert main(["judgments", "import", str(PANDALM), "--bank", "panda", "--db", db]) == 0
    assert "0 judgments imported, 12 already present" in capsys.readouterr().out


def test_arena_judges_import_with_their_times(db, capsys):
    assert main(["import", str(ARENA), "--bank", "arena", "--db", db]) == 0
    assert main(["judgments", "import", str(ARENA), "--bank", "arena", "--from", "arena", "--db", db]) == 0
    assert "5 judgments imported" in capsys.readouterr().out
    stored = Store(db).export_judgments(bank="arena").sort_values(["answered_at", "rater"])
    assert stored["rater"].tolist() == [
        "arena_user_17",
        "arena_user_17",
        "arena_user_203",
        "arena_user_203",
        "arena_user_42",
    ]
    assert stored["choice"].tolist().count("tie") == 2


def test_votes_on_pairs_the_bank_does_not_hold_are_refused(db, tmp_path, capsys):
    assert (
        main(
            [
                "import",
                str(PANDALM_BROKEN),
                "--bank",
                "panda",
                "--skip-invalid",
                "--rejects",
                str(tmp_path / "r.csv"),
                "--db",
                db,
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["judgments", "import", str(PANDALM), "--bank", "panda", "--db", db]) == 1
    err = capsys.readouterr().err
    assert "pair_id: unknown pair" in err and Store(db).count_judgments() == 0


def test_a_format_without_raters_is_not_a_judgments_file(db, capsys):
    assert main(["import", str(FIXTURES / "llmbar_small.json"), "--bank", "llm", "--db", db]) == 0
    capsys.readouterr()
    llmbar = str(FIXTURES / "llmbar_small.json")
    assert main(["judgments", "import", llmbar, "--bank", "llm", "--db", db]) == 1
    assert "llmbar files name no rater" in capsys.readouterr().err


def test_judgments_csv_with_skip_invalid(db, tmp_path, capsys):
    assert main(["import", str(PANDALM), "--bank", "panda", "--db", db]) == 0
    pair = read_bank(PANDALM)["id"].iloc[0]
    rows = [
        "rater,pair_id,choice,confidence",
        f"ann,{pair},A,0.9",
        f"bob,{pair},C,0.8",
        f"alice,{pair},B,0.7",
        f"\u0430lice,{pair},A,0.6",  # Cyrillic а: looks like alice, refused on every row
        f"\u0430lice,{pair},B,0.6",
        "cat,nope,A,0.6",
    ]
    j = tmp_path / "j.csv"
    j.write_text("\n".join(rows) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    capsys.readouterr()
    args = ["judgments", "import", str(j), "--bank", "panda", "--skip-invalid", "--rejects", str(rejects)]
    assert main([*args, "--db", db]) == 0
    assert "2 judgments imported, 0 already present; 4 rows refused" in capsys.readouterr().out
    assert sorted(Store(db).export_judgments(bank="panda")["rater"]) == ["alice", "ann"]
    refused = _rejects(rejects)
    assert [(r["line"], r["field"]) for r in refused] == [
        ("3", "choice"),
        ("5", "rater"),
        ("6", "rater"),
        ("7", "pair_id"),
    ]
    assert refused[0]["raw"] == f"bob,{pair},C,0.8"


def test_the_judgments_of_a_file_match_its_bank_ids():
    bank = read_bank(ARENA)
    checked = check_judgments_file(ARENA.read_bytes(), ARENA.name, pair_ids=bank["id"])
    assert checked.problems == [] and set(checked.rows["pair_id"]) <= set(bank["id"])
    other = check_judgments_file(ARENA.read_bytes(), ARENA.name, pair_ids=["x"])
    assert {p.field for p in other.problems} == {"pair_id"} and other.rows.empty


def test_real_llmbar_files_refuse_no_row(llmbar_dir, tmp_path, capsys):
    """The real LLMBar files have no row with a problem: skipping invalid rows imports every one."""
    for path in sorted(llmbar_dir.glob("*.json")):
        checked = check_bank_file(path.read_bytes(), path.name)
        assert checked.refused_lines == [] and checked.whole_file == []
        pd.testing.assert_frame_equal(checked.valid_rows(), read_bank(path))
    out, rejects = tmp_path / "natural.jsonl", tmp_path / "rejects.csv"
    args = ["convert", str(llmbar_dir / "natural.json"), "--out", str(out), "--skip-invalid", "--rejects"]
    assert main([*args, str(rejects)]) == 0
    assert "wrote 100 pairs (llmbar)" in capsys.readouterr().out
    assert list(csv.reader(io.StringIO(rejects.read_text(encoding="utf-8")))) == [REJECT_COLUMNS]
