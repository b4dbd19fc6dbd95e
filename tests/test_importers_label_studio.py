"""Label Studio's pairwise export: texts from the task's data, gold from its annotations."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pairs.errors import InputError
from pairs.importers import (
    check_bank_bytes,
    check_bank_file,
    check_judgments_file,
    detect_format,
    read_bank,
    read_bank_bytes,
)
from tests.conftest import FIXTURES

EXPORT = FIXTURES / "importers" / "label_studio.json"


def _task(data: dict | None = None, *selected: str, **extra) -> dict:
    data = data or {"prompt": "Hi?", "answer1": "Hello!", "answer2": "Go away."}
    annotations = [
        {"completed_by": n, "result": [{"type": "pairwise", "value": {"selected": s}}]}
        for n, s in enumerate(selected, start=1)
    ]
    return {"data": data, "annotations": annotations, **extra}


def _export(*tasks: dict) -> bytes:
    return json.dumps(list(tasks), indent=2).encode()


def test_the_export_is_detected():
    assert detect_format(EXPORT.read_text(encoding="utf-8"), EXPORT.name) == ("label-studio", "")


def test_the_fixture_gives_pairs_from_data_and_gold_from_annotations():
    checked = check_bank_file(EXPORT.read_bytes(), EXPORT.name)
    bank = checked.rows
    assert bank["line"].tolist() == [2, 38]
    sky, miles = bank.iloc[0], bank.iloc[1]
    assert sky["prompt"] == "Explain in one sentence why the sky looks blue."
    assert sky["response_b"] == "Because it reflects the colour of the ocean."
    # two votes for the left answer; the cancelled annotation for the right one does not count
    assert sky["gold"] == "A" and sky["gold_confidence"] == 1.0
    # text1/text2 and an instruction; the ground-truth annotation decides against the other vote
    assert (miles["prompt"], miles["response_a"]) == ("Convert 5 kilometres to miles.", "About 3.1 miles.")
    assert miles["gold"] == "A" and miles["gold_confidence"] == 0.5
    # task 103 has no annotation (a prediction does not vote): skipped and counted
    assert checked.skipped == {"tasks without a pairwise choice": 1}
    assert [(p.line, p.field, p.message) for p in checked.problems] == [
        (76, "data.answer2", "empty"),
        (92, "annotations", "annotation 1 selected 'middle'; a pairwise choice is left or right"),
    ]
    assert (bank["source"] == "label-studio").all()


@pytest.mark.parametrize(
    ("selected", "gold", "confidence"),
    [(("right",), "B", None), (("left", "right"), "tie", 0.5), (("right", "right", "left"), "B", 2 / 3)],
)
def test_gold_is_the_majority_of_the_annotations(selected, gold, confidence):
    bank, problems = check_bank_bytes(_export(_task(None, *selected)), "ls.json", "label-studio")
    assert problems == [] and bank.loc[0, "gold"] == gold
    if confidence is None:
        assert pd.isna(bank.loc[0, "gold_confidence"])
    else:
        assert bank.loc[0, "gold_confidence"] == pytest.approx(confidence)


def test_missing_fields_name_what_was_looked_for():
    tasks = [
        _task({"text": "Hi?", "answer1": "a", "answer2": "b"}, "left"),
        _task({"prompt": "Hi?", "first": "a", "second": "b"}, "left"),
        {"annotations": []},
        _task(None, "left", annotations="none"),
    ]
    _, problems = check_bank_bytes(_export(*tasks), "ls.json", "label-studio")
    where = [(p.line, p.field) for p in problems]
    assert where == [(2, "data"), (22, "data"), (42, "data"), (45, "annotations")]
    assert problems[0].message == "no prompt: none of prompt, instruction, question, query, input, context"
    assert problems[1].message.startswith("no pair of responses: none of answer1/answer2, text1/text2")


def test_annotators_become_raters_with_their_time_and_seconds():
    checked = check_judgments_file(EXPORT.read_bytes(), EXPORT.name)
    rows = checked.rows
    assert rows[["rater", "choice", "left", "seconds", "line"]].values.tolist() == [
        ["ines@example.org", "A", "A", 21.4, 2],
        ["label-studio-user-7", "A", "A", 9.0, 2],
        ["label-studio-user-7", "B", "A", 12.0, 38],
        ["ines@example.org", "A", "A", 30.5, 38],
    ]
    assert rows.loc[0, "answered_at"] == pd.Timestamp("2024-05-02T09:14:07.201Z")
    assert set(rows["pair_id"]) == set(check_bank_file(EXPORT.read_bytes(), EXPORT.name).rows["id"])


def test_a_fixture_with_problems_is_refused_and_a_clean_export_imports_completely():
    with pytest.raises(InputError) as refused:
        read_bank(EXPORT)
    assert len(refused.value.problems) == 2
    data = _export(_task(None, "left", "left"), _task({"prompt": "2+2?", "text1": "4", "text2": "5"}, "left"))
    bank = read_bank_bytes(data, "ok.json")
    assert bank.attrs["format"] == "label-studio" and bank["gold"].tolist() == ["A", "A"]
