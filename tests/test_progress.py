"""calibration.progress: weekly cohort measures, who has not drilled, who improved most.

Intervals are checked against statsmodels and scipy; the clustered accuracy
interval's coverage, the rise of a learning cohort and the silence of a cohort
that does not learn, against simulated raters with planted truth."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from calibration.bias import pooled_bias
from calibration.charts import PROGRESS_PANELS, progress_panel, to_svg
from calibration.data import prepare
from calibration.leaderboard import rank_raters, rater_scores
from calibration.progress import (
    IMPROVED_COLUMNS,
    INACTIVE_COLUMNS,
    MEASURES,
    PROGRESS_COLUMNS,
    cluster_wilson,
    inactive_raters,
    most_improved,
    newcombe_interval,
    week_start,
    weekly_progress,
    welch_interval,
)
from calibration.simulate import RaterSpec, simulate_judgments, synthetic_bank

MONDAY = pd.Timestamp("2026-03-02", tz="UTC")


def cohort(
    rng: np.random.Generator,
    accuracy,
    *,
    raters: int = 12,
    weeks: int = 6,
    per_week=(10, 60),
    spread: float = 0.0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """A prepared-like frame of simulated raters (no bank features).

    ``accuracy(week)`` is the planted mean accuracy; each rater's deviates by a
    rater effect on the logit scale with standard deviation ``spread`` (planted
    heterogeneity), and each rater judges between ``per_week`` pairs a week.
    Returns the frame and the planted population accuracy per week (the mean over
    the rater distribution, computed by Monte Carlo)."""
    effect = rng.normal(0, spread, raters)
    population = rng.normal(0, spread, 200_000)
    base = np.log([accuracy(w) / (1 - accuracy(w)) for w in range(weeks)])
    planted = np.array([np.mean(1 / (1 + np.exp(-(b + population)))) for b in base])
    n = rng.integers(per_week[0], per_week[1] + 1, (weeks, raters))
    week = np.repeat(np.repeat(np.arange(weeks), raters), n.ravel())
    rater = np.repeat(np.tile(np.arange(raters), weeks), n.ravel())
    size = len(week)
    correct = rng.random(size) < 1 / (1 + np.exp(-(base[week] + effect[rater])))
    gold = rng.choice(np.array(["A", "B"], dtype=object), size)
    frame = pd.DataFrame(
        {
            "rater": np.array([f"r{r:02d}" for r in range(raters)], dtype=object)[rater],
            "pair_id": [f"p{i}" for i in range(size)],
            "choice": np.where(correct, gold, np.where(gold == "A", "B", "A")),
            "confidence": np.round(rng.uniform(0.5, 1.0, size), 2),
            "answered_at": MONDAY
            + pd.to_timedelta(week * 7 * 86_400 + rng.uniform(0, 7 * 86_400 - 1, size), unit="s"),
            "gold": gold,
            "tie": False,
            "correct": correct.astype(float),
            "gold_share": np.nan,
        }
    )
    return frame.sort_values("answered_at", kind="stable").reset_index(drop=True), np.array(planted)


def measure(out: pd.DataFrame, name: str) -> pd.DataFrame:
    return out[out["measure"] == name].reset_index(drop=True)


# --- intervals against outside references ----------------------------------------------


def test_one_rater_accuracy_interval_is_wilson_as_statsmodels():
    low, high = cluster_wilson([37], [52])
    ref = proportion_confint(37, 52, alpha=0.05, method="wilson")
    assert (low, high) == pytest.approx(ref, abs=1e-12)


def test_clustered_accuracy_interval_is_wilson_at_the_effective_n_with_a_t_quantile():
    k = np.array([18, 9, 30, 4, 22])
    n = np.array([20, 20, 40, 10, 25])
    p = k.sum() / n.sum()
    g = len(n)
    robust = g / (g - 1) * np.sum((k - p * n) ** 2) / n.sum() ** 2
    deff = robust / (p * (1 - p) / n.sum())
    assert deff > 1.5  # the raters differ: the clustering matters here
    t = stats.t.ppf(0.975, g - 1)
    alpha = 2 * stats.norm.sf(t)  # statsmodels' Wilson uses z: the alpha whose z is this t
    n_eff = n.sum() / deff
    ref = proportion_confint(p * n_eff, n_eff, alpha=alpha, method="wilson")
    assert cluster_wilson(k, n) == pytest.approx(ref, abs=1e-10)


def test_newcombe_interval_matches_statsmodels():
    rng = np.random.default_rng(3)
    for _ in range(20):
        n1, n2 = rng.integers(5, 200, 2)
        k1, k2 = rng.integers(0, n1 + 1), rng.integers(0, n2 + 1)
        ref = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
        assert newcombe_interval(k1, n1, k2, n2) == pytest.approx(ref, abs=1e-10)
    ref99 = confint_proportions_2indep(40, 60, 20, 50, method="newcomb", compare="diff", alpha=0.01)
    assert newcombe_interval(40, 60, 20, 50, confidence=0.99) == pytest.approx(ref99, abs=1e-10)


def test_welch_interval_matches_scipy():
    rng = np.random.default_rng(4)
    a, b = rng.normal(0.3, 0.5, 47), rng.normal(0.1, 0.9, 31)
    ref = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    got = welch_interval(a.mean(), a.var(ddof=1), len(a), b.mean(), b.var(ddof=1), len(b))
    assert got == pytest.approx((ref.low, ref.high), abs=1e-10)


# --- the clustered interval covers ------------------------------------------------------


def test_clustered_accuracy_interval_covers_about_95_percent_with_rater_heterogeneity():
    """Cohorts of 6-30 raters whose accuracy varies widely (logit sd 1: some 50%, some 90%),
    each judging 10-60 pairs: the clustered interval covers the planted cohort accuracy in
    92-98% of cohorts, where Wilson's interval on the pooled counts does not."""
    rng = np.random.default_rng(2026)
    population = 1 / (1 + np.exp(-(1.0 + rng.normal(0, 1.0, 1_000_000))))
    truth = population.mean()
    sims = 1500
    covered = plain = 0
    for _ in range(sims):
        g = int(rng.integers(6, 31))
        p = 1 / (1 + np.exp(-(1.0 + rng.normal(0, 1.0, g))))
        n = rng.integers(10, 61, g)
        k = rng.binomial(n, p)
        low, high = cluster_wilson(k, n)
        covered += low <= truth <= high
        pl, ph = proportion_confint(k.sum(), n.sum(), method="wilson")
        plain += pl <= truth <= ph
    assert 0.92 <= covered / sims <= 0.98
    assert plain / sims < 0.88  # ignoring the clustering is overconfident


