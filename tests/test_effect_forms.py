"""The optional ``form`` column of judgments: read, checked, written and kept by prepare."""

from __future__ import annotations

import pandas as pd
import pytest

from calibration.data import prepare
from calibration.simulate import synthetic_bank
from pairs.errors import InputError
from pairs.judgments import parse_judgments, to_csv


def test_form_is_read_lower_case_and_written_back():
    data = b"rater,pair_id,choice,form\nann,p1,b,PRE\nann,p2,a,\nann,p3,a,Retention\n"
    frame = parse_judgments(data, "j.csv")
    assert frame["form"].tolist() == ["pre", "", "retention"]
    assert to_csv(frame).splitlines()[0].endswith(",seconds,form")
    assert parse_judgments(to_csv(frame).encode(), "again.csv")["form"].tolist() == ["pre", "", "retention"]


def test_without_form_the_frame_is_unchanged():
    frame = parse_judgments(b"rater,pair_id,choice\nann,p1,b\n", "j.csv")
    assert "form" not in frame.columns
    assert "form" not in to_csv(frame).splitlines()[0]


@pytest.mark.parametrize("slow", [False, True])
def test_a_bad_form_names_its_line(slow):
    # a quoted newline makes the file go through the row-by-row reader
    note = ',"a\nb"' if slow else ""
    header = "rater,pair_id,choice,form" + (",note" if slow else "")
    data = f"{header}\nann,p1,b,pre{note}\nbob,p1,A,middle{note}\n".encode()
    with pytest.raises(InputError) as info:
        parse_judgments(data, "j.csv")
    line = 4 if slow else 3
    assert str(info.value.problems[0]) == (
        f"j.csv:{line}: form: must be pre, post, retention or empty (a drill answer), got 'middle'"
    )


def test_prepare_keeps_form():
    bank = synthetic_bank(5, seed=0)
    ids = bank["id"].tolist()
    judgments = pd.DataFrame(
        {"rater": "ann", "pair_id": ids[:3], "choice": "A", "form": ["pre", None, "Post"]}
    )
    assert prepare(bank, judgments)["form"].tolist() == ["pre", "", "post"]
    assert prepare(bank, judgments.drop(columns="form"))["form"].tolist() == ["", "", ""]
