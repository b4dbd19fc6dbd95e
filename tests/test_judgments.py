"""Reading and validating judgments CSV files."""

from __future__ import annotations

import codecs
import csv
import io
import re
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pairs import judgments
from pairs.errors import InputError
from pairs.files import csv_rows, csv_table
from pairs.judgments import COLUMNS, MAX_PROBLEMS, REQUIRED, neutralize_formula, parse_judgments, to_csv
from pairs.names import printable

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
        "j.csv:3: choice: must be A, B or tie, got 'C'",
        "j.csv:3: left: must be A, B or empty, got 'X'",
        "j.csv:3: confidence: must be in [0.5, 1] (a probability, not a percentage), got 85",
        "j.csv:3: seconds: must be a number of seconds >= 0, got '-3'",
        "j.csv:3: answered_at: not an ISO 8601 time: 'yesterday'",
        "j.csv:4: rater: empty",
        "j.csv:4: confidence: must be in [0.5, 1] (a probability, not a percentage), got 0.4",
    ]


def test_line_numbers_follow_quoted_newlines():
    text = HEADER + 'ann,p1,A,0.8,,,\nann,"multi\nline",A,0.8,,,\nbob,p1,Z,0.8,,,\n'
    assert problems(text) == ["j.csv:5: choice: must be A, B or tie, got 'Z'"]


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


@pytest.mark.parametrize("cell", ["=1+1", "+1+1", "-1-A1", "@SUM(A1)", "\tx"])
def test_neutralize_formula(cell):
    assert neutralize_formula(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["+1", "-1", "-0.25"])
def test_a_plain_signed_number_calls_nothing_and_is_left_as_it_is(cell):
    assert neutralize_formula(cell) == cell


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


# --------------------------------------------------------------------------- raters' names


@pytest.mark.parametrize(
    ("rater", "message"),
    [
        ("alice\u200b", "rater: must not contain invisible characters (U+200B ZERO WIDTH SPACE)"),
        ("\u202eecila", "rater: must not contain invisible characters (U+202E RIGHT-TO-LEFT OVERRIDE)"),
        ("\x1b[31malice", "rater: must not contain control characters (U+001B ESCAPE)"),
        ('"ali\nce"', "rater: must be on one line, without a line break (U+000A LINE FEED)"),
        ("ali\x00ce", "rater: must not contain control characters (U+0000 NULL)"),
    ],
)
def test_a_rater_name_with_a_hidden_character_is_refused_by_line(rater, message):
    text = HEADER + f"bob,p1,A,,,,\n{rater},p1,A,,,,\n{rater},p2,B,,,,\n"
    second = 4 + rater.count("\n")  # a quoted line break moves the next record down a line
    assert problems(text) == [f"j.csv:3: {message}", f"j.csv:{second}: {message}"]
    with mock.patch.object(judgments, "_fast_frame", lambda data: None):  # the row-by-row reader agrees
        assert problems(text) == [f"j.csv:3: {message}", f"j.csv:{second}: {message}"]


def test_rater_names_are_read_in_their_normal_form():
    text = (
        HEADER + '\uff41\uff4c\uff49\uff43\uff45,p1,A,,,,\n"  Jose\u0301   Smith ",p1,B,,,,\nalice,p2,A,,,,\n'
    )
    assert parse_judgments(text.encode(), "j.csv")["rater"].tolist() == ["alice", "José Smith", "alice"]


def test_one_rater_written_two_ways_is_one_rater_for_the_conflict_check():
    at = "2026-11-01T10:00:00Z"
    text = HEADER + f"\uff41\uff4e\uff4e,p1,A,,,{at},\nann,p1,B,,,{at},\n"
    assert problems(text) == [
        "j.csv:3: answered_at: a different answer than line 2 for this rater, pair and time"
    ]


@pytest.mark.parametrize(
    ("first", "second", "differs"),
    [
        ("alice", "\u0430lice", "U+0430 CYRILLIC SMALL LETTER A"),
        ("alice", "\u03b1lice", "U+03B1 GREEK SMALL LETTER ALPHA"),
        ("alice", "aIice", "U+0049 LATIN CAPITAL LETTER I"),
        ("alice", "a1ice", "U+0031 DIGIT ONE"),
        ("ann", "Ann", "U+0041 LATIN CAPITAL LETTER A"),
    ],
)
def test_two_raters_whose_names_look_alike_are_refused_by_line(first, second, differs):
    text = (
        HEADER + f"{first},p1,A,,,,\nbob,p1,B,,,,\n{second},p1,A,,,,\n{second},p2,B,,,,\n{first},p2,A,,,,\n"
    )
    message = (
        f"j.csv:4: rater: looks like rater {first!r} of line 2 but is written differently ({differs}): "
        "names a reader could confuse are refused"
    )
    assert problems(text) == [message]
    with mock.patch.object(judgments, "_fast_frame", lambda data: None):
        assert problems(text) == [message]


