"""What an import says: where a problem is in a JSON list written on one line, and that importing
the same file again changes nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from cli.pairs import main
from pairs.bank import bank_to_records
from pairs.errors import InputError
from pairs.importers import check_bank_bytes, check_bank_file, check_judgments_file, read_bank_bytes
from storage.store import Store
from tests.conftest import FIXTURES
from training.cohort import import_message

PANDALM = FIXTURES / "importers" / "pandalm.json"


def native_records(n: int) -> list[dict]:
    return [
        {"id": f"p{i}", "prompt": f"Question {i}?", "response_a": "yes", "response_b": "no", "gold": "A"}
        for i in range(n)
    ]


def start_of(text: str, number: int) -> int:
    """The character (from 1) where the ``number``-th element of the one-line JSON list ``text`` starts."""
    decoder, pos = json.JSONDecoder(), 1
    for _ in range(number - 1):
        _, end = decoder.raw_decode(text, pos)
        pos = end + len(", ")
    return pos + 1


def test_a_problem_in_a_one_line_list_names_the_record_and_its_character():
    records = native_records(6)
    records[2]["gold"] = "C"
    del records[4]["prompt"]
    text = json.dumps(records)
    _, problems = check_bank_bytes(text.encode(), "bank.json")
    third, fifth = start_of(text, 3), start_of(text, 5)
    assert [str(p) for p in problems] == [
        f"bank.json: record 3 (character {third}): gold: must be A, B or tie, got 'C'",
        f"bank.json: record 5 (character {fifth}): prompt: missing",
    ]
    assert [p.where for p in problems] == [f"record 3 (character {third})", f"record 5 (character {fifth})"]
    # the character is where that record's object starts
    assert json.JSONDecoder().raw_decode(text, third - 1)[0]["id"] == "p2"
    assert json.JSONDecoder().raw_decode(text, fifth - 1)[0]["id"] == "p4"


def test_the_formats_read_from_json_lists_name_the_record_too():
    rows = json.loads(PANDALM.read_text(encoding="utf-8"))
    rows[1]["annotator1"] = 7
    text = json.dumps(rows)
    _, problems = check_bank_bytes(text.encode(), "testset-v1.json")
    assert [p.record for p in problems] == [2]
    assert str(problems[0]).startswith(
        f"testset-v1.json: record 2 (character {start_of(text, 2)}): annotator1: "
    )
    votes = check_judgments_file(text.encode(), "testset-v1.json")
    assert all(p.record == 2 for p in votes.problems) and votes.problems


def test_a_pretty_printed_list_keeps_its_line_numbers():
    records = native_records(3)
    records[1]["gold"] = "C"
    _, problems = check_bank_bytes(json.dumps(records, indent=2).encode(), "bank.json")
    assert [str(p) for p in problems] == ["bank.json:9: gold: must be A, B or tie, got 'C'"]
    assert problems[0].record is None and problems[0].where == "line 9"


def test_a_syntax_error_in_a_one_line_list_still_says_its_column():
    text = json.dumps(native_records(3))
    _, problems = check_bank_bytes(text[:-10].encode(), "bank.json")
    assert problems and all(p.record is None for p in problems if p.field == "json")


def test_skipping_the_invalid_records_of_a_one_line_list_keeps_the_others(tmp_path, capsys):
    records = native_records(5)
    records[1]["gold"] = "C"
    text = json.dumps(records)
    checked = check_bank_file(text.encode(), "bank.json")
    assert checked.valid_rows()["id"].tolist() == ["p0", "p2", "p3", "p4"]  # not every record of line 1
    (rejects,) = checked.rejects().to_dict("records")
    assert rejects["line"] == 1
    assert rejects["message"] == f"record 2 (character {start_of(text, 2)}): must be A, B or tie, got 'C'"
    assert json.loads(rejects["raw"]) == records[1]
    bank, out, rejected = tmp_path / "bank.json", tmp_path / "out.jsonl", tmp_path / "rejects.csv"
    bank.write_text(text, encoding="utf-8")
    args = ["convert", str(bank), "--out", str(out), "--skip-invalid", "--rejects", str(rejected)]
    assert main(args) == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["p0", "p2", "p3", "p4"]
    assert pd.read_csv(rejected)["message"].str.startswith("record 2 (character ").all()


def test_validate_prints_the_record_and_character(tmp_path, capsys):
    records = native_records(4)
    records[3]["response_b"] = ""
    path = tmp_path / "bank.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert re.search(rf"{re.escape(str(path))}: record 4 \(character \d+\): response_b: empty", err), err
    assert f"{path}:1:" not in err
    with pytest.raises(InputError, match=r"record 4 \(character \d+\): response_b: empty"):
        read_bank_bytes(path.read_bytes(), "bank.json")


# --- importing the same file again ----------------------------------------------------------


def one_line_json(bank_file: Path) -> bytes:
    bank = read_bank_bytes(bank_file.read_bytes(), bank_file.name)
    return json.dumps(bank_to_records(bank)).encode()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("bank.csv", (FIXTURES / "bank.csv").read_bytes()),
        ("starter.jsonl", (FIXTURES.parent.parent / "pairs" / "data" / "starter_bank.jsonl").read_bytes()),
        ("one-line.json", one_line_json(FIXTURES / "bank.csv")),
        ("testset-v1.json", PANDALM.read_bytes()),
        ("llmbar.json", (FIXTURES / "llmbar_small.json").read_bytes()),
        ("arena.jsonl", (FIXTURES / "importers" / "arena_conversations.jsonl").read_bytes()),
    ],
)
def test_importing_the_same_file_again_changes_nothing(name, data):
    store = Store("sqlite://")
    said = []
    for _ in range(2):
        bank, problems = check_bank_bytes(data, name)
        assert problems == []
        said.append((counts := store.import_bank("b", bank), import_message("b", counts)))
    (first, _), (again, message) = said
    assert first["added"] == len(bank) and again == {"added": 0, "updated": 0, "unchanged": len(bank)}
    assert message.startswith("Bank 'b': nothing changed (") and message.endswith("already as in the file).")
    assert f"({len(bank)} pair" in message
