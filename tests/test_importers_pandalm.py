"""PandaLM's annotated rows: majority gold, agreement as confidence, annotators' votes as judgments."""

from __future__ import annotations

import json
import math
import re

import pytest

from pairs.bank import content_id
from pairs.errors import InputError
from pairs.importers import (
    FORMATS,
    check_bank_bytes,
    check_bank_file,
    check_judgments_file,
    detect_format,
    read_bank,
    read_bank_bytes,
)
from pairs.importers.votes import gold_of
from tests.conftest import FIXTURES

PANDALM = FIXTURES / "importers" / "pandalm.json"
BROKEN = FIXTURES / "importers" / "pandalm_broken.json"
VOTE = "must be 0 (tie), 1 (response1 better) or 2 (response2 better)"


def _row(**overrides) -> dict:
    row = {
        "instruction": "Name a planet.",
        "input": "",
        "response1": "Mars.",
        "response2": "The Moon.",
        "annotator1": 1,
        "annotator2": 1,
        "annotator3": 2,
    }
    return {**row, **overrides}


def _jsonl(*rows: dict) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def test_pandalm_is_registered_and_detected():
    assert "pandalm" in FORMATS
    assert detect_format(PANDALM.read_text(encoding="utf-8"), PANDALM.name) == ("pandalm", "")


def test_the_fixture_gives_majority_gold_and_agreement():
    bank = read_bank(PANDALM)
    assert bank.attrs["format"] == "pandalm"
    assert bank["line"].tolist() == [2, 14, 26, 38]
    shorten, knit, capital, subject = (bank.iloc[i] for i in range(4))
    # rows 1 and 5 hold the same texts: one pair with their six votes, five of them for response1
    assert shorten["gold"] == "A" and shorten["gold_confidence"] == pytest.approx(5 / 6)
    assert knit["gold"] == "B" and knit["gold_confidence"] == pytest.approx(2 / 3)
    # 1, 2, 0: no majority, a tie that only a third agree with (clipped to 0.5)
    assert capital["gold"] == "tie" and capital["gold_confidence"] == 0.5
    # 0, "0", 2: the majority says tie
    assert subject["gold"] == "tie" and subject["gold_confidence"] == pytest.approx(2 / 3)
    assert (bank["source"] == "pandalm").all() and (bank["rationale"] == "").all()


def test_prompt_is_the_instruction_and_the_input_when_there_is_one():
    bank = read_bank(PANDALM)
    assert bank.loc[0, "prompt"] == (
        "Shorten the sentence without changing its meaning.\n\n"
        "Due to the fact that it was raining, the match was postponed until a later date."
    )
    assert bank.loc[1, "prompt"] == "Suggest three search queries for learning to knit."  # input NaN
    assert bank.loc[3, "prompt"] == "Write a one-line subject for an email asking to move a meeting."  # ""
    assert bank.loc[0, "response_a"] == "The match was postponed because of rain."
    first = bank.iloc[0]
    assert first["id"] == content_id(first["prompt"], first["response_a"], first["response_b"])


def test_a_file_with_an_empty_response_is_refused_whole_with_every_problem():
    with pytest.raises(InputError) as refused:
        read_bank(BROKEN)
    assert [(p.line, p.field, p.message) for p in refused.value.problems] == [
        (11, "response1", "empty"),
        (20, "response2", "missing"),
        (20, "annotator2", "must be 0 (tie), 1 (response1 better) or 2 (response2 better), got 3"),
        (28, "annotator2", "must be 0 (tie), 1 (response1 better) or 2 (response2 better), got True"),
        (37, "input", "must be text, got int"),
    ]


def test_skipping_the_invalid_rows_keeps_the_rest():
    checked = check_bank_file(BROKEN.read_bytes(), BROKEN.name)
    assert checked.refused_lines == [11, 20, 28, 37]
    kept = checked.valid_rows()
    assert kept["prompt"].tolist() == ["Name a primary colour.", "Spell 'necessary' correctly."]
    rejects = checked.rejects()
    assert rejects["line"].tolist() == [11, 20, 20, 28, 37]
    assert json.loads(rejects.loc[0, "raw"])["instruction"] == "Translate 'thank you' into Spanish."