def test_clustered_mean_interval_covers_about_95_percent_with_rater_heterogeneity():
    """Score and overconfidence: raters' means differ (sd 0.08 around 0.05), answers scatter (sd 0.25);
    the interval clustered by rater covers the planted mean in 92-98% of 1,500 cohorts."""
    from calibration.progress import _mean_row

    rng = np.random.default_rng(9)
    covered = 0
    for _ in range(1500):
        g = int(rng.integers(6, 31))
        n = rng.integers(10, 61, g)
        means = 0.05 + rng.normal(0, 0.08, g)
        sums = rng.normal(means * n, 0.25 * np.sqrt(n))  # each rater's sum of n answers
        row = _mean_row("overconfidence", sums, n.astype(float), np.zeros(g), 10, "")
        covered += row["ci_low"] <= 0.05 <= row["ci_high"]
    assert 0.92 <= covered / 1500 <= 0.98


# --- weekly_progress --------------------------------------------------------------------


def test_planted_learning_shows_as_a_rise_whose_intervals_cover_the_planted_values():
    rng = np.random.default_rng(7)
    frame, planted = cohort(rng, lambda w: 0.60 + 0.05 * w, raters=15, spread=0.6)
    out = weekly_progress(frame)
    assert list(out.columns) == PROGRESS_COLUMNS
    acc = measure(out, "accuracy")
    assert len(acc) == 6 and (acc["raters"] == 15).all()
    covers = (acc["ci_low"] <= planted) & (planted <= acc["ci_high"])
    assert covers.sum() >= 5  # 95% intervals: one miss in six is within chance
    assert acc["ci_low"].iloc[-1] > acc["ci_high"].iloc[0]  # the rise from 60% to 85% is clear
    assert np.corrcoef(acc["value"], planted)[0, 1] > 0.9


