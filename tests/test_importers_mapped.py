"""A column mapping for files in no known format: --map and --gold-values."""

from __future__ import annotations

import json
import re

import pytest

from cli.pairs import main
from pairs.errors import InputError
from pairs.importers import ColumnMap, check_bank, check_bank_bytes, check_bank_file, read_bank
from tests.conftest import FIXTURES

MAPPED_CSV = FIXTURES / "importers" / "mapped.csv"
MAPPED_JSONL = FIXTURES / "importers" / "mapped.jsonl"
CSV_MAP = "prompt=instruction,response_a=output_1,response_b=output_2,gold=label,domain=Topic"
JSONL_MAP = (
    "prompt=question,response_a=better,response_b=worse,gold=verdict,rationale=why,gold_confidence=agreement"
)


def _map(columns: str, gold_values: str | None = None) -> ColumnMap:
    return ColumnMap.parse(columns, gold_values)


def test_parse_a_mapping():
    column_map = _map(" prompt = instruction ,gold=label,", "A=1,B=2,tie=0,TIE=3")
    assert column_map.columns == {"prompt": "instruction", "gold": "label"}
    assert column_map.gold_values == {"1": "A", "2": "B", "0": "tie", "3": "tie"}
    assert column_map.file_column("response_a") == "response_a"


@pytest.mark.parametrize(
    ("columns", "gold_values", "message"),
    [
        ("question=q", None, "--map: 'question' is not a bank column (one of id, prompt, response_a,"),
        ("prompt", None, "--map: 'prompt' is not NAME=NAME."),
        ("prompt=a,prompt=b", None, "--map: 'prompt' is mapped twice."),
        ("=label", None, "--map: '=label' is not NAME=NAME."),
        (None, "C=3", "--gold-values: 'C' is not a gold (A, B or tie)."),
        (None, "A=1,B=1", "--gold-values: '1' is given as both A and B."),
    ],
)
def test_a_bad_mapping_is_refused_with_a_sentence(columns, gold_values, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ColumnMap.parse(columns, gold_values)


def test_a_csv_file_through_a_mapping():
    column_map = _map(CSV_MAP, "A=1,B=2,tie=0")
    checked = check_bank_file(MAPPED_CSV.read_bytes(), MAPPED_CSV.name, columns=column_map)
    bank = checked.rows
    assert bank.attrs["format"] == "mapped"
    assert bank["gold"].tolist() == ["A", "A", "B", "B", "tie"]
    assert bank["line"].tolist() == [2, 3, 6, 7, 8]
    assert bank.loc[1, "prompt"] == "Write a two-line poem\nabout tea."
    assert bank["domain"].tolist() == ["chemistry", "writing", "math", "", ""]
    assert (bank["rationale"] == "").all() and bank["gold_confidence"].isna().all()
    # problems name the file's columns, not the bank's
    assert [str(p) for p in checked.problems] == [
        "mapped.csv:9: output_2: missing",
        "mapped.csv:10: label: must be one of '1', '2', '0' (--gold-values), got '3'",
    ]


def test_a_jsonl_file_with_numbers_for_gold_and_confidence():
    bank = read_bank(MAPPED_JSONL, columns=_map(JSONL_MAP, "A=1,B=2"))
    assert bank["gold"].tolist() == ["A", "A", "A"]
    assert bank["rationale"].tolist() == ["F = C x 9/5 + 32.", "", ""]
    assert bank["gold_confidence"].tolist() == [0.9, 0.75, 1.0]


def test_without_gold_values_the_gold_column_must_say_a_b_or_tie():
    _, problems = check_bank(MAPPED_CSV, columns=_map(CSV_MAP))
    assert problems[0].field == "label" and problems[0].message == "must be A, B or tie, got '1'"


def test_unknown_columns_are_a_problem_of_the_whole_file():
    column_map = _map("prompt=instructions,response_a=output_1,response_b=output_3")
    checked = check_bank_file(MAPPED_CSV.read_bytes(), MAPPED_CSV.name, columns=column_map)
    columns = "the file's columns: 'instruction', 'output_1', 'output_2', 'label', 'notes', 'Topic'"
    assert [str(p) for p in checked.problems] == [
        f"mapped.csv:1: instructions: no column 'instructions' in the file (mapped to prompt); {columns}",
        f"mapped.csv:1: output_3: no column 'output_3' in the file (mapped to response_b); {columns}",
        f"mapped.csv:1: gold: missing: no column 'gold'; map one with --map gold=COLUMN ({columns})",
    ]
    assert checked.rows.empty and checked.whole_file == checked.problems
    with pytest.raises(InputError):
        checked.valid_rows()


def test_a_bank_column_not_mapped_is_read_under_its_own_name():
    records = [{"prompt": "Hi?", "response_a": "Hello", "response_b": "Go away", "label": "good-a"}]
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    bank, problems = check_bank_bytes(data, "x.jsonl", columns=_map("gold=label", "A=good-a,B=good-b"))
    assert problems == [] and bank.loc[0, "gold"] == "A"


def test_a_mapping_with_a_format_is_refused():
    with pytest.raises(ValueError, match="a column mapping reads the file's own columns"):
        check_bank_bytes(b"{}", "x.jsonl", "jsonl", columns=_map("gold=label"))


def test_the_commands_take_map_and_gold_values(tmp_path, capsys):
    args = ["--map", JSONL_MAP, "--gold-values", "A=1,B=2"]
    assert main(["validate", str(MAPPED_JSONL), *args]) == 0
    assert capsys.readouterr().out == (
        f"{MAPPED_JSONL}: valid, 3 pairs (mapped); gold A 3, B 0, tie 0"
        "; 2 without a rationale (raters see no reason after answering)\n"
    )
    out = tmp_path / "bank.jsonl"
    assert main(["convert", str(MAPPED_JSONL), *args, "--out", str(out)]) == 0
    assert read_bank(out)["gold_confidence"].tolist() == [0.9, 0.75, 1.0]


def test_bad_mapping_options_are_usage_errors(capsys):
    assert main(["validate", str(MAPPED_CSV), "--map", "question=q"]) == 2
    assert "--map: 'question' is not a bank column" in capsys.readouterr().err
    assert main(["validate", str(MAPPED_CSV), "--map", "gold=label", "--from", "csv"]) == 2
    err = capsys.readouterr().err
    assert err == "error: --map and --gold-values read the file's own columns: leave out --from\n"
    assert main(["validate", str(MAPPED_CSV), "--map", "prompt=nope"]) == 1
    assert "nope: no column 'nope' in the file" in capsys.readouterr().err
