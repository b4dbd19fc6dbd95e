"""Chatbot Arena battles: conversations or columns, gold from the winner, judges as raters."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from pairs.bank import content_id
from pairs.errors import InputError
from pairs.importers import check_bank_bytes, check_judgments_file, detect_format, read_bank, read_bank_bytes
from tests.conftest import FIXTURES

CONVERSATIONS = FIXTURES / "importers" / "arena_conversations.jsonl"
COLUMNS_CSV = FIXTURES / "importers" / "arena_columns.csv"


def _battle(**overrides) -> dict:
    battle = {
        "question_id": "q1",
        "model_a": "model-x",
        "model_b": "model-y",
        "winner": "model_a",
        "judge": "arena_user_1",
        "conversation_a": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello!"}],
        "conversation_b": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Go away."}],
        "tstamp": 1700000000,
    }
    return {**battle, **overrides}


def _exchange(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def _jsonl(*rows: dict) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


@pytest.mark.parametrize("path", [CONVERSATIONS, COLUMNS_CSV])
def test_both_layouts_are_detected(path):
    assert detect_format(path.read_text(encoding="utf-8"), path.name) == ("arena", "")


def test_conversations_become_pairs_with_the_winner_as_gold():
    bank = read_bank(CONVERSATIONS)
    assert bank["id"].tolist() == ["a1f0c9", "b27d44", "c3e812", "d90b17"]
    assert bank["gold"].tolist() == ["A", "B", "tie", "tie"]
    spider = bank.iloc[0]
    assert spider["prompt"] == "How many legs does a spider have?"
    assert (spider["response_a"], spider["response_b"]) == ("Eight.", "Six, like all insects.")
    # two judges voted on battle a1f0c9 (lines 1 and 4): pooled, and both agree
    assert spider["line"] == 1 and spider["gold_confidence"] == 1.0
    # one vote shows no agreement
    assert bank["gold_confidence"].iloc[1:].isna().all()
    assert (bank["source"] == "chatbot-arena").all() and (bank["rationale"] == "").all()
    assert not bank["prompt"].str.contains("model-").any()  # the model names are not shown


def test_a_multi_turn_battle_puts_the_earlier_turns_in_the_prompt():
    fruit = read_bank(CONVERSATIONS).iloc[1]
    assert fruit["prompt"] == (
        "[Turn 1, user]\nName a fruit that is yellow.\n\n"
        "[Turn 1, assistant A]\nA banana.\n\n"
        "[Turn 1, assistant B]\nLemons are yellow.\n\n"
        "[Turn 2, user]\nNow one that is purple."
    )
    assert (fruit["response_a"], fruit["response_b"]) == ("A lemon.", "A plum.")


def test_a_system_message_is_left_out():
    prime = read_bank(CONVERSATIONS).iloc[3]
    assert prime["prompt"] == "Is 91 prime?" and prime["response_a"] == "No: 7 x 13."


def test_the_columns_layout_reads_json_lists_and_one_hot_winners():
    bank, problems = check_bank_bytes(COLUMNS_CSV.read_bytes(), COLUMNS_CSV.name)
    assert bank["id"].tolist() == ["30192", "53567", "65089"]
    assert bank["gold"].tolist() == ["A", "tie", "B"]
    assert bank.loc[0, "prompt"] == "What is the boiling point of water at sea level in Celsius?"
    assert bank.loc[1, "prompt"].startswith("[Turn 1, user]\nGive me a word that rhymes with cat.")
    assert (bank.loc[1, "response_a"], bank.loc[1, "response_b"]) == ("Log.", "Frog.")
    assert [(p.line, p.field, p.message) for p in problems] == [
        (5, "response_a", "turn 1 has no answer (null)"),
        (
            6,
            "winner_model_a",
            "exactly one of the winner_* columns must be 1, got winner_model_a='1', winner_model_b='1', "
            "winner_tie='0'",
        ),
    ]


def test_plain_text_columns_and_a_winner_column():
    row = {"prompt": "2+2?", "response_a": "4", "response_b": "5", "winner": "model_a", "judge": "j1"}
    bank = read_bank_bytes(_jsonl(row), "battles.jsonl")
    assert bank.attrs["format"] == "arena"
    assert bank.loc[0, "id"] == content_id("2+2?", "4", "5") and bank.loc[0, "gold"] == "A"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"winner": "model_c"}, "winner", "must be model_a, model_b, tie or tie (bothbad), got 'model_c'"),
        ({"winner": None}, "winner", "missing (nor winner_model_a, winner_model_b, winner_tie)"),
        (
            {"conversation_b": _exchange("Bye?", "Bye.")},
            "conversation_b",
            "asks different questions than conversation_a",
        ),
        ({"conversation_a": []}, "conversation_a", "no answered turn"),
        (
            {"conversation_a": [{"role": "assistant", "content": "Hello!"}]},
            "conversation_a",
            "message 1 (assistant) breaks the user/assistant alternation",
        ),
        (
            {"conversation_b": _exchange("Hi?", " ")},
            "conversation_b",
            "the last answer is empty",
        ),
        ({"question_id": 1.5}, "question_id", "must be text or a whole number, got float"),
        ({"judge": 7}, "judge", "must be text, got int"),
    ],
)
def test_each_battle_problem_names_the_arena_field(overrides, field, message):
    data = _jsonl(_battle(question_id="q0"), _battle(**overrides))
    _, problems = check_bank_bytes(data, "b.jsonl", "arena")
    assert [(p.line, p.field, p.message) for p in problems] == [(2, field, message)]


def test_the_same_question_id_with_other_texts_is_a_problem():
    other = _battle(conversation_b=_exchange("Hi?", "Hey."))
    with pytest.raises(InputError) as refused:
        read_bank_bytes(_jsonl(_battle(), other), "b.jsonl", "arena")
    assert [str(p) for p in refused.value.problems] == [
        "b.jsonl:2: question_id: 'q1' is on line 1 too, with other texts"
    ]


def test_judges_become_raters_with_the_time_of_their_vote():
    checked = check_judgments_file(CONVERSATIONS.read_bytes(), CONVERSATIONS.name)
    assert checked.format == "arena" and checked.problems == []
    rows = checked.rows
    assert rows[["rater", "pair_id", "choice", "left", "line"]].values.tolist() == [
        ["arena_user_17", "a1f0c9", "A", "A", 1],
        ["arena_user_17", "b27d44", "B", "A", 2],
        ["arena_user_203", "c3e812", "tie", "A", 3],  # "tie" and "tie (bothbad)": about equally good
        ["arena_user_203", "a1f0c9", "A", "A", 4],
        ["arena_user_42", "d90b17", "tie", "A", 5],
    ]
    assert rows.loc[0, "answered_at"] == pd.Timestamp("2023-04-24T15:53:11.131Z")
    assert checked.skipped == {}
    assert set(rows["pair_id"]) <= set(read_bank(CONVERSATIONS)["id"])


def test_columns_without_a_judge_give_no_judgments():
    checked = check_judgments_file(COLUMNS_CSV.read_bytes(), COLUMNS_CSV.name)
    assert [(p.line, p.field) for p in checked.problems] == [
        (2, "judge"),
        (3, "judge"),  # a tie vote is a judgment too, and needs its rater as much
        (4, "judge"),
        (5, "response_a"),
        (6, "winner_model_a"),
    ]
    assert checked.problems[0].message == "missing: a judgment needs its rater"


def test_a_timestamp_that_is_not_a_time_is_left_empty():
    rows = [
        _battle(tstamp="soon"),
        _battle(question_id="q2", tstamp=math.inf),
        _battle(question_id="q3", tstamp=1e300),
    ]
    checked = check_judgments_file(_jsonl(*rows), "b.jsonl", "arena")
    assert checked.problems == [] and checked.rows["answered_at"].isna().all()