def test_weekly_score_and_overconfidence_are_the_leaderboards():
    bank = synthetic_bank(400, seed=1)
    specs = [RaterSpec("sim-a", skill=1.5, confidence_scale=1.6), RaterSpec("sim-b", skill=0.5)]
    judged = simulate_judgments(bank, specs, n_per_rater=120, seed=2, start="2026-03-02")
    prepared = prepare(bank, judged)
    out = weekly_progress(prepared)
    week = week_start(prepared["answered_at"])
    for monday, part in prepared.groupby(week):
        rows = rater_scores(part, with_bias=False)
        score = measure(out[out["week"] == monday], "score")
        if rows["n"].sum() >= 10:
            assert score["value"].iloc[0] == pytest.approx(rows["points"].sum() / rows["n"].sum())
    one = prepared[prepared["rater"] == "sim-a"]
    first = week_start(one["answered_at"]).min()
    part = one[week_start(one["answered_at"]) == first]
    board = rank_raters(rater_scores(part, with_bias=False))
    mine = weekly_progress(part)
    score = measure(mine, "score").iloc[0]
    assert (score["value"], score["ci_low"], score["ci_high"]) == pytest.approx(
        tuple(board.loc[0, ["raw_score", "raw_ci_low", "raw_ci_high"]])
    )
    assert measure(mine, "overconfidence")["value"].iloc[0] == pytest.approx(board.loc[0, "overconfidence"])
    assert measure(mine, "overconfidence")["value"].iloc[0] > 0.05  # planted overconfidence shows


def test_weekly_bias_is_the_pooled_bias_model_and_small_weeks_say_why():
    bank = synthetic_bank(600, seed=5)
    specs = [RaterSpec(f"sim-{i}", length_bias=np.log(2.5)) for i in range(6)]
    judged = simulate_judgments(bank, specs, n_per_rater=60, seed=6, start="2026-03-02")
    prepared = prepare(bank, judged)
    out = weekly_progress(prepared)
    week = week_start(prepared["answered_at"])
    busiest = week.value_counts().idxmax()
    ref = pooled_bias(prepared[(week == busiest).to_numpy()]).set_index("effect")
    length = measure(out[out["week"] == busiest], "length").iloc[0]
    assert length["value"] == pytest.approx(ref.loc["length", "odds_ratio"])
    assert (length["ci_low"], length["ci_high"]) == pytest.approx(
        (ref.loc["length", "ci_low"], ref.loc["length", "ci_high"])
    )
    assert length["ci_low"] > 1  # the planted length pull
    small = out[(out["measure"] == "length") & (out["n"] < 30)]
    assert len(small) and small["value"].isna().all()
    assert small["reason"].str.contains("Not enough data yet").all()


def test_an_empty_week_between_weeks_has_rows_with_a_reason():
    rng = np.random.default_rng(1)
    frame, _ = cohort(rng, lambda w: 0.7, raters=3, weeks=3)
    frame = frame[week_start(frame["answered_at"]) != MONDAY + pd.Timedelta(weeks=1)]
    out = weekly_progress(frame)
    middle = out[out["week"] == MONDAY + pd.Timedelta(weeks=1)]
    assert list(middle["measure"]) == list(MEASURES)
    assert middle["value"].isna().all() and (middle["n"] == 0).all()
    assert (middle["reason"] == "No judgments this week.").all()
    assert middle["reason"].notna().all()


def test_few_judgments_give_nan_with_a_reason_not_a_wild_number():
    rng = np.random.default_rng(2)
    frame, _ = cohort(rng, lambda w: 0.7, raters=2, weeks=1, per_week=(3, 3))
    acc = measure(weekly_progress(frame), "accuracy").iloc[0]
    assert np.isnan(acc["value"]) and acc["n"] == 6
    assert acc["reason"] == "Too few judgments on decided pairs this week: 6, at least 10 needed."


def test_one_rater_gets_their_own_wilson_interval():
    rng = np.random.default_rng(8)
    frame, _ = cohort(rng, lambda w: 0.7, raters=1, weeks=1, per_week=(40, 40))
    acc = measure(weekly_progress(frame), "accuracy").iloc[0]
    k = int(frame["correct"].sum())
    assert (acc["ci_low"], acc["ci_high"]) == pytest.approx(proportion_confint(k, 40, method="wilson"))
    assert acc["raters"] == 1


