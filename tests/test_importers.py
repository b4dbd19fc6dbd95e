"""Importing banks: every format, every problem reported with its line, nothing half-imported."""

from __future__ import annotations

import json
import math
import re
import shutil

import pandas as pd
import pytest

from pairs.bank import COLUMNS, content_id
from pairs.errors import InputError
from pairs.importers import (
    FORMATS,
    SIDE_SEED,
    check_bank,
    check_bank_bytes,
    detect_format,
    read_bank,
    read_bank_bytes,
)
from pairs.traps import style_traps
from tests.conftest import FIXTURES

LLMBAR_COUNTS = {
    "natural.json": 100,
    "adversarial-neighbor.json": 134,
    "adversarial-gptinst.json": 92,
    "adversarial-gptout.json": 47,
    "adversarial-manual.json": 46,
}


def _where(problems) -> list[tuple[int | None, str]]:
    return [(p.line, p.field) for p in problems]


def _pair(**overrides) -> dict:
    record = {"prompt": "Say hi", "response_a": "hi", "response_b": "hello", "gold": "A"}
    return {**record, **overrides}


def _jsonl(*records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


# --------------------------------------------------------------------------- native JSONL


def test_native_jsonl_keeps_fields_and_lines():
    data = _jsonl(
        _pair(id="x1", tags=["length", "Polish"], domain="Math", gold_confidence=0.8, rationale=" short "),
        _pair(prompt="Other", gold="tie"),
    )
    bank = read_bank_bytes(b"\n" + data, "bank.jsonl")
    assert list(bank.columns) == COLUMNS + ["line"]
    first, second = bank.to_dict("records")
    assert first["id"] == "x1" and first["tags"] == ("length", "polish") and first["domain"] == "math"
    assert first["gold_confidence"] == 0.8 and first["rationale"] == "short" and first["line"] == 2
    assert second["id"] == content_id("Other", "hi", "hello") and second["gold"] == "tie"
    assert second["line"] == 3 and math.isnan(second["gold_confidence"])
    assert bank.attrs["format"] == "jsonl"


def test_native_jsonl_with_crlf_and_bom():
    data = b"\xef\xbb\xbf" + _jsonl(_pair(), _pair(prompt="Two")).replace(b"\n", b"\r\n")
    bank = read_bank_bytes(data, "bank.jsonl")
    assert bank["line"].tolist() == [1, 2]


def test_broken_file_lists_every_problem_and_imports_nothing():
    path = FIXTURES / "broken_bank.jsonl"
    bank, problems = check_bank(path)
    assert _where(problems) == [
        (2, "json"),
        (4, "gold"),
        (5, "response_a"),
        (6, "response_b"),
        (7, "id"),
        (9, "gold_confidence"),
        (10, "tags"),
        (11, "pair"),
        (12, "prompt"),
    ]
    messages = [p.message for p in problems]
    assert messages[0].startswith("not valid JSON (")
    assert messages[1] == "must be A, B or tie, got 'C'"
    assert messages[2] == "empty"
    assert messages[3] == "missing"
    assert messages[4] == "duplicate id 'b-1' with different content (first on line 1)"
    assert str(problems[1]) == f"{path}:4: gold: must be A, B or tie, got 'C'"
    # the valid pairs are understood (b-1 once: line 8 is an exact repeat), but read_bank imports nothing
    assert bank["id"].tolist() == ["b-1", "b-13"]
    with pytest.raises(InputError) as caught:
        read_bank(path)
    assert caught.value.problems == problems
    assert str(caught.value).splitlines() == [str(p) for p in problems]


def test_exact_repeat_is_not_a_problem_but_changed_content_is():
    same = _jsonl(_pair(id="p1"), _pair(id="p1"))
    assert read_bank_bytes(same, "b.jsonl")["id"].tolist() == ["p1"]
    changed = _jsonl(_pair(id="p1"), _pair(id="p1", gold="B"))
    with pytest.raises(
        InputError, match=re.escape("b.jsonl:2: id: duplicate id 'p1' with different content")
    ):
        read_bank_bytes(changed, "b.jsonl")


@pytest.mark.parametrize(
    ("record", "field", "message"),
    [
        (_pair(gold="maybe"), "gold", "must be A, B or tie, got 'maybe'"),
        (_pair(response_b="   "), "response_b", "empty"),
        ({k: v for k, v in _pair().items() if k != "prompt"}, "prompt", "missing"),
        ({k: v for k, v in _pair().items() if k != "gold"}, "gold", "missing"),
        (_pair(gold_confidence="high"), "gold_confidence", "must be a number in [0.5, 1], got 'high'"),
    ],
)
def test_each_field_problem_is_reported(record, field, message):
    data = _jsonl(_pair(prompt="first"), record)
    _, problems = check_bank_bytes(data, "b.jsonl")
    assert [(p.line, p.field, p.message) for p in problems] == [(2, field, message)]


def test_not_json_line():
    _, problems = check_bank_bytes(_jsonl(_pair()) + b"{oops\n" + _jsonl(_pair(prompt="x")), "b.jsonl")
    assert [str(p) for p in problems] == [
        "b.jsonl:2: json: not valid JSON (Expecting property name enclosed in double quotes at column 2)"
    ]


def test_not_utf8_names_the_line_and_still_checks_the_rest():
    latin1 = '{"prompt": "caf\u00e9", "response_a": "a", "response_b": "b", "gold": "A"}\n'.encode("latin-1")
    data = _jsonl(_pair()) + latin1
    data += _jsonl(_pair(prompt="three", gold="X"))
    bank, problems = check_bank_bytes(data, "b.jsonl")
    assert [str(p) for p in problems] == [
        "b.jsonl:2: encoding: not UTF-8 (byte 0xe9 at column 16; save the file as UTF-8)",
        "b.jsonl:3: gold: must be A, B or tie, got 'X'",
    ]
    with pytest.raises(InputError):
        read_bank_bytes(data, "b.jsonl")


def test_utf16_is_one_problem():
    data = _jsonl(_pair()).decode().encode("utf-16")
    _, problems = check_bank_bytes(data, "b.jsonl")
    assert [str(p) for p in problems] == [
        "b.jsonl:1: encoding: not UTF-8 (looks like UTF-16; save the file as UTF-8)"
    ]


@pytest.mark.parametrize("data", [b"", b"  \n\n\t\n", b"\xef\xbb\xbf"])
def test_empty_file(data):
    bank, problems = check_bank_bytes(data, "empty.jsonl")
    assert [str(p) for p in problems] == ["empty.jsonl:: file: empty: no pairs"]
    assert bank.empty


def test_unknown_format_and_unknown_fmt():
    _, problems = check_bank_bytes(b'{"question": "q", "answer": "a"}\n', "x.json")
    assert [(p.line, p.field) for p in problems] == [(None, "format")]
    assert "['answer', 'question']" in problems[0].message
    _, problems = check_bank_bytes(b"just some words\n", "notes.txt")
    assert problems[0].message.startswith("not a known format")
    with pytest.raises(ValueError, match=re.escape("fmt must be 'auto' or one of")):
        check_bank_bytes(b"{}", "x.json", fmt="yaml")


def test_missing_file_is_an_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_bank(tmp_path / "nope.jsonl")


# --------------------------------------------------------------------------- auto-detection


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("broken_bank.jsonl", "jsonl"),
        ("bank.csv", "csv"),
        ("llmbar_small.json", "llmbar"),
        ("chosen_rejected.jsonl", "chosen-rejected"),
        ("hh_rlhf.jsonl", "chosen-rejected"),
        ("mt_bench.jsonl", "mt-bench"),
    ],
)
def test_detect_format_of_fixtures(name, fmt):
    text = (FIXTURES / name).read_text(encoding="utf-8")
    assert detect_format(text, name) == (fmt, "")