def test_votes_as_text_or_float_and_any_number_of_annotators():
    rows = [_row(annotator1="2", annotator2=2.0, annotator3=2, annotator4=1)]
    bank = read_bank_bytes(_jsonl(*rows), "p.jsonl")
    assert bank.loc[0, "gold"] == "B" and bank.loc[0, "gold_confidence"] == 0.75


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"annotator2": None}, "annotator2", VOTE),
        ({"annotator1": 1.5}, "annotator1", VOTE),
        ({"annotator1": "one"}, "annotator1", VOTE),
        ({"instruction": "  "}, "instruction", "empty"),
        ({"response2": ["x"]}, "response2", "must be text, got list"),
    ],
)
def test_each_row_problem_names_the_pandalm_field(overrides, field, message):
    _, problems = check_bank_bytes(_jsonl(_row(), _row(**overrides)), "p.jsonl", "pandalm")
    assert [(p.line, p.field) for p in problems] == [(2, field)]
    assert problems[0].message.startswith(message)


def test_a_row_without_annotators_is_a_problem():
    row = {key: value for key, value in _row().items() if not key.startswith("annotator")}
    _, problems = check_bank_bytes(_jsonl(row), "p.jsonl", "pandalm")
    assert [str(p) for p in problems] == ["p.jsonl:1: annotator1: missing: no annotatorN vote in the row"]


def test_annotators_votes_are_judgments_a_tie_vote_an_answer_of_tie():
    checked = check_judgments_file(PANDALM.read_bytes(), PANDALM.name)
    bank = read_bank(PANDALM)
    assert checked.format == "pandalm" and checked.problems == []
    rows = checked.rows
    assert set(rows["pair_id"]) <= set(bank["id"])
    assert rows[["rater", "choice"]].values.tolist() == [
        ["annotator1", "A"],
        ["annotator2", "A"],
        ["annotator3", "A"],
        ["annotator1", "B"],
        ["annotator2", "B"],
        ["annotator3", "A"],
        ["annotator1", "A"],
        ["annotator2", "B"],
        ["annotator3", "tie"],
        ["annotator1", "tie"],
        ["annotator2", "tie"],
        ["annotator3", "B"],
    ]
    # the 0 votes of the capital and subject rows are answers "About equally good"; the pooled row's
    # votes come after each rater's first
    assert checked.skipped == {"repeat votes": 3}
    assert rows["answered_at"].isna().all() and rows["left"].isna().all()


def test_judgments_of_a_broken_file_report_the_same_problems():
    checked = check_judgments_file(BROKEN.read_bytes(), BROKEN.name, "pandalm")
    assert [(p.line, p.field) for p in checked.problems] == [
        (11, "response1"),
        (20, "response2"),
        (20, "annotator2"),
        (28, "annotator2"),
        (37, "input"),
    ]
    assert sorted(set(checked.valid_rows()["line"])) == [2, 46]
    with pytest.raises(InputError):
        checked.all_rows()


def test_pair_problems_the_bank_finds_refuse_the_votes_too():
    row = _row(response1="bad \x00 text")
    checked = check_judgments_file(_jsonl(row), "p.jsonl", "pandalm")
    assert [str(p) for p in checked.problems] == [
        "p.jsonl:1: response_a: contains a NUL character (\\u0000)",
    ]
    assert checked.rows.empty


@pytest.mark.parametrize(
    ("choices", "gold", "confidence"),
    [
        (["A", "A", "A"], "A", 1.0),
        (["B", "B", "A"], "B", 2 / 3),
        (["tie", "tie", "B"], "tie", 2 / 3),
        (["A", "B", "tie"], "tie", 0.5),
        (["A", "A", "B", "B"], "tie", 0.5),
        (["A", "A", "tie", "tie"], "tie", 0.5),
        (["B"], "B", math.nan),
    ],
)
def test_gold_of_votes(choices, gold, confidence):
    found, share = gold_of(choices)
    assert found == gold
    assert (math.isnan(share) and math.isnan(confidence)) or share == pytest.approx(confidence)


def test_gold_of_no_votes_is_an_error():
    with pytest.raises(ValueError, match=re.escape("choices is empty: a gold needs at least one vote.")):
        gold_of([])