def test_all_ties_have_no_accuracy_but_a_score():
    rng = np.random.default_rng(3)
    frame, _ = cohort(rng, lambda w: 0.7, raters=3, weeks=1, per_week=(15, 15))
    frame = frame.assign(gold="tie", tie=True, correct=np.nan)
    out = weekly_progress(frame)
    acc = measure(out, "accuracy").iloc[0]
    assert np.isnan(acc["value"]) and acc["n"] == 0 and "decided" in acc["reason"]
    score = measure(out, "score").iloc[0]
    assert np.isfinite(score["value"]) and score["n"] == 45
    assert np.isnan(measure(out, "overconfidence")["value"].iloc[0])


def test_no_dates_or_no_judgments_give_an_empty_frame():
    assert list(weekly_progress(pd.DataFrame(columns=["rater", "answered_at"])).columns) == PROGRESS_COLUMNS
    rng = np.random.default_rng(4)
    frame, _ = cohort(rng, lambda w: 0.7, raters=2, weeks=1)
    assert weekly_progress(frame.assign(answered_at=pd.NaT)).empty


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_min_week_is_checked(bad):
    with pytest.raises(ValueError, match=re.escape(f"min_week must be a positive integer; got {bad!r}.")):
        weekly_progress(pd.DataFrame(), min_week=bad)


# --- inactive_raters --------------------------------------------------------------------


def test_inactive_raters_lists_everyone_on_the_roster_without_a_judgment_this_week():
    roster = pd.DataFrame(
        {
            "name": ["lena", "ravi", "nora", "omar", "sim-01", "gone", "csv-rater"],
            "role": ["lead", "rater", "rater", "rater", "rater", "rater", "rater"],
            "simulated": [False, False, False, False, True, False, False],
            "kind": ["account"] * 4 + ["imported", "account", "imported"],  # as the store has them
            "removed_at": [pd.NaT] * 5 + [pd.Timestamp("2026-03-01", tz="UTC"), pd.NaT],
        }
    )
    at = pd.to_datetime(
        ["2026-03-09 08:00", "2026-03-05 23:59", "2026-02-20 12:00", "2026-03-06 10:00"], utc=True
    )
    judged = pd.DataFrame({"rater": ["ravi", "nora", "sim-01", "sim-01"], "answered_at": at})
    out = inactive_raters(
        roster, judged, as_of=pd.Timestamp("2026-03-11 15:00", tz="UTC"), streaks={"nora": 4}
    )
    assert list(out.columns) == INACTIVE_COLUMNS
    # ravi drilled on Monday: active. lena leads, gone was removed, csv-rater cannot drill;
    # the simulated rater is listed, labelled.
    assert out["rater"].tolist() == ["omar", "nora", "sim-01"]  # never first, then longest absent
    assert out["simulated"].tolist() == [False, False, True]
    assert pd.isna(out.loc[0, "last_drill"]) and np.isnan(out.loc[0, "days_since"])
    assert out.loc[1, "last_drill"] == pd.Timestamp("2026-03-05", tz="UTC")
    assert out.loc[1, "days_since"] == 6 and out.loc[1, "streak"] == 4
    assert out.loc[2, "streak"] == 0


def test_inactive_raters_with_no_judgments_at_all_lists_the_whole_roster():
    roster = pd.DataFrame({"name": ["a", "b"]})
    out = inactive_raters(roster, pd.DataFrame(columns=["rater", "answered_at"]), as_of=MONDAY)
    assert out["rater"].tolist() == ["a", "b"] and out["last_drill"].isna().all()


def test_inactive_raters_needs_names():
    with pytest.raises(ValueError, match="roster lacks the column 'name'"):
        inactive_raters(pd.DataFrame({"id": [1]}), pd.DataFrame(), as_of=MONDAY)


# --- most_improved ----------------------------------------------------------------------