def test_detect_skips_a_broken_first_record():
    text = (FIXTURES / "llmbar_small.json").read_text(encoding="utf-8")
    broken = text.replace('"label": 1\n', '"label": 1,\n', 1)
    assert detect_format(broken, "l.json") == ("llmbar", "")
    assert detect_format('{"prompt": \n{"response_a": "a"}', "x.json") == ("jsonl", "")
    assert detect_format("{oops\n", "x.jsonl") == ("jsonl", "")
    assert detect_format("prompt,response_a,response_b,gold\n", "bank.txt") == ("csv", "")


# --------------------------------------------------------------------------- CSV


def test_csv_fixture():
    bank = read_bank(FIXTURES / "bank.csv")
    assert bank["id"].tolist() == ["csv-1", "csv-2", "csv-3"]
    assert bank["line"].tolist() == [2, 3, 9]  # csv-2 spans lines 3-8
    assert bank["gold"].tolist() == ["A", "A", "tie"]
    assert bank["tags"].tolist() == [("factual",), ("length", "polish"), ("control",)]
    assert bank.loc[1, "response_b"].startswith("## List comprehensions\n\n- **What:**")
    assert math.isnan(bank.loc[1, "gold_confidence"]) and bank.loc[2, "gold_confidence"] == 0.6


