"""calibration.trend against hand-computed values and calibration.bias.plain_rates."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from calibration.bias import plain_rates
from calibration.data import prepare
from calibration.simulate import RaterSpec, simulate_judgments, synthetic_bank
from calibration.trend import MEASURES, TREND_COLUMNS, trend

LONGER, POLISHED, MEAN_CONFIDENCE = MEASURES[1], MEASURES[2], MEASURES[3]


def judgments() -> pd.DataFrame:
    """Seven judgments over two weeks, in the columns of calibration.data.prepare that trend reads.

    ``length_doublings`` > 0 means A is longer; ``log2 1.5 = 0.585`` is the threshold.
    """
    rows = [
        # answered_at (UTC), choice, gold, correct, confidence, length_doublings, more_polished
        ("2026-03-02 10:00", "A", "A", 1.0, 0.9, 1.0, "B"),  # gold longer; picked plainer
        ("2026-03-04 18:00", "A", "B", 0.0, 0.8, 1.0, "A"),  # fell for length and polish
        ("2026-03-08 23:00", "B", "B", 1.0, 0.6, -0.5, ""),  # length too close to count
        ("2026-03-05 12:00", "A", "tie", np.nan, 1.0, 3.0, "A"),  # tie: left out
        (None, "A", "B", 0.0, 0.9, 3.0, "A"),  # no time: left out
        ("2026-03-09 04:30", "A", "A", 1.0, np.nan, -2.0, "B"),  # gold shorter and plainer, picked
        ("2026-03-15 23:59", "B", "A", 0.0, 0.7, -0.6, ""),  # fell for length (B 2^0.6 longer)
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "answered_at",
            "choice",
            "gold",
            "correct",
            "confidence",
            "length_doublings",
            "more_polished",
        ],
    )
    frame["answered_at"] = pd.to_datetime(frame["answered_at"], utc=True)
    frame["tie"] = frame["gold"].eq("tie")
    return frame


def as_dict(out: pd.DataFrame) -> dict:
    return {
        (p.strftime("%Y-%m-%d"), m): (round(v, 6), n)
        for p, m, v, n in out[["period", "measure", "value", "n"]].itertuples(index=False)
    }


def test_weekly_values_by_hand():
    out = trend(judgments())
    assert list(out.columns) == TREND_COLUMNS
    assert as_dict(out) == {
        # week of Monday 2 March: three decided judgments with a time
        ("2026-03-02", "accuracy"): (round(2 / 3, 6), 3),
        ("2026-03-02", LONGER): (1.0, 1),  # only the second counts; it picked the longer
        ("2026-03-02", POLISHED): (0.5, 2),  # first picked the plainer, second the more polished
        ("2026-03-02", MEAN_CONFIDENCE): (round((0.9 + 0.8 + 0.6) / 3, 6), 3),
        # week of Monday 9 March
        ("2026-03-09", "accuracy"): (0.5, 2),
        ("2026-03-09", LONGER): (0.5, 2),
        ("2026-03-09", POLISHED): (0.0, 1),
        ("2026-03-09", MEAN_CONFIDENCE): (0.7, 1),  # the judgment without confidence does not count
    }
    assert out["period"].dt.tz is not None and str(out["period"].dt.tz) == "UTC"
    assert out["n"].dtype == np.int64 and out["value"].dtype == float
    # sorted by period, then measures in their documented order
    assert out["measure"].tolist() == list(MEASURES) * 2


def test_daily_periods_are_utc_days_and_empty_measures_are_omitted():
    out = trend(judgments(), freq="D")
    days = sorted({p.strftime("%Y-%m-%d") for p in out["period"]})
    assert days == ["2026-03-02", "2026-03-04", "2026-03-08", "2026-03-09", "2026-03-15"]
    on_8 = out[out["period"] == pd.Timestamp("2026-03-08", tz="UTC")]
    assert on_8["measure"].tolist() == ["accuracy", MEAN_CONFIDENCE]  # nothing to measure for traps


def test_answered_at_in_another_time_zone_is_counted_in_utc():
    frame = judgments().iloc[[0]].copy()
    frame["answered_at"] = pd.to_datetime(["2026-03-08 23:30-05:00"])  # 04:30 UTC on Monday 9 March
    assert trend(frame)["period"].iloc[0] == pd.Timestamp("2026-03-09", tz="UTC")


def test_monthly():
    out = trend(judgments(), freq="M")
    acc = out[out["measure"] == "accuracy"]
    assert acc["period"].tolist() == [pd.Timestamp("2026-03-01", tz="UTC")]
    assert acc["value"].iloc[0] == pytest.approx(3 / 5) and acc["n"].iloc[0] == 5


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame(),
        judgments().iloc[:0],
        judgments().iloc[[3, 4]],  # only a tie and a judgment without time
        judgments().assign(answered_at=pd.NaT),
    ],
    ids=["no columns", "no rows", "nothing decided with a time", "no times"],
)
def test_empty_input_gives_the_empty_frame(frame):
    out = trend(frame)
    assert out.empty and list(out.columns) == TREND_COLUMNS


def test_errors():
    with pytest.raises(ValueError, match=re.escape("prepared lacks the column(s) ['more_polished']")):
        trend(judgments().drop(columns="more_polished"))
    with pytest.raises(
        ValueError, match=re.escape("freq must be a pandas period alias such as 'D', 'W' or 'M'")
    ):
        trend(judgments(), freq="fortnight")


def test_agrees_with_plain_rates_over_one_period():
    bank = synthetic_bank(200, seed=3)
    raw = simulate_judgments(
        bank, [RaterSpec("r", length_bias=1.0, polish_bias=0.5)], n_per_rater=120, seed=4
    )
    prepared = prepare(bank, raw)
    out = trend(prepared, freq="Y").set_index("measure")
    assert len(out.loc[["accuracy"]]) == 1  # one period holds everything
    rates = plain_rates(prepared).set_index("dimension")
    for measure, dimension in ((LONGER, "length"), (POLISHED, "polish")):
        assert out.loc[measure, "value"] == pytest.approx(rates.loc[dimension, "rate_gold_less"])
        assert out.loc[measure, "n"] == rates.loc[dimension, "n_gold_less"]
    decided = prepared[~prepared["tie"]]
    assert out.loc["accuracy", "value"] == pytest.approx(decided["correct"].mean())
    assert out.loc[MEAN_CONFIDENCE, "value"] == pytest.approx(decided["confidence"].mean())


def test_bias_trend_counts_first_answers_only_and_needs_enough_of_them():
    """Repeats (answered from memory of the gold) change nothing; too few first answers: no verdict."""
    from calibration.people import Person, llmbar_like_bank, simulate_people
    from calibration.trend import BIAS_TREND_COLUMNS, MIN_TREND, bias_trend

    bank = llmbar_like_bank(400, seed=2)
    sim = simulate_people(bank, [Person("a", length_bias=0.5), Person("b")], n_per_rater=150, seed=3)
    first = bias_trend(prepare(bank, sim))
    assert list(first.columns) == BIAS_TREND_COLUMNS
    assert first["effect"].tolist() == ["length", "polish", "length", "polish"]
    # the same judgments, each answered again later (right, from memory): the same result
    again = sim.assign(answered_at=sim["answered_at"] + pd.Timedelta(days=60), choice=sim["choice"])
    again["choice"] = prepare(bank, again)["gold"].to_numpy()
    both = bias_trend(prepare(bank, pd.concat([sim, again], ignore_index=True)))
    pd.testing.assert_frame_equal(both, first)
    few = bias_trend(prepare(bank, sim.groupby("rater").head(MIN_TREND - 1)))
    assert not few["estimable"].any() and few["summary"].str.startswith("Not enough data yet").all()
