"""Reading and validating judgments CSV files."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from pairs.errors import InputError
from pairs.judgments import neutralize_formula, parse_judgments, to_csv

HEADER = "rater,pair_id,choice,confidence,left,answered_at,seconds\n"


def problems(text: str | bytes, pair_ids=None) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(InputError) as info:
        parse_judgments(data, "j.csv", pair_ids=pair_ids)
    return [str(p) for p in info.value.problems]


def test_valid_file_with_optional_columns_empty():
    frame = parse_judgments(
        (HEADER + "ann,p1,a,0.8,B,2026-11-01T10:00:00Z,12\nbob,p2,B,,,,\n").encode(),
        "j.csv",
        pair_ids=["p1", "p2"],
    )
    assert list(frame["choice"]) == ["A", "B"]
    assert frame["confidence"].iloc[0] == 0.8 and pd.isna(frame["confidence"].iloc[1])
    assert frame["left"].iloc[0] == "B" and pd.isna(frame["left"].iloc[1])
    assert frame["answered_at"].iloc[0] == pd.Timestamp("2026-11-01T10:00:00Z")


def test_minimal_columns_are_enough():
    frame = parse_judgments(b"rater,pair_id,choice\nann,p1,A\n", "j.csv")
    assert frame["confidence"].isna().all() and frame["left"].isna().all()


def test_every_problem_is_listed_with_its_line():
    text = HEADER + "ann,p1,A,0.8,B,2026-11-01T10:00:00Z,12\nbob,p9,C,85,X,yesterday,-3\n,p1,B,0.4,,,\n"
    assert problems(text, pair_ids=["p1"]) == [
        "j.csv:3: pair_id: unknown pair 'p9' (not in the bank)",
        "j.csv:3: choice: must be A or B, got 'C'",
        "j.csv:3: left: must be A, B or empty, got 'X'",
        "j.csv:3: confidence: must be in [0.5, 1] (a probability, not a percentage), got 85",
        "j.csv:3: seconds: must be a number of seconds >= 0, got '-3'",
        "j.csv:3: answered_at: not an ISO 8601 time: 'yesterday'",
        "j.csv:4: rater: empty",
        "j.csv:4: confidence: must be in [0.5, 1] (a probability, not a percentage), got 0.4",
    ]


def test_line_numbers_follow_quoted_newlines():
    text = HEADER + 'ann,p1,A,0.8,,,\n"multi\nline",p1,A,0.8,,,\nbob,p1,Z,0.8,,,\n'
    assert problems(text) == ["j.csv:5: choice: must be A or B, got 'Z'"]


def test_missing_required_columns():
    assert problems("rater,choice\nann,A\n") == [
        "j.csv:1: pair_id: missing column (the header needs rater, pair_id, choice)"
    ]


def test_not_utf8_names_the_line():
    data = (HEADER + "ann,p1,A,0.8,,,\n").encode() + "bj\xf6rn,p1,A,,,,\n".encode("latin-1")
    assert problems(data) == ["j.csv:3: encoding: not UTF-8 (byte 0xf6)"]


def test_empty_file_and_header_only():
    assert problems("") == ["j.csv:: file: empty: no header and no judgments"]
    assert problems(HEADER) == ["j.csv:: judgments: no judgments found"]


def test_problem_list_is_capped():
    text = HEADER + "".join(f"r{i},p1,X,,,,\n" for i in range(1500))
    listed = problems(text)
    assert len(listed) == 1001
    assert re.search(r"and 500 more problems", listed[-1])


def test_csv_export_neutralizes_formulas_and_round_trips():
    frame = parse_judgments(
        (HEADER + "=HYPERLINK(1),p1,A,0.75,B,2026-11-01T10:00:00Z,3.5\n").encode(), "j.csv"
    )
    text = to_csv(frame)
    assert "'=HYPERLINK(1)" in text
    again = parse_judgments(text.encode(), "j.csv")
    assert again["rater"].iloc[0] == "'=HYPERLINK(1)"
    for col in ("pair_id", "choice", "confidence", "left", "answered_at", "seconds"):
        assert again[col].iloc[0] == frame[col].iloc[0], col


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx"])
def test_neutralize_formula(cell):
    assert neutralize_formula(cell) == "'" + cell


def test_neutralize_leaves_plain_text():
    assert neutralize_formula("ann") == "ann" and neutralize_formula(3) == 3


def test_two_different_answers_at_one_time_are_refused_and_exact_repeats_are_not():
    at = "2026-11-01T10:00:00Z"
    repeated = HEADER + f"ann,p1,A,,,{at},\nann,p1,A,,,{at},\nbob,p1,B,0.7,A,{at},3\nbob,p1,B,0.7,A,{at},3\n"
    assert len(parse_judgments(repeated.encode(), "j.csv")) == 4  # the store keeps one of each
    changed = HEADER + f"ann,p1,A,,,{at},\nann,p1,B,,,{at},\nann,p2,A,0.6,,{at},\nann,p2,A,0.9,,{at},\n"
    assert problems(changed) == [
        "j.csv:3: answered_at: a different answer than line 2 for this rater, pair and time",
        "j.csv:5: answered_at: a different answer than line 4 for this rater, pair and time",
    ]