def test_csv_missing_columns_reported_once():
    data = b"id,prompt,response_a\nc1,Q1,a\nc2,,a\n"
    _, problems = check_bank_bytes(data, "b.csv")
    assert [str(p) for p in problems] == [
        "b.csv:1: response_b: missing column",
        "b.csv:1: gold: missing column",
        "b.csv:3: prompt: missing",
    ]


def test_csv_row_problems_use_physical_lines():
    data = (
        b'prompt,response_a,response_b,gold\n"two\nlines",a,b,A\nq,a,b,A,extra\nq2,a,b,Z\nq3,"unclosed,b,A\n'
    )
    _, problems = check_bank_bytes(data, "b.csv")
    assert _where(problems) == [(4, "csv"), (5, "gold"), (6, "csv")]
    assert problems[0].message == "5 fields but the header has 4"
    assert problems[2].message.startswith("not valid CSV (")


# --------------------------------------------------------------------------- LLMBar


def test_llmbar_fixture():
    bank = read_bank(FIXTURES / "llmbar_small.json")
    assert bank["gold"].tolist() == ["A", "B", "A", "B"]
    assert bank["line"].tolist() == [2, 8, 14, 20]
    assert (bank["source"] == "llmbar").all()
    # LLMBar has no tags: its pairs get the trap kinds their texts show
    assert bank["tags"].tolist() == style_traps(bank).tolist()
    first = bank.iloc[0]
    assert first["prompt"] == "List three primary colours of paint."
    assert first["response_a"] == "Red, yellow and blue." and first["response_b"] == "Red, green and purple."
    assert first["id"] == content_id(first["prompt"], first["response_a"], first["response_b"])


def test_llmbar_adversarial_tag_comes_from_the_file_name(tmp_path):
    path = tmp_path / "adversarial-small.json"
    shutil.copy(FIXTURES / "llmbar_small.json", path)
    bank = read_bank(path)
    assert bank["tags"].tolist() == [("adversarial", *traps) for traps in style_traps(bank)]


def test_llmbar_problems_use_source_field_names():
    records = [
        {"input": "q", "output_1": "a", "output_2": "b", "label": 3},
        {"input": "q", "output_1": "", "label": 1},
        {"input": "q", "output_1": "a", "output_2": "b", "label": True},
    ]
    data = ("[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]\n").encode()
    _, problems = check_bank_bytes(data, "l.json", fmt="llmbar")
    assert [(p.line, p.field, p.message) for p in problems] == [
        (2, "label", "must be 1 or 2, got 3"),
        (3, "output_1", "empty"),
        (3, "output_2", "missing"),
        (4, "label", "must be 1 or 2, got True"),
    ]