def test_names_in_other_scripts_are_different_raters():
    names = ["José", "Jose", "Zoë", "Zoe", "李雷", "Ærø", "Aero", "محمد", "Ἀθηνᾶ"]
    text = HEADER + "".join(f"{name},p1,A,,,,\n" for name in names)
    assert parse_judgments(text.encode(), "j.csv")["rater"].tolist() == names


def test_a_rater_problem_quotes_nothing_a_terminal_would_obey():
    text = HEADER + "\x1b]0;owned\x07,p1,A,,,,\nb\u043eb,p1,A,,,,\nbob,p1,A,,,,\n"
    listed = problems(text)
    assert len(listed) == 2 and all(printable(line) == line for line in listed), listed


# --------------------------------------------------------------------------- the contract


def test_the_judgment_columns_are_the_documented_layout():
    # The one definition every reader and writer of judgments imports; changing it changes the file format.
    assert COLUMNS == ["rater", "pair_id", "choice", "confidence", "left", "answered_at", "seconds"]
    assert REQUIRED == COLUMNS[:3]
    assert to_csv(pd.DataFrame(columns=COLUMNS)) == ",".join(COLUMNS) + "\n"


# --------------------------------------------------------------------------- fast reading, exact reading


def test_a_clean_file_is_read_without_the_row_by_row_reader(monkeypatch):
    def row_by_row(*args, **kwargs):
        raise AssertionError("the clean file went through the row-by-row reader")

    monkeypatch.setattr(judgments, "_read_csv", row_by_row)
    text = HEADER + "ann,p1,a,0.8,B,2026-11-01T10:00:00Z,12\n,,,,,,\n\n bob ,p2,B,,,,\r\n"
    frame = parse_judgments(text.encode(), "j.csv", pair_ids=["p1", "p2"])
    assert frame["rater"].tolist() == ["ann", "bob"] and frame["choice"].tolist() == ["A", "B"]


def test_a_file_the_fast_reader_declines_is_read_exactly(monkeypatch):
    # A quoted newline: pandas would read it too, but only the row-by-row reader knows the lines.
    text = HEADER + 'ann,"two\nlines",A,,,,\n"say ""hi""",p1,B,,,,\n'
    frame = parse_judgments(text.encode(), "j.csv")
    assert frame["pair_id"].tolist() == ["two\nlines", "p1"] and frame["rater"].tolist() == [
        "ann",
        'say "hi"',
    ]


def test_messages_are_written_only_for_the_rows_listed(monkeypatch):
    calls = []

    def counting_shown(value):
        calls.append(value)
        return repr(value)

    monkeypatch.setattr(judgments, "shown", counting_shown)
    text = HEADER + "".join(f"r{i},p1,X,,Q,,\n" for i in range(5000))
    listed = problems(text)
    assert len(listed) == MAX_PROBLEMS + 1 and listed[-1] == "j.csv:: judgments: ... and 9000 more problems"
    assert listed[:2] == [
        "j.csv:2: choice: must be A, B or tie, got 'X'",
        "j.csv:2: left: must be A, B or empty, got 'Q'",
    ]
    assert len(calls) == MAX_PROBLEMS  # 2 problems a row, 10,000 in all: one message each for the first 1,000


def test_a_conflict_names_the_line_of_the_first_answer_across_a_quoted_newline():
    at = "2026-11-01T10:00:00Z"
    text = HEADER + f'ann,"x\ny",A,,,{at},\nann,p1,A,,,{at},\nbob,p2,B,,,{at},\nann,p1,B,,,{at},\n'
    assert problems(text) == [
        "j.csv:6: answered_at: a different answer than line 4 for this rater, pair and time"
    ]


CELLS = st.text(
    st.sampled_from(["a", "B", " ", ",", '"', "\n", "\r", "\t", "é", "\u2028", "\x1c", "0", "."]), max_size=6
)