def test_planted_learners_are_found_and_ranked_by_their_surest_improvement():
    rng = np.random.default_rng(11)
    learn, _ = cohort(rng, lambda w: 0.55 + 0.07 * w, raters=8, per_week=(30, 40))
    flat, _ = cohort(rng, lambda w: 0.7, raters=8, per_week=(30, 40))
    flat = flat.assign(rater="flat-" + flat["rater"])
    out = most_improved(pd.concat([learn, flat], ignore_index=True), simulated={"r00"})
    assert list(out.columns) == IMPROVED_COLUMNS
    assert out["rank"].tolist() == list(range(1, 17))
    top = out.head(8)
    assert top["rater"].str.startswith("r").sum() >= 7  # the learners lead the list
    learners = out[~out["rater"].str.startswith("flat")]
    assert (learners["accuracy_ci_low"] > 0).sum() >= 6
    assert learners["clearly_improved"].sum() >= 4
    assert not out.loc[out["rater"].str.startswith("flat"), "clearly_improved"].any()
    # the ranking is by the lower end of the interval, not the point
    assert out["accuracy_ci_low"].is_monotonic_decreasing
    assert out.loc[out["rater"] == "r00", "simulated"].item()
    expected = confint_proportions_2indep(
        *out.loc[0, ["accuracy_late", "n_late"]].pipe(lambda s: (round(s.iloc[0] * s.iloc[1]), s.iloc[1])),
        *out.loc[0, ["accuracy_early", "n_early"]].pipe(lambda s: (round(s.iloc[0] * s.iloc[1]), s.iloc[1])),
        method="newcomb",
        compare="diff",
    )
    assert tuple(out.loc[0, ["accuracy_ci_low", "accuracy_ci_high"]]) == pytest.approx(expected)


def test_a_cohort_that_does_not_learn_crowns_nobody_beyond_chance():
    """200 cohorts of 20 raters with no learning: each rater's 95% lower bound is above 0 about
    2.5% of the time (one-sided), and few cohorts show a "clearly improved" rater (Bonferroni)."""
    rng = np.random.default_rng(12)
    above = compared = any_clear = 0
    for _ in range(200):
        frame, _ = cohort(rng, lambda w: 0.7, raters=20, weeks=4, per_week=(10, 30), spread=0.7)
        out = most_improved(frame)
        ranked = out[out["rank"].notna()]
        compared += len(ranked)
        above += int((ranked["accuracy_ci_low"] > 0).sum())
        any_clear += bool(out["clearly_improved"].any())
    assert compared > 3000
    assert above / compared < 0.045
    assert any_clear / 200 <= 0.05


def test_a_handful_of_judgments_is_never_ranked():
    rng = np.random.default_rng(13)
    frame, _ = cohort(rng, lambda w: 0.5 + 0.1 * w, raters=3, weeks=4, per_week=(1, 2))
    out = most_improved(frame)
    assert out["rank"].isna().all() and not out["clearly_improved"].any()
    assert out["accuracy_change"].isna().all()
    assert out["reason"].str.startswith("Too few judgments to compare").all()
    assert most_improved(frame.iloc[:0]).columns.tolist() == IMPROVED_COLUMNS


def test_halves_split_each_raters_judgments_in_time_order():
    at = MONDAY + pd.to_timedelta(np.arange(80), unit="h")
    correct = np.r_[np.zeros(40), np.ones(40)]  # wrong at first, right later
    frame = pd.DataFrame(
        {
            "rater": "a",
            "pair_id": [f"p{i}" for i in range(80)],
            "choice": np.where(correct == 1, "A", "B"),
            "gold": "A",
            "confidence": 0.7,
            "tie": False,
            "correct": correct,
            "gold_share": np.nan,
            "answered_at": at,
        }
    ).iloc[::-1]  # the frame's order does not matter, the time does
    row = most_improved(frame).iloc[0]
    assert (row["n_early"], row["n_late"], row["accuracy_early"], row["accuracy_late"]) == (40, 40, 0.0, 1.0)
    assert row["score_change"] == pytest.approx((1 - 0.09 / 0.25) - (1 - 0.49 / 0.25))


def test_every_panel_draws_even_without_a_single_value():
    rng = np.random.default_rng(5)
    frame, _ = cohort(rng, lambda w: 0.7, raters=1, weeks=3, per_week=(12, 12))
    out = weekly_progress(frame)  # one rater, no bank features: no pulls at all
    assert out.loc[out["measure"] == "length", "value"].isna().all()
    for name in PROGRESS_PANELS:
        svg = to_svg(progress_panel(out, name).properties(width=300))
        assert "Week starting Monday" in svg and PROGRESS_PANELS[name][0] in svg