def test_json_list_syntax_errors_give_the_line_and_reading_goes_on():
    text = (FIXTURES / "llmbar_small.json").read_text(encoding="utf-8")
    lines = text.split("\n")
    lines[3] = lines[3].rstrip(",")  # line 4: missing comma inside the first record
    lines[18] = "  }"  # line 19: missing comma between records 3 and 4
    lines[23] = lines[23].replace("2", "7")  # line 24: label 7 in the last record (starts on line 20)
    bank, problems = check_bank_bytes("\n".join(lines).encode(), "l.json")
    assert [(p.line, p.field) for p in problems] == [(5, "json"), (20, "json"), (20, "label")]
    assert problems[0].message == "not valid JSON (Expecting ',' delimiter at column 5)"
    assert problems[1].message == "not valid JSON (missing ',' between records)"
    assert bank["line"].tolist() == [8, 14]


def test_unclosed_json_list():
    text = (FIXTURES / "llmbar_small.json").read_text(encoding="utf-8").rstrip().rstrip("]")
    bank, problems = check_bank_bytes(text.encode(), "l.json")
    assert [str(p) for p in problems] == ["l.json:26: json: not valid JSON (the list is not closed with ']')"]
    assert len(bank) == 4


def test_real_llmbar_files_import_completely(llmbar_dir):
    total = 0
    for name, expected in LLMBAR_COUNTS.items():
        bank = read_bank(llmbar_dir / name)
        raw = json.loads((llmbar_dir / name).read_text(encoding="utf-8"))
        assert len(bank) == expected
        assert bank["gold"].tolist() == [{1: "A", 2: "B"}[r["label"]] for r in raw]
        given = ("adversarial",) if "adversarial" in name else ()
        assert bank["tags"].tolist() == [(*given, *traps) for traps in style_traps(bank)]
        total += len(bank)
    assert total == 419


# --------------------------------------------------------------------------- chosen / rejected


def test_chosen_rejected_puts_chosen_on_both_sides_and_is_repeatable():
    path = FIXTURES / "chosen_rejected.jsonl"
    bank = read_bank(path)
    raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(bank) == len(raw) == 10
    assert set(bank["gold"]) == {"A", "B"}
    for row, record in zip(bank.itertuples(), raw, strict=True):
        gold_text = row.response_a if row.gold == "A" else row.response_b
        other_text = row.response_b if row.gold == "A" else row.response_a
        assert (row.prompt, gold_text, other_text) == (record["prompt"], record["chosen"], record["rejected"])
    assert bank["id"].tolist()[:6] == ["101", "102", "103", "104", "cr-5", "cr-6"]
    assert bank["source"].tolist()[:5] == [
        "tutor-math",
        "tutor-math",
        "kitchen",
        "kitchen",
        "chosen-rejected",
    ]
    pd.testing.assert_frame_equal(bank, read_bank(path))


