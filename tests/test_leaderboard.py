"""The leaderboard: a proper score, shrinkage, ranking rules and streaks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss

from calibration.data import prepare
from calibration.leaderboard import (
    LEADERBOARD_COLUMNS,
    eb_scores,
    leaderboard,
    rank_raters,
    rater_scores,
    timestamp_streaks,
)
from calibration.simulate import RaterSpec, simulate_judgments, synthetic_bank


@pytest.fixture(scope="module")
def bank():
    return synthetic_bank(400, seed=3)


def test_raw_score_is_brier_skill_over_the_coin(bank):
    raters = [RaterSpec(f"r{i}", skill=1.0 + i / 2) for i in range(4)]
    prepared = prepare(bank, simulate_judgments(bank, raters, n_per_rater=150, seed=1))
    board = leaderboard(prepared, with_bias=False).set_index("rater")
    for rater, rows in prepared[~prepared["tie"]].groupby("rater"):
        expected = 1 - brier_score_loss(rows["correct"], rows["confidence"]) / 0.25
        assert board.loc[rater, "raw_score"] == pytest.approx(expected, abs=1e-12)
        scores = 1 - (rows["confidence"] - rows["correct"]) ** 2 / 0.25
        low, high = stats_t_interval(scores.to_numpy())
        assert board.loc[rater, "raw_ci_low"] == pytest.approx(low)
        assert board.loc[rater, "raw_ci_high"] == pytest.approx(high)


def stats_t_interval(x):
    from statsmodels.stats.weightstats import DescrStatsW

    return DescrStatsW(x).tconfint_mean(alpha=0.05)


def eb_reference(points_by_rater, k=30, prior_df=10, floor=0.25):
    """The empirical-Bayes score written out with statsmodels' DerSimonian-Laird and scipy's truncnorm."""
    from scipy import stats
    from statsmodels.stats.meta_analysis import combine_effects

    n = np.array([len(p) for p in points_by_rater], dtype=float)
    raw = np.array([np.mean(p) for p in points_by_rater])
    within = np.array([np.sum((p - np.mean(p)) ** 2) for p in points_by_rater])
    pooled = max(within.sum() / (n - 1).sum(), floor)
    v = (prior_df * pooled + within) / (prior_df + n - 1) / n
    tau2 = pooled / k
    if len(n) >= 3:
        tau2 = max(tau2, combine_effects(raw, v, method_re="dl").tau2)
    w = 1 / (tau2 + v)
    mu = np.sum(w * raw) / w.sum()
    m = (raw / v + mu / tau2) / (1 / v + 1 / tau2)
    sd = np.sqrt(1 / (1 / v + 1 / tau2))
    post = stats.truncnorm((-3 - m) / sd, (1 - m) / sd, loc=m, scale=sd)
    return post.mean(), post.ppf(0.025), post.ppf(0.975)


@pytest.mark.parametrize("k", [30, 10])
def test_score_is_the_empirical_bayes_posterior_and_minimum_to_rank(bank, k):
    raters = [RaterSpec("many", skill=2.5), RaterSpec("few", skill=2.5), RaterSpec("mid", skill=0.5)]
    raters += [RaterSpec(f"r{i}", skill=0.5 + i / 3, confidence_scale=1 + i / 4) for i in range(5)]
    j = simulate_judgments(bank, raters, n_per_rater=200, seed=2)
    j = j[(j["rater"] != "few") | (j.groupby("rater").cumcount() < 12)]
    prepared = prepare(bank, j)
    board = leaderboard(prepared, k=k, min_n=20, with_bias=False).set_index("rater")
    d = prepared[~prepared["tie"] & prepared["confidence"].notna()]
    points = 1 - (d["confidence"] - d["correct"]) ** 2 / 0.25
    names = board.index.tolist()
    score, low, high = eb_reference([points[d["rater"] == r].to_numpy() for r in names], k=k)
    np.testing.assert_allclose(board["score"], score, rtol=1e-9)
    np.testing.assert_allclose(board["ci_low"], low, rtol=1e-9)
    np.testing.assert_allclose(board["ci_high"], high, rtol=1e-9)
    assert not board.loc["few", "ranked"] and np.isnan(board.loc["few", "rank"])
    assert board.loc["many", "rank"] == 1
    assert list(leaderboard(prepared, with_bias=False).columns) == LEADERBOARD_COLUMNS


def test_two_raters_are_shrunk_by_k_judgments_of_the_pooled_variance(bank):
    """Too few raters to estimate the spread between them: the prior is worth k answers."""
    prepared = _scored_rows(bank, {"few": 5, "many": 120})
    points = 1 - (prepared["confidence"] - prepared["correct"]) ** 2 / 0.25
    by = [points[prepared["rater"] == r].to_numpy() for r in ("few", "many")]
    for k in (30, 10):
        board = leaderboard(prepared, k=k, with_bias=False).set_index("rater").loc[["few", "many"]]
        score, low, high = eb_reference(by, k=k)
        np.testing.assert_allclose(board["score"], score, rtol=1e-9)
        np.testing.assert_allclose(board["ci_high"], high, rtol=1e-9)


def test_without_a_prior_the_score_is_the_raw_mean_and_a_lone_rater_gets_an_honest_interval():
    board = eb_scores([20, 40, 0], [20.0, 16.0, 0.0], [20.0, 30.0, 0.0], k=0)
    assert board["score"].iloc[1] == pytest.approx(0.4, abs=1e-5)  # no pull (the bound 1 is 5 sd away)
    assert 0.9 < board["score"].iloc[0] < 1  # a raw 1 is pulled below the bound by the truncation only
    assert board.iloc[2].isna().all()
    alone = eb_scores([20], [20.0], [20.0]).iloc[0]  # 20 sure right answers, nobody else
    assert alone["ci_low"] < 0.9 < alone["score"] < alone["ci_high"] < 1


def test_intervals_hold_the_shown_score_inside_the_range_and_never_collapse(bank):
    """20 sure right answers out of 20 (raw score 1, no variance), sure wrong answers, and ordinary raters."""
    rows = [
        pd.DataFrame({"rater": "perfect", "confidence": 1.0, "correct": np.ones(20)}),
        pd.DataFrame({"rater": "reckless", "confidence": 1.0, "correct": np.r_[np.zeros(12), np.ones(8)]}),
        pd.DataFrame({"rater": "one", "confidence": [0.9], "correct": [1.0]}),
    ]
    rng = np.random.default_rng(5)
    for i in range(12):
        c = rng.choice(np.arange(50, 101, 5) / 100, 20 + 10 * i)
        rows.append(
            pd.DataFrame({"rater": f"r{i}", "confidence": c, "correct": (rng.random(len(c)) < c) * 1.0})
        )
    prepared = pd.concat(rows, ignore_index=True).assign(tie=False)
    board = leaderboard(prepared, with_bias=False, streaks={}).set_index("rater")
    assert (board["ci_low"] <= board["score"]).all() and (board["score"] <= board["ci_high"]).all()
    assert (board["ci_low"] >= -3).all() and (board["ci_high"] <= 1).all()
    assert (board["ci_high"] - board["ci_low"] > 0.05).all()
    assert board.loc["perfect", "score"] < 1 and board.loc["perfect", "ci_high"] < 1
    assert (
        board.loc["perfect", "raw_ci_low"] == board.loc["perfect", "raw_ci_high"] == 1
    )  # the raw t interval
    assert board.loc["perfect", "rank"] == 1


def realistic_cohort(rng, n_raters, n, spread):
    """Raters as people are: skill varies (log-odds sd ``spread``), items vary in difficulty, confidence
    is a noisy, rounded sense of how sure an item feels, honest or over- or underconfident by habit,
    and a third tire (their chance of being right slides over the session). Returns each rater's
    points and true mean score (expected points over 150 sessions like theirs)."""
    skill = rng.normal(1.2, spread, n_raters)
    habit = rng.choice([1.0, 1.0, 2.0, 0.5], n_raters)
    slide = np.linspace(0, 1, n)[None, None, :] * ((rng.random(n_raters) < 0.3) * -0.8)[:, None, None]

    def session(size):
        d = rng.normal(0, 1.0, (n_raters, size, n))
        q = 1 / (1 + np.exp(-(skill[:, None, None] - d + slide)))
        sense = np.abs(2 / (1 + np.exp(-(skill[:, None, None] - d))) - 1)
        noisy = sense ** (1 / habit[:, None, None]) + rng.normal(0, 0.1, q.shape)
        return q, np.round((0.5 + 0.5 * np.clip(noisy, 0, 1)) * 20) / 20

    q, c = session(150)
    truth = (q * (1 - 4 * (1 - c) ** 2) + (1 - q) * (1 - 4 * c**2)).mean(axis=(1, 2))
    q, c = session(1)
    points = (1 - 4 * (c - (rng.random(q.shape) < q)) ** 2)[:, 0, :]
    return points, truth


@pytest.mark.parametrize("n", [20, 50, 100, 200])
def test_posterior_intervals_cover_the_true_skill(n):
    """Coverage of the true mean score near 95% (measured 93-97% for cohorts of 30, spread 0.6 and 0.2),
    every interval holding its score inside [-3, 1]."""
    rng = np.random.default_rng(n)
    covered = []
    for spread in (0.6, 0.2):
        for _ in range(15):
            points, truth = realistic_cohort(rng, 30, n, spread)
            scores = pd.DataFrame(
                {
                    "rater": [f"r{i}" for i in range(30)],
                    "n": n,
                    "points": points.sum(axis=1),
                    "points_sq": (points**2).sum(axis=1),
                    "mean_confidence": np.nan,
                    "mean_correct": np.nan,
                    "accuracy": np.nan,
                    "length_or": np.nan,
                    "polish_or": np.nan,
                }
            )
            board = rank_raters(scores).set_index("rater").loc[scores["rater"]]
            covered += ((board["ci_low"] <= truth) & (truth <= board["ci_high"])).tolist()
            assert (board["ci_low"] <= board["score"]).all() and (board["score"] <= board["ci_high"]).all()
            assert (board["ci_high"] <= 1).all() and (board["ci_low"] >= -3).all()
    assert 0.91 <= np.mean(covered) <= 0.985


@pytest.mark.slow
def test_honest_confidence_ranks_above_over_and_underconfidence(bank):
    """The score is proper: at equal skill, stating true probabilities scores best on average."""
    specs = []
    for i in range(60):
        for label, gamma in (("honest", 1.0), ("over", 2.5), ("under", 0.4)):
            specs.append(RaterSpec(f"{label}-{i}", skill=1.2, confidence_scale=gamma))
    prepared = prepare(bank, simulate_judgments(bank, specs, n_per_rater=200, seed=4))
    board = leaderboard(prepared, with_bias=False)
    kind = board["rater"].str.split("-").str[0]
    mean_rank = board.groupby(kind)["rank"].mean()
    assert mean_rank["honest"] < mean_rank["under"] and mean_rank["honest"] < mean_rank["over"]
    raw = board.groupby(kind)["raw_score"].mean()
    assert raw["honest"] > raw["over"] and raw["honest"] > raw["under"]


def test_bias_columns_come_from_the_bias_model(bank):
    raters = [RaterSpec("long", skill=1.5, length_bias=np.log(3)), RaterSpec("fair", skill=1.5)]
    prepared = prepare(bank, simulate_judgments(bank, raters, n_per_rater=300, seed=5))
    board = leaderboard(prepared).set_index("rater")
    assert board.loc["long", "length_or"] > 2 and 0.6 < board.loc["fair", "length_or"] < 1.6


def test_streak_counts_consecutive_finished_days():
    def day(d, n):
        return [pd.Timestamp(d, tz="UTC") + pd.Timedelta(minutes=i) for i in range(n)]

    at = day("2026-11-15", 10) + day("2026-11-17", 10) + day("2026-11-18", 10) + day("2026-11-19", 9)
    j = pd.DataFrame({"rater": "r", "answered_at": at})
    # the 19th is unfinished (9 of 10): the streak 17-18 is alive on the 19th, dead on the 20th
    assert timestamp_streaks(j, as_of=pd.Timestamp("2026-11-19", tz="UTC"))["r"] == 2
    assert timestamp_streaks(j, as_of=pd.Timestamp("2026-11-20", tz="UTC"))["r"] == 0
    assert timestamp_streaks(j.assign(answered_at=pd.NaT))["r"] == 0


def test_negative_prior_is_refused(bank):
    prepared = prepare(bank, simulate_judgments(bank, [RaterSpec("a")], n_per_rater=10, seed=0))
    with pytest.raises(ValueError, match="k must be >= 0."):
        leaderboard(prepared, k=-1)


def _scored_rows(bank, counts: dict[str, int], seed: int = 6) -> pd.DataFrame:
    """Prepared judgments with exactly ``counts[rater]`` scored (decided, with a confidence) each."""
    specs = [RaterSpec(name, skill=1.0 + i / 3) for i, name in enumerate(counts)]
    prepared = prepare(
        bank, simulate_judgments(bank, specs, n_per_rater=max(counts.values()) + 40, seed=seed)
    )
    scored = prepared[~prepared["tie"] & prepared["confidence"].notna()]
    keep = scored.groupby("rater").cumcount() < scored["rater"].map(counts)
    return scored[keep].reset_index(drop=True)


def test_exactly_min_n_judgments_are_enough_to_be_ranked(bank):
    prepared = _scored_rows(bank, {"at": 20, "below": 19, "above": 21})
    board = leaderboard(prepared, with_bias=False).set_index("rater")  # default min_n = 20
    assert board["n"].to_dict() == {"at": 20, "below": 19, "above": 21}
    assert board.loc["at", "ranked"] and board.loc["above", "ranked"] and not board.loc["below", "ranked"]
    assert not np.isnan(board.loc["at", "rank"]) and np.isnan(board.loc["below", "rank"])
    assert leaderboard(prepared, min_n=21, with_bias=False).set_index("rater")["ranked"].to_dict() == {
        "above": True,
        "at": False,
        "below": False,
    }


def test_streaks_from_the_caller_win_over_timestamps(bank):
    """A cohort drilling 5 pairs a day: timestamps alone (10 a day) see no streak, the drill store does."""
    days = pd.to_datetime(["2026-11-13", "2026-11-14", "2026-11-15"], utc=True)
    prepared = _scored_rows(bank, {"five": 15, "idle": 15})
    at = np.repeat(days, 5)
    prepared["answered_at"] = np.concatenate([at, at])
    fallback = leaderboard(prepared, with_bias=False, as_of=days[-1]).set_index("rater")
    assert fallback["streak"].to_dict() == {"five": 0, "idle": 0}
    assert (
        leaderboard(prepared, with_bias=False, drill_size=5, as_of=days[-1])
        .set_index("rater")
        .loc["five", "streak"]
        == 3
    )
    given = leaderboard(prepared, with_bias=False, streaks={"five": 3, "nobody": 9}).set_index("rater")
    assert given["streak"].to_dict() == {"five": 3, "idle": 0}


def test_rows_scored_apart_rank_like_the_whole_cohort(bank):
    """What the app's cache relies on: each rater's row depends on their judgments only."""
    raters = [RaterSpec(f"r{i}", skill=0.6 + i / 4, length_bias=0.1 * i) for i in range(6)]
    prepared = prepare(bank, simulate_judgments(bank, raters, n_per_rater=60, seed=9))
    whole = leaderboard(prepared, streaks={"r1": 2})
    parts = [
        rater_scores(prepared[prepared["rater"].isin(group)])
        for group in (["r0", "r3"], ["r5"], ["r1", "r2", "r4"])
    ]
    apart = rank_raters(pd.concat(parts, ignore_index=True), streaks={"r1": 2})
    pd.testing.assert_frame_equal(whole, apart, check_exact=False, rtol=1e-9)


def test_a_given_bias_fit_is_used_and_not_refitted(bank, monkeypatch):
    import calibration.leaderboard as module
    from calibration.bias import bias_by_rater

    raters = [RaterSpec("long", skill=1.5, length_bias=np.log(3)), RaterSpec("fair", skill=1.5)]
    prepared = prepare(bank, simulate_judgments(bank, raters, n_per_rater=120, seed=5))
    bias = bias_by_rater(prepared)
    monkeypatch.setattr(module, "bias_by_rater", lambda *a, **k: pytest.fail("fitted again"))
    board = leaderboard(prepared, bias=bias).set_index("rater")
    odds = bias.pivot(index="rater", columns="effect", values="odds_ratio")
    assert board.loc["long", "length_or"] == odds.loc["long", "length"]
    assert board.loc["fair", "polish_or"] == odds.loc["fair", "polish"]


def test_reports_write_each_rows_interval_of_the_score_shown(bank):
    from calibration.render import to_html, to_markdown
    from calibration.report import build_report

    raters = [RaterSpec(f"r{i}", skill=0.5 + i / 2, confidence_scale=0.5 + i / 3) for i in range(3)]
    j = simulate_judgments(bank, raters, n_per_rater=40, seed=11)
    j = j[(j["rater"] != "r0") | (j.groupby("rater").cumcount() < 20)]
    report = build_report(prepare(bank, j), n_boot=0)
    rows = report["cohort"]["leaderboard"]
    assert all(r["ci_low"] <= r["score"] <= r["ci_high"] <= 1 for r in rows)
    md, page = to_markdown(report), to_html(report)
    for r in rows:
        interval = f"{r['ci_low']:.3f} to {r['ci_high']:.3f}"
        assert f"| {r['score']:.3f} | {interval} |" in md
        assert f"<td>{r['score']:.3f}</td><td>{interval}</td>" in page
