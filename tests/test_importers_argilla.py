"""Argilla's preference records (1.x and 2.x layouts), and Hugging Face's prompt/chosen/rejected rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pairs.importers import check_bank_bytes, check_bank_file, check_judgments_file, detect_format, read_bank
from tests.conftest import FIXTURES

V1 = FIXTURES / "importers" / "argilla_v1.json"
V2 = FIXTURES / "importers" / "argilla_v2.jsonl"


@pytest.mark.parametrize("path", [V1, V2])
def test_both_layouts_are_detected(path):
    assert detect_format(path.read_text(encoding="utf-8"), path.name) == ("argilla", "")


def test_version_1_records_rankings_and_labels():
    checked = check_bank_file(V1.read_bytes(), V1.name)
    bank = checked.rows
    assert bank["line"].tolist() == [2, 35, 54]
    tip, planet, cactus = (bank.iloc[i] for i in range(3))
    # rank 1 is better: two of three put response-1 first (the third lists it second but ranks it 1)
    assert tip["response_a"] == "Use each new word in a sentence of your own the same day."
    assert tip["gold"] == "A" and tip["gold_confidence"] == pytest.approx(2 / 3)
    # a label naming the field; the draft does not vote
    assert (planet["prompt"], planet["response_b"], planet["gold"]) == (
        "Name the largest planet in the solar system.",
        "Jupiter.",
        "B",
    )
    assert pd.isna(planet["gold_confidence"])
    # equal ranks are a tie vote: one tie and one A, no majority
    assert cactus["gold"] == "tie" and cactus["gold_confidence"] == 0.5
    assert checked.skipped == {"records without a submitted preference": 1}  # only a discarded response
    assert [str(p) for p in checked.problems] == [
        "argilla_v1.json:73: fields: need two responses besides 'prompt', got ['response-1']"
    ]


def test_version_2_records():
    bank = read_bank(V2)
    assert bank["gold"].tolist() == ["A", "B"]
    assert bank["gold_confidence"].tolist() == pytest.approx([1.0, 2 / 3])
    assert (bank["source"] == "argilla").all()


def test_users_become_raters_and_a_tie_vote_is_an_answer_of_tie():
    checked = check_judgments_file(V2.read_bytes(), V2.name)
    assert checked.rows[["rater", "choice", "line"]].values.tolist() == [
        ["u-anna", "A", 1],
        ["u-ben", "A", 1],
        ["u-anna", "B", 2],
        ["u-ben", "tie", 2],
        ["u-cleo", "B", 2],
    ]
    assert checked.rows.loc[0, "answered_at"] == pd.Timestamp("2024-06-01T12:00:00Z")
    assert checked.skipped == {}


def test_a_record_with_a_response_that_is_not_text():
    record = {"fields": {"prompt": "Hi?", "r1": "Hello", "r2": 5}, "responses": []}
    _, problems = check_bank_bytes(json.dumps(record).encode(), "a.jsonl", "argilla")
    assert [str(p) for p in problems] == ["a.jsonl:1: fields.r2: must be text, got int"]


def test_hugging_face_preference_rows_read_as_chosen_rejected():
    """Argilla's and TRL's DPO datasets: a prompt, and chosen/rejected as message lists with ratings."""
    row = {
        "prompt": "Name a prime number above 10.",
        "chosen": [
            {"role": "user", "content": "Name a prime number above 10."},
            {"role": "assistant", "content": "11."},
        ],
        "rejected": [
            {"role": "user", "content": "Name a prime number above 10."},
            {"role": "assistant", "content": "15."},
        ],
        "chosen_rating": 5,
        "rejected_rating": 1,
    }
    text = json.dumps(row)
    assert detect_format(text, "dpo.jsonl") == ("chosen-rejected", "")
    bank, problems = check_bank_bytes(text.encode(), "dpo.jsonl")
    assert problems == []
    gold = bank.loc[0, "response_a"] if bank.loc[0, "gold"] == "A" else bank.loc[0, "response_b"]
    assert (bank.loc[0, "prompt"], gold) == ("Name a prime number above 10.", "11.")