def test_chosen_is_a_in_about_half_of_many_pairs():
    records = [{"prompt": f"Question {i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(400)]
    bank = read_bank_bytes(_jsonl(*records), "many.jsonl")
    assert 0.42 <= (bank["gold"] == "A").mean() <= 0.58
    assert SIDE_SEED == "paircal-sides-1"  # changing the seed reshuffles every imported bank


def test_hh_rlhf_dialogues_split_at_the_last_shared_assistant_turn():
    bank = read_bank(FIXTURES / "hh_rlhf.jsonl")
    assert len(bank) == 4 and set(bank["gold"]) == {"A", "B"}
    first, second = bank.iloc[0], bank.iloc[1]
    assert first["prompt"] == "Human: How do I keep cut basil fresh?\n\nAssistant:"
    assert {first["response_a"], first["response_b"]} == {
        "Trim the stems and stand them in a glass of water on the counter, loosely covered with a bag. "
        "Basil blackens in the fridge.",
        "Put it in the freezer right away, leaves and all.",
    }
    assert second["prompt"].startswith("Human: I need a name for a grey cat.\n\nAssistant: How about Smoke")
    assert second["prompt"].endswith("Human: Something less obvious please.\n\nAssistant:")
    gold = second["response_a"] if second["gold"] == "A" else second["response_b"]
    assert gold == "Try Tweed, Graphite or Nimbus."


def test_chosen_rejected_message_lists_and_json_list():
    records = [
        {
            "chosen": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello!"}],
            "rejected": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Go away."}],
        },
        {
            "chosen": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello!"}],
            "rejected": [{"role": "user", "content": "Bye?"}, {"role": "assistant", "content": "Go away."}],
        },
    ]
    data = json.dumps(records, indent=1).encode()
    bank, problems = check_bank_bytes(data, "prefs.json")
    assert bank["prompt"].tolist() == ["Hi?"]
    assert [(p.field, p.message) for p in problems] == [
        ("rejected", "its conversation before the answer differs from chosen's")
    ]


def test_chosen_rejected_problems():
    records = [
        {"prompt": "p", "chosen": "same", "rejected": "same"},
        {"prompt": "p", "chosen": "x"},
        {"chosen": "no dialogue here", "rejected": "nor here"},
        {"prompt": "p", "chosen": "a", "rejected": "b", "subset": 5},
    ]
    _, problems = check_bank_bytes(_jsonl(*records), "prefs.jsonl", fmt="chosen-rejected")
    assert _where(problems) == [(1, "rejected"), (2, "rejected"), (3, "prompt"), (4, "subset")]


# --------------------------------------------------------------------------- MT-Bench


def _mt_bench() -> pd.DataFrame:
    return read_bank(FIXTURES / "mt_bench.jsonl")


def _gold_model(row: pd.Series, texts: dict[str, str]) -> str | None:
    """Which model's answer is gold, looked up by text (None for a tie)."""
    if row["gold"] == "tie":
        return None
    gold_text = row["response_a"] if row["gold"] == "A" else row["response_b"]
    return texts[gold_text]


def _answers_by_text() -> dict[str, str]:
    texts = {}
    for line in (FIXTURES / "mt_bench.jsonl").read_text(encoding="utf-8").splitlines():
        vote = json.loads(line)
        for side in ("a", "b"):
            for message in vote[f"conversation_{side}"]:
                if message["role"] == "assistant":
                    texts[message["content"]] = vote[f"model_{side}"]
    return texts


def test_mt_bench_votes_become_one_pair_per_question_models_and_turn():
    bank = _mt_bench()
    texts = _answers_by_text()
    assert bank["line"].tolist() == [1, 4, 7, 9, 10]
    assert (bank["source"] == "mt-bench").all()
    assert bank["domain"].tolist() == ["writing", "writing", "math", "coding", "roleplay"]
    q81_t1, q81_t2, q111, q121, q95 = (bank.iloc[i] for i in range(5))
    # 2 votes for model-x (one given with the models swapped), 1 for model-y
    assert _gold_model(q81_t1, texts) == "model-x" and q81_t1["gold_confidence"] == pytest.approx(2 / 3)
    assert "3 expert judges voted" in q81_t1["rationale"]
    # 2 tie votes (one "tie (bothbad)") beat 1 vote for model-x
    assert q81_t2["gold"] == "tie" and q81_t2["gold_confidence"] == pytest.approx(2 / 3)
    assert "and 2 tie (1 of them: both bad)" in q81_t2["rationale"]
    # one vote each way: a tie with the lowest confidence
    assert q111["gold"] == "tie" and q111["gold_confidence"] == 0.5
    assert "voted 1 for A, 1 for B and 0 tie" in q111["rationale"]
    # a single vote, given as model_b with model-y second
    assert _gold_model(q121, texts) == "model-y" and q121["gold_confidence"] == 1.0
    # 3 of 4 votes for model-x, one of them swapped; one tie
    assert _gold_model(q95, texts) == "model-x" and q95["gold_confidence"] == 0.75


def test_mt_bench_turn_two_shows_turn_one_as_context():
    q81_t2 = _mt_bench().iloc[1]
    prompt = q81_t2["prompt"]
    assert prompt.startswith("[Turn 1, user]\nWrite a two-sentence postcard from a rainy seaside town.")
    assert "[Turn 1, assistant A]\n" in prompt and "[Turn 1, assistant B]\n" in prompt
    assert prompt.endswith("[Turn 2, user]\nNow rewrite it so that every sentence starts with the letter S.")
    # A's turn-1 answer in the context is the same model's as A's turn-2 response
    texts = _answers_by_text()
    first_answer_a = prompt.split("[Turn 1, assistant A]\n")[1].split("\n\n[Turn 1, assistant B]")[0]
    assert texts[first_answer_a] == texts[q81_t2["response_a"]]


def test_mt_bench_import_does_not_depend_on_vote_order(tmp_path):
    lines = (FIXTURES / "mt_bench.jsonl").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "mt_bench_reversed.jsonl"
    path.write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")
    forward = _mt_bench().set_index("id").drop(columns="line").sort_index()
    backward = read_bank(path).set_index("id").drop(columns="line").sort_index()
    pd.testing.assert_frame_equal(forward, backward)


def test_mt_bench_problems():
    lines = (FIXTURES / "mt_bench.jsonl").read_text(encoding="utf-8").splitlines()
    votes = [json.loads(line) for line in lines[:3]]
    votes[0]["winner"] = "model_c"
    votes[1]["turn"] = 3
    votes[2]["model_b"] = votes[2]["model_a"]
    conflicting = json.loads(lines[0])
    conflicting["conversation_a"][1]["content"] = "A different answer."
    wrong_role = json.loads(lines[0])
    wrong_role["conversation_b"][0]["role"] = "assistant"
    _, problems = check_bank_bytes(_jsonl(json.loads(lines[0]), *votes, conflicting, wrong_role), "mt.jsonl")
    assert [(p.line, p.field) for p in problems] == [
        (2, "winner"),
        (3, "conversation_a"),
        (3, "conversation_b"),
        (4, "model_b"),
        (5, "conversation_a"),
        (6, "conversation_b"),
    ]
    assert problems[0].message == "must be model_a, model_b, tie or tie (bothbad), got 'model_c'"
    assert problems[1].message == "has 2 answered turn(s), fewer than turn 3"
    assert problems[4].message == "differs from the vote on line 1 for the same question, models and turn"


# --------------------------------------------------------------------------- progress and robustness


def test_progress_is_reported_up_to_the_total(llmbar_dir):
    data = (llmbar_dir / "adversarial-gptinst.json").read_bytes()
    calls: list[tuple[int, int]] = []
    read_bank_bytes(
        data, "adversarial-gptinst.json", progress=lambda done, total: calls.append((done, total))
    )
    total = calls[0][1]
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert len(calls) > 20
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:], strict=False))


@pytest.mark.parametrize(
    "name", ["broken_bank.jsonl", "bank.csv", "llmbar_small.json", "chosen_rejected.jsonl", "mt_bench.jsonl"]
)
def test_truncated_and_mangled_files_never_raise(name):
    data = (FIXTURES / name).read_bytes()
    for fmt in ["auto", *FORMATS]:
        for cut in range(0, len(data), max(1, len(data) // 37)):
            for variant in (
                data[:cut],
                data[:cut] + b"\xff" + data[cut:],
                data[:cut] + b'"]}{,' + data[cut:],
            ):
                bank, problems = check_bank_bytes(variant, name, fmt)
                assert isinstance(bank, pd.DataFrame)
                assert all(p.file == name for p in problems)
