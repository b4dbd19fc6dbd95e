"""Fuzzing the formats of raters' votes: a file imports completely, is refused, or gives its valid rows.

Hypothesis writes real PandaLM, Chatbot Arena (both layouts), Label Studio and
Argilla files, breaks one field of one record for sure, or mangles the bytes.
For every input, read in every mode (tests/test_fuzz.py's ``check_import``):
nothing raises and every problem reads ``FILE:LINE: field: message``; a file
built valid imports every pair; one broken for sure is refused; skipping the
invalid rows keeps only rows without a problem; and the votes read as judgments
land on the pairs the bank import makes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, note, settings
from hypothesis import strategies as st

from pairs.errors import InputError
from pairs.importers import JUDGMENT_FORMATS, check_bank_file, check_judgments_file
from tests.test_fuzz import FUZZ, JUNK, MODES, check_import, text


@dataclass
class VotesCase:
    """A generated file of votes and what importing it must give."""

    fmt: str
    name: str
    records: list[dict[str, Any]]
    data: bytes = b""
    broken: bool = False
    mangled: bool = False
    log: list[str] = field(default_factory=list)


def _conversation(asked: list[str], answers: list[str]) -> list[dict[str, str]]:
    messages = []
    for question, answer in zip(asked, answers, strict=True):
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return messages


@st.composite
def pandalm_records(draw) -> list[dict[str, Any]]:
    votes = st.sampled_from([0, 1, 2, "1", 2.0, "0"])
    records = []
    for i in range(draw(st.integers(1, 5))):
        record = {
            "idx": i,
            "instruction": f"{i} {draw(text)}",
            "input": draw(st.sampled_from(["", None, float("nan"), "extra context"])),
            "response1": draw(text),
            "response2": draw(text),
        }
        for n in range(1, draw(st.integers(1, 4)) + 1):
            record[f"annotator{n}"] = draw(votes)
        records.append(record)
    return records


WINNER_COLUMNS = ("winner_model_a", "winner_model_b", "winner_tie")


@st.composite
def arena_records(draw) -> list[dict[str, Any]]:
    layout = draw(st.sampled_from(["conversations", "columns"]))
    records = []
    for i in range(draw(st.integers(1, 5))):
        turns = draw(st.integers(1, 3))
        asked = [f"{i} {draw(text)}"] + [draw(text) for _ in range(turns - 1)]
        answers_a, answers_b = [draw(text) for _ in asked], [draw(text) for _ in asked]
        record: dict[str, Any] = {"question_id": f"q{i}", "model_a": "m-1", "model_b": "m-2"}
        if layout == "conversations":
            record["conversation_a"] = _conversation(asked, answers_a)
            record["conversation_b"] = _conversation(asked, answers_b)
            record["winner"] = draw(st.sampled_from(["model_a", "model_b", "tie", "tie (bothbad)"]))
            record["tstamp"] = draw(st.sampled_from([1.7e9, 0, "x", None]))
        else:
            record["prompt"] = json.dumps(asked) if draw(st.booleans()) else asked
            record["response_a"], record["response_b"] = json.dumps(answers_a), answers_b
            winner = draw(st.sampled_from(["winner_model_a", "winner_model_b", "winner_tie"]))
            record.update({key: int(key == winner) for key in WINNER_COLUMNS})
        record["judge"] = draw(st.sampled_from(["arena_user_1", "arena_user_2", "j-3"]))
        records.append(record)
    return records


SIDES = ["left", "right"]


@st.composite
def label_studio_records(draw) -> list[dict[str, Any]]:
    keys = draw(st.sampled_from([("prompt", "answer1", "answer2"), ("question", "text1", "text2")]))
    tasks = []
    for i in range(draw(st.integers(1, 5))):
        data = {keys[0]: f"{i} {draw(text)}", keys[1]: draw(text), keys[2]: draw(text)}
        annotations = [
            {
                "completed_by": draw(st.sampled_from([1, 2, {"id": 3, "email": "x@example.org"}])),
                "result": [{"type": "pairwise", "value": {"selected": draw(st.sampled_from(SIDES))}}],
                "was_cancelled": False,
                "ground_truth": draw(st.booleans()),
                "lead_time": draw(st.sampled_from([1.5, 0, None])),
            }
            for _ in range(draw(st.integers(1, 3)))
        ]
        tasks.append({"id": i, "data": data, "annotations": annotations})
    return tasks


@st.composite
def argilla_records(draw) -> list[dict[str, Any]]:
    records = []
    for i in range(draw(st.integers(1, 5))):
        fields = {"prompt": f"{i} {draw(text)}", "response-1": draw(text), "response-2": draw(text)}
        responses = []
        for user in draw(st.lists(st.sampled_from(["u1", "u2", "u3"]), min_size=1, max_size=3, unique=True)):
            first, second = draw(st.sampled_from([(1, 2), (2, 1), (1, 1)]))
            ranking = [{"value": "response-1", "rank": first}, {"value": "response-2", "rank": second}]
            values = {"preference": {"value": ranking}}
            responses.append({"user_id": user, "status": "submitted", "values": values})
        records.append({"fields": fields, "responses": responses})
    return records


RECORDS = {
    "pandalm": pandalm_records(),
    "arena": arena_records(),
    "label-studio": label_studio_records(),
    "argilla": argilla_records(),
}
NAMES = {
    "pandalm": ["testset-v1.json", "pandalm.jsonl"],
    "arena": ["battles.jsonl", "arena.json"],
    "label-studio": ["project-1-at-2024.json"],
    "argilla": ["argilla.json", "records.jsonl"],
}
BREAKS = {
    "pandalm": [
        ("response1", ""),
        ("response2", None),
        ("annotator1", 3),
        ("annotator1", True),
        ("input", 5),
    ],
    "arena": [("judge", 7), ("question_id", 1.5), ("winner", "model_c"), ("winner_model_a", 2)],
    "label-studio": [("data", "text"), ("annotations", "none"), ("selected", "up")],
    "argilla": [("fields", None), ("responses", 5), ("response-2", "  ")],
}


def _break(fmt: str, record: dict[str, Any], key: str, value: Any) -> bool:
    """Put ``value`` at ``key`` of ``record`` where it is sure to be a problem; False when it cannot."""
    if fmt == "arena" and key == "winner_model_a" and "winner_model_a" not in record:
        return False
    if fmt == "arena" and key == "winner" and "winner" not in record:
        return False
    if fmt == "label-studio" and key == "selected":
        record["annotations"][0]["result"][0]["value"]["selected"] = value
    elif fmt == "argilla" and key == "response-2":
        record["fields"]["response-2"] = value
    else:
        record[key] = value
    return True


@st.composite
def votes_cases(draw, fmt: str) -> VotesCase:
    case = VotesCase(fmt, draw(st.sampled_from(NAMES[fmt])), draw(RECORDS[fmt]))
    style = draw(st.sampled_from(["clean", "clean", "break", "break", "mangle"]))
    if style == "break":
        i = draw(st.integers(0, len(case.records) - 1))
        key, value = draw(st.sampled_from(BREAKS[fmt]))
        if _break(fmt, case.records[i], key, value):
            case.broken = True
            case.log.append(f"record {i}: {key} = {value!r}")
    as_list = case.name.endswith(".json") or draw(st.booleans())
    body = (
        json.dumps(case.records, indent=draw(st.sampled_from([None, 2])))
        if as_list
        else "".join(json.dumps(r) + "\n" for r in case.records)
    )
    data = body.encode()
    if style == "mangle":
        at = draw(st.integers(0, len(data)))
        junk, cut = draw(st.sampled_from([*JUNK, b"\xff", b""])), draw(st.integers(0, 30))
        data = data[:at] + junk + data[at + cut :]
        case.mangled = True
        case.log.append(f"mangled at {at}")
    case.data = data
    return case


def _check(case: VotesCase) -> None:
    note(f"{case.name} ({case.fmt}): {case.log}\n{case.data[:2000]!r}")
    for mode in MODES:
        bank, problems = check_import(case.data, case.name, mode)
        if mode in ("auto", case.fmt) and not case.mangled:
            if case.broken:
                assert problems
            else:
                assert problems == [] and len(bank) == len(case.records), problems[:5]
    checked = check_bank_file(case.data, case.name, case.fmt)
    try:
        kept = checked.valid_rows()
    except InputError:
        kept = None
    if kept is not None:
        assert not set(kept["line"]) & set(checked.refused_lines)
        assert set(kept["id"]) <= set(checked.rows["id"])
    votes = check_judgments_file(case.data, case.name, case.fmt, pair_ids=checked.rows["id"])
    if not case.broken and not case.mangled:
        if votes.rows.empty:  # every vote a tie, or a repeat
            assert [p.message.split(":")[0] for p in votes.problems] == ["no judgments found"]
            assert votes.skipped
        else:
            assert votes.problems == []
        assert set(votes.rows["pair_id"]) <= set(checked.rows["id"])
    for problem in votes.problems:
        assert problem.file == case.name and "\n" not in str(problem)


@settings(FUZZ, max_examples=80)
@given(st.sampled_from(list(JUDGMENT_FORMATS)).flatmap(votes_cases))
def test_a_file_of_votes_imports_completely_is_refused_or_gives_its_valid_rows(case):
    _check(case)
