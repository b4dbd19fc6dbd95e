"""Trap tags read off the texts of pairs imported from formats without tags (pairs/traps.py)."""

from __future__ import annotations

import json

import pandas as pd

from cli.pairs import main
from pairs.features import pair_features
from pairs.importers import check_bank_bytes, read_bank_bytes
from pairs.traps import POLISH_MARKS, style_traps, tag_traps

PLAIN = "Paris is the capital of France, and has been for a very long time."
FORMATTED = "## Capital\n\n- **Paris** is the capital\n- of **France** ✅"


def frame(*pairs: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"id": f"p{i}", "response_a": a, "response_b": b, "gold": g, "tags": ()}
            for i, (a, b, g) in enumerate(pairs)
        ]
    )


def test_length_needs_one_and_a_half_times_the_words():
    three, six, four = "one two three", "one two three four five six", "one two three four"
    bank = frame((three, six, "A"), (six, three, "B"), (three, four, "A"), (three, six, "tie"))
    assert style_traps(bank).tolist() == [("length",), ("length",), (), ()]


def test_polish_needs_a_plain_answer_beside_a_formatted_one():
    two_marks = "Paris is **the** capital of *France*, see [this](http://x.y), and has been for a long time."
    bank = frame(
        (PLAIN, FORMATTED, "A"), (FORMATTED, PLAIN, "B"), (PLAIN, two_marks, "A"), (FORMATTED, FORMATTED, "A")
    )
    traps = style_traps(bank)
    assert traps.tolist()[:2] == [("polish",), ("polish",)]
    assert traps.tolist()[2:] == [(), ()]
    features = pair_features(bank)
    assert (features["polish_b"] - features["polish_a"]).iloc[0] >= POLISH_MARKS


def test_tags_already_there_are_kept_first():
    bank = frame((PLAIN, FORMATTED, "A")).assign(tags=[("adversarial",)])
    assert tag_traps(bank)["tags"].tolist() == [("adversarial", "polish")]
    assert tag_traps(bank.iloc[:0]).empty


def llmbar(records: list[tuple[str, str, int]]) -> bytes:
    return json.dumps(
        [{"input": "Name the capital.", "output_1": a, "output_2": b, "label": g} for a, b, g in records]
    ).encode()


def test_a_format_without_tags_is_tagged_on_import():
    data = llmbar([(PLAIN, FORMATTED, 1), ("Paris.", PLAIN, 2), (PLAIN, PLAIN + " Truly.", 1)])
    bank = read_bank_bytes(data, "adversarial-manual.json")
    assert bank["tags"].tolist() == [("adversarial", "polish"), ("adversarial", "length"), ("adversarial",)]


def test_a_native_bank_keeps_its_own_tags():
    record = {"prompt": "q", "response_a": PLAIN, "response_b": FORMATTED, "gold": "A", "tags": ["factual"]}
    bank, problems = check_bank_bytes((json.dumps(record) + "\n").encode(), "bank.jsonl")
    assert problems == [] and bank["tags"].tolist() == [("factual",)]
    untagged = {**record, "tags": []}
    assert read_bank_bytes((json.dumps(untagged) + "\n").encode(), "bank.jsonl")["tags"].tolist() == [()]


def test_the_summary_counts_pairs_without_a_rationale(tmp_path, capsys):
    path = tmp_path / "natural.json"
    path.write_bytes(llmbar([(PLAIN, FORMATTED, 1), ("Paris.", PLAIN, 2)]))
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out == (
        f"{path}: valid, 2 pairs (llmbar); gold A 1, B 1, tie 0"
        "; 2 without a rationale (raters see no reason after answering)\n"
    )
    out = tmp_path / "bank.jsonl"
    assert main(["convert", str(path), "--out", str(out)]) == 0
    assert "; 2 without a rationale" in capsys.readouterr().out
