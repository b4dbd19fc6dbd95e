"""Auto-detection with the formats of votes added: each file is read as what it is, the old ones as before."""

from __future__ import annotations

import json

import pytest

from cli.pairs import FORMAT_HELP, main
from pairs.importers import FORMATS, JUDGMENT_FORMATS, detect_format, detect_judgments_format
from tests.conftest import FIXTURES

NEW = FIXTURES / "importers"
EXPECTED = {
    FIXTURES / "broken_bank.jsonl": "jsonl",
    FIXTURES / "bank.csv": "csv",
    FIXTURES / "llmbar_small.json": "llmbar",
    FIXTURES / "chosen_rejected.jsonl": "chosen-rejected",
    FIXTURES / "hh_rlhf.jsonl": "chosen-rejected",
    FIXTURES / "mt_bench.jsonl": "mt-bench",
    NEW / "pandalm.json": "pandalm",
    NEW / "pandalm_broken.json": "pandalm",
    NEW / "arena_conversations.jsonl": "arena",
    NEW / "arena_columns.csv": "arena",
    NEW / "label_studio.json": "label-studio",
    NEW / "argilla_v1.json": "argilla",
    NEW / "argilla_v2.jsonl": "argilla",
}


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda path: path.name)
def test_every_fixture_is_detected_as_its_format(path):
    assert detect_format(path.read_text(encoding="utf-8"), path.name) == (EXPECTED[path], "")


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda path: path.name)
def test_every_fixture_reads_under_its_own_name_too(path, capsys):
    code = main(["validate", str(path), "--from", EXPECTED[path]])
    auto = main(["validate", str(path)])
    assert code == auto and "Traceback" not in capsys.readouterr().err


def _first(**record) -> str:
    return json.dumps(record) + "\n"


@pytest.mark.parametrize(
    ("text", "name", "fmt"),
    [
        # a native pair that carries a winner keeps its gold
        (_first(prompt="q", response_a="a", response_b="b", gold="A", winner="model_a"), "x.jsonl", "jsonl"),
        # a battle without Chatbot Arena's own keys reads as MT-Bench, as before
        (_first(question_id=81, model_a="x", winner="tie", conversation_a=[]), "x.jsonl", "mt-bench"),
        (_first(question_id="ab12", winner="tie", conversation_a=[], tstamp=1.0), "x.jsonl", "arena"),
        (_first(prompt="q", response_a="a", response_b="b", winner_model_a=1), "x.jsonl", "arena"),
        (_first(instruction="q", response1="a", response2="b"), "x.json", "pandalm"),
        (_first(data={"prompt": "q"}, annotations=[]), "x.json", "label-studio"),
        (_first(fields={"prompt": "q"}, responses=[]), "x.json", "argilla"),
        ("prompt,response_a,response_b,gold,winner\nq,a,b,A,x\n", "bank.csv", "csv"),
        ("prompt,response_a,response_b,winner\nq,a,b,model_a\n", "battles.csv", "arena"),
        ("id,prompt,response_a,response_b,winner_model_a\n", "battles.txt", "arena"),
        ("prompt,response_a\n", "bank.txt", "csv"),
    ],
)
def test_the_signatures_keep_the_formats_apart(text, name, fmt):
    assert detect_format(text, name) == (fmt, "")


@pytest.mark.parametrize(
    "record",
    [{"data": "not an object", "annotations": []}, {"fields": ["prompt"], "responses": []}, {"data": {}}],
)
def test_a_near_miss_is_not_detected(record):
    fmt, why = detect_format(json.dumps(record), "x.json")
    assert fmt is None and why.startswith("not a known format")
    assert why.endswith("(or map its columns with --map)")


def test_every_format_is_registered_for_the_command_line():
    assert set(FORMATS) >= {"pandalm", "arena", "label-studio", "argilla"}
    assert set(FORMAT_HELP) == {"auto", *FORMATS}
    assert set(JUDGMENT_FORMATS) == {"pandalm", "arena", "label-studio", "argilla"}


@pytest.mark.parametrize(
    ("text", "name", "fmt"),
    [
        ("rater,pair_id,choice\nann,p1,A\n", "j.csv", "csv"),
        ("rater,pair_id,choice\nann,p1,A\n", "j.txt", "csv"),
        ((NEW / "pandalm.json").read_text(encoding="utf-8"), "pandalm.json", "pandalm"),
        ((NEW / "arena_columns.csv").read_text(encoding="utf-8"), "arena.csv", "arena"),
        ("pair_id,choice\np1,A\n", "j.csv", "csv"),  # its reader then says the rater column is missing
    ],
)
def test_judgments_detection(text, name, fmt):
    assert detect_judgments_format(text, name) == (fmt, "")