@st.composite
def csv_files(draw) -> bytes:
    """CSV bytes as people's tools write them (minimal or full quoting, LF or CRLF, blank lines),
    or as they break (stray quotes, NUL, a BOM or two, raw text)."""
    width = draw(st.integers(1, 4))
    table = [[draw(CELLS) for _ in range(width)] for _ in range(draw(st.integers(1, 6)))]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    out = io.StringIO()
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    writer = csv.writer(out, lineterminator=newline, quoting=quoting)
    for row in table:
        writer.writerow(row[: draw(st.integers(1, width))] if draw(st.booleans()) else row)
    text = out.getvalue()
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at]
            + draw(st.sampled_from(["\n", " \n", ",,\n", '"', "x", "\x00", "\r", ",", '""']))
            + text[at:]
        )
    if draw(st.integers(0, 5)) == 0:
        text = draw(st.text(st.sampled_from('ab ,"\n\r\t\x00'), max_size=30))
    data = text.encode()
    return draw(st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF8 * 2])) + data


@given(csv_files())
@settings(max_examples=400, deadline=None)
@example(b'a,b\n"ab"c,d\n')
@example(b"a,b\n\xc3(,d\n")
@example(b'a,b\n"x\r\ny",z\n  \n')
@example(b"0,\n\r,0\n,\n,\n")  # pandas' C parser reads the row after a lone CR as ['0', '']
def test_the_fast_csv_reader_gives_what_the_exact_reader_gives_or_declines(data):
    table = csv_table(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        assert table is None
        return
    rows = [row for _, row, _ in csv_rows(text)]
    if table is None:
        return
    header, frame = table
    assert not any(isinstance(row, csv.Error) for row in rows)
    assert rows and header == rows[0]
    assert all(len(row) <= len(header) for row in rows[1:])
    padded = [row + [""] * (len(header) - len(row)) for row in rows[1:]]
    assert frame.values.tolist() == padded
    assert list(frame.columns) == list(range(len(header)))


def test_the_fast_csv_reader_reads_quoted_fields_and_short_rows():
    header, frame = csv_table(b'\xef\xbb\xbf"a","b"\r\n"x, ""y""",""\r\n\r\n"1"\r\n')
    assert header == ["a", "b"] and frame.values.tolist() == [['x, "y"', ""], ["1", ""]]


def test_the_fast_csv_reader_declines_a_cell_over_the_csv_field_limit(monkeypatch):
    assert csv_table(b"a,b\n" + b"x" * 50 + b",y\n") is not None
    monkeypatch.setattr(csv, "field_size_limit", lambda *limit: 40)
    assert csv_table(b"a,b\n" + b"x" * 40 + b",y\n") is not None
    assert csv_table(b"a,b\n" + b"x" * 41 + b",y\n") is None


ISO_PARTS = st.tuples(
    st.sampled_from(["2026", "0001", "9999", "0000", "1969", "+2026", "26"]),
    st.sampled_from(["-11", "-02", "-13", ""]),
    st.sampled_from(["-01", "-29", "-30", "-31", ""]),
    st.sampled_from(
        [
            "",
            "T10",
            "T23:59",
            " 10:00:00",
            "T10:00:00",
            "T24:00:00",
            "T23:59:60",
            "T10:00:00.5",
            "T10:00:00.123456",
            "T10:00:00.1234567",
            "T10:00:00.123456789",
            "t10:00",
        ]
    ),
    st.sampled_from(["", "Z", "+01:00", "-05:30", "+0530", "+01", "+25:00", " UTC", "z"]),
)


@given(
    st.lists(ISO_PARTS.map("".join) | st.sampled_from(["", "yesterday", "2026-11-01T10:00:00Z"]), max_size=5)
)
@settings(max_examples=300, deadline=None)
def test_times_are_read_as_pandas_reads_them(texts):
    column = pd.Series(texts, dtype=str)
    ours = judgments._times(column)
    theirs = pd.to_datetime(column.where(column != ""), utc=True, errors="coerce", format="ISO8601")
    assert ours.isna().tolist() == theirs.isna().tolist()
    assert (ours[ours.notna()] == theirs[theirs.notna()]).all()


@given(st.lists(st.text(st.sampled_from("0123456789.eE+-naifNIF x_"), max_size=8), max_size=6))
@settings(max_examples=300, deadline=None)
def test_numbers_are_read_as_pandas_reads_them(texts):
    column = pd.Series(texts, dtype=str)
    theirs = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    np.testing.assert_array_equal(judgments._numbers(column), theirs)
