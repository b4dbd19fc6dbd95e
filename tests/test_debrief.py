"""The score per answer at each confidence, and a drill's debrief, against hand-computed values."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss

from calibration.data import prepare
from calibration.debrief import judgment_summary, skill_by_confidence, trap_misses
from pairs.bank import build_bank
from training.debrief import build_debrief, calibration_sentence, trap_sentence

LEVELS = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


@pytest.mark.parametrize(
    ("choice", "gold", "share", "expected"),
    [
        # unanimous, side right: 1 - (c - 1)^2 / 0.25
        ("A", "A", None, [0.0, 0.36, 0.64, 0.84, 0.96, 1.0]),
        # unanimous, side wrong: 1 - c^2 / 0.25
        ("B", "A", None, [0.0, -0.44, -0.96, -1.56, -2.24, -3.0]),
        # "about equal" on a decided pair: -c^2
        ("tie", "B", None, [-0.25, -0.36, -0.49, -0.64, -0.81, -1.0]),
        # "about equal" on a gold tie: 1 - (1 - c)^2
        ("tie", "tie", None, [0.75, 0.84, 0.91, 0.96, 0.99, 1.0]),
        # a side on a gold tie: F = (c, c) against O = (0, 1), 1 - 2 (c^2 + (1 - c)^2)
        ("A", "tie", None, [0.0, -0.04, -0.16, -0.36, -0.64, -1.0]),
        # experts split 60/40, majority side: 1 - 4 (c - 0.6)^2 - 4 * 0.6 * 0.4
        ("A", "A", 0.6, [0.0, 0.04, 0.0, -0.12, -0.32, -0.6]),
        # the minority side: 1 - 4 (0.4 - c)^2 - 0.96
        ("B", "A", 0.6, [0.0, -0.12, -0.32, -0.6, -0.96, -1.4]),
    ],
)
def test_skill_by_confidence_is_the_leaderboards_score_at_each_level(choice, gold, share, expected):
    got = skill_by_confidence(choice, gold, share, confidences=LEVELS)
    assert got.index.tolist() == LEVELS
    np.testing.assert_allclose(got.to_numpy(), expected, atol=1e-12)


def test_skill_by_confidence_on_a_unanimous_pair_is_scikit_learns_brier_skill():
    for correct in (0, 1):
        got = skill_by_confidence("A" if correct else "B", "A", confidences=LEVELS)
        expected = [1 - brier_score_loss([correct], [c], pos_label=1, labels=[0, 1]) / 0.25 for c in LEVELS]
        np.testing.assert_allclose(got.to_numpy(), expected, atol=1e-12)


def test_the_drill_feedback_carries_the_points_at_every_confidence():
    from training import drills

    pair = {"response_a": "a b c", "response_b": "d e f", "gold": "B", "tags": ("length",)}
    found = drills.feedback(pair, "B", confidence=0.8)
    assert found.points == pytest.approx(0.84)
    assert [p for p, _ in found.points_at] == [50, 60, 70, 80, 90, 100]
    np.testing.assert_allclose(
        [v for _, v in found.points_at], [0.0, 0.36, 0.64, 0.84, 0.96, 1.0], atol=1e-12
    )


# -- the debrief ---------------------------------------------------------------------------------

DAY = date(2026, 3, 10)
KEY = "daily:2026-03-10"


def bank() -> pd.DataFrame:
    records = [
        {"id": "p1", "gold": "A", "tags": ["length"]},
        {"id": "p2", "gold": "B", "tags": ["polish"]},
        {"id": "p3", "gold": "A", "tags": ["length", "polish"]},
        {"id": "p4", "gold": "tie", "tags": ["control"]},
        {"id": "p5", "gold": "A", "tags": ["length"], "gold_confidence": 0.6},
        {"id": "p6", "gold": "B", "tags": ["control"]},
    ]
    full = [
        {"prompt": f"Prompt {r['id']}?", "response_a": f"one {r['id']}", "response_b": f"two {r['id']}", **r}
        for r in records
    ]
    return build_bank(enumerate(full, start=1), "debrief.jsonl")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def judged() -> pd.DataFrame:
    rows = [
        # this drill: (pair, choice, confidence, seconds, answered, drill, repeat)
        ("p1", "A", 0.8, 10.0, "2026-03-10 09:00", KEY, False),  # right: +0.84
        ("p2", "A", 0.9, 30.0, "2026-03-10 09:01", KEY, False),  # wrong: -2.24
        ("p3", "B", 0.7, 20.0, "2026-03-10 09:02", KEY, False),  # wrong: -0.96
        ("p4", "tie", 0.6, 40.0, "2026-03-10 09:03", KEY, False),  # equal on a gold tie: +0.84
        ("p5", "A", 0.6, 50.0, "2026-03-10 09:04", KEY, False),  # majority of a 60/40 split: +0.04
        ("p6", "B", 1.0, 5.0, "2026-03-10 09:05", KEY, True),  # answered before: not counted
        # other drills
        ("p1", "A", 1.0, 60.0, "2026-03-03 00:00", "daily:2026-03-03", False),  # first moment of the week
        ("p2", "A", 0.9, 99.0, "2026-03-02 23:59", "daily:2026-03-02", False),  # the day before it
        ("p2", "B", 0.6, 20.0, "2026-03-09 12:00", "daily:2026-03-09", False),  # right: +0.36
        ("p3", "B", 0.9, 99.0, "2026-03-10 08:00", "practice:2026-03-10:1", False),  # today: not the week
        ("p4", "A", 0.9, 99.0, "2026-03-05 12:00", "daily:2026-03-05", True),  # a repeat
    ]
    frame = pd.DataFrame(
        rows, columns=["pair_id", "choice", "confidence", "seconds", "answered_at", "drill", "repeat"]
    )
    frame["answered_at"] = [at(t) for t in frame["answered_at"]]
    frame.insert(0, "rater", "ravi")
    frame.insert(4, "left", "A")
    return frame


def test_judgment_summary_by_hand():
    mine = judged()
    drill = prepare(bank(), mine[(mine["drill"] == KEY) & ~mine["repeat"]])
    got = judgment_summary(drill)
    expected = {
        "n": 5,
        "n_decided": 4,  # p4 is a gold tie
        "accuracy": 2 / 4,  # p1 and p5 right, p2 and p3 wrong
        "score": (0.84 - 2.24 - 0.96 + 0.84 + 0.04) / 5,
        "mean_confidence": (0.8 + 0.9 + 0.7 + 0.6) / 4,  # sides picked on decided pairs
        "sided_accuracy": 2 / 4,
        "seconds": 30.0,  # median of 10, 30, 20, 40, 50
    }
    assert got.to_dict() == pytest.approx(expected)


def test_judgment_summary_of_nothing_is_nan_not_an_error():
    got = judgment_summary(prepare(bank(), judged().iloc[:0]))
    assert got["n"] == 0 and np.isnan(got[["accuracy", "score", "mean_confidence", "seconds"]]).all()


def test_trap_misses_count_decided_pairs_per_kind_and_leave_control_out():
    mine = judged()
    drill = prepare(bank(), mine[(mine["drill"] == KEY) & ~mine["repeat"]])
    got = trap_misses(drill)
    # polish: p2 and p3, both missed; length: p1 right, p3 missed, p5 right
    assert got.values.tolist() == [["polish", 2, 2, 1.0], ["length", 3, 1, pytest.approx(1 / 3)]]
    assert (
        trap_sentence(got) == "The trap that caught you most: Looks are not content (polish; 2 of 2 missed)."
    )
    assert trap_sentence(got.iloc[:0]) == "No trap caught you in this drill."


def test_the_debrief_compares_the_drill_with_the_seven_days_before_it():
    found = build_debrief(bank(), judged(), key=KEY, day=DAY)
    assert found.repeats == 1
    assert found.drill["n"] == 5 and found.drill["score"] == pytest.approx(-0.296)
    # the week: 3 March 00:00 up to 10 March 00:00, other drills, no repeats: p1 at 100%, p2 at 60%
    assert found.week.to_dict() == pytest.approx(
        {
            "n": 2,
            "n_decided": 2,
            "accuracy": 1.0,
            "score": (1.0 + 0.36) / 2,
            "mean_confidence": 0.8,
            "sided_accuracy": 1.0,
            "seconds": 40.0,
        }
    )
    assert found.calibration == (
        "You were 75% sure on average and right 50% of the time: overconfident (overconfidence +25%)."
    )
    assert found.trap.startswith("The trap that caught you most: Looks are not content (polish;")


@pytest.mark.parametrize(
    ("confidence", "accuracy", "expected"),
    [
        (
            0.9,
            0.6,
            "You were 90% sure on average and right 60% of the time: overconfident (overconfidence +30%).",
        ),
        (
            0.6,
            0.8,
            "You were 60% sure on average and right 80% of the time: underconfident (overconfidence -20%).",
        ),
        (
            0.75,
            0.7,
            "You were 75% sure on average and right 70% of the time: your confidence matched your accuracy.",
        ),
        (
            np.nan,
            np.nan,
            "No answer picked a side on a pair the experts decided, so there is no confidence to compare.",
        ),
    ],
)
def test_calibration_sentence(confidence, accuracy, expected):
    assert calibration_sentence(confidence, accuracy) == expected
