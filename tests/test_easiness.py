"""Pair easiness from a cohort (calibration.easiness) and its use as an offset in the rater's bias model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from calibration.bias import bias_by_rater, cohort_easiness
from calibration.data import prepare
from calibration.easiness import pair_easiness
from calibration.people import Person, simulate_people
from calibration.simulate import synthetic_bank

LOG2 = float(np.log(2.0))


def _crossed(n_raters, n_pairs, sigma, seed, length_pull=0.0):
    """Every rater judges every pair; agreement from rater accuracy, pair easiness and a length pull."""
    rng = np.random.default_rng(seed)
    accuracy = rng.uniform(0.5, 2.0, n_raters)
    easiness = rng.normal(0.0, sigma, n_pairs)
    advantage = rng.normal(0.0, 1.0, n_pairs)  # the gold's length advantage, in doublings
    rater, pair = (a.ravel() for a in np.indices((n_raters, n_pairs)))
    eta = accuracy[rater] + easiness[pair] + length_pull * advantage[pair]
    agree = (rng.random(len(rater)) < expit(eta)).astype(float)
    return agree, rater, pair, easiness, advantage[pair]


def test_recovers_the_spread_and_the_order_of_easiness():
    agree, rater, pair, true, _ = _crossed(40, 300, 0.8, seed=1)
    fit = pair_easiness(agree, rater, pair, np.zeros(len(agree), dtype=int))
    assert fit.converged
    assert 0.85 * np.std(true) < fit.sigma < 1.15 * np.std(true)
    assert np.corrcoef(fit.easiness, true)[0, 1] > 0.8


def test_no_spread_gives_offsets_near_zero():
    agree, rater, pair, _, _ = _crossed(20, 300, 0.0, seed=2)
    fit = pair_easiness(agree, rater, pair, np.zeros(len(agree), dtype=int))
    assert fit.converged and fit.sigma < 0.15
    assert np.abs(fit.offset).max() < 0.2


def test_a_pair_judged_by_one_rater_alone_gets_no_offset():
    agree, rater, pair, _, _ = _crossed(20, 100, 1.0, seed=3)
    # pair 100 is judged once, by rater 0
    agree, rater, pair = np.r_[agree, 0.0], np.r_[rater, 0], np.r_[pair, 100]
    fit = pair_easiness(agree, rater, pair, np.zeros(len(agree), dtype=int))
    assert fit.offset[-1] == pytest.approx(0.0, abs=0.01)  # one Newton step from the fit
    assert fit.offset_var[-1] == pytest.approx(fit.sigma**2)  # nothing measured it: the whole spread
    # its own answer moved the pair's easiness, but not the offset that answer is modelled with
    assert fit.easiness[100] < -0.05


def test_the_offset_leaves_out_the_judgment_it_belongs_to():
    agree, rater, pair, _, _ = _crossed(8, 60, 1.0, seed=4)
    fit = pair_easiness(agree, rater, pair, np.zeros(len(agree), dtype=int))
    # refit without one judgment: its pair's easiness is (about) the offset given to that judgment
    for n in (0, 17, 301):
        keep = np.arange(len(agree)) != n
        refit = pair_easiness(agree[keep], rater[keep], pair[keep], np.zeros(keep.sum(), dtype=int))
        assert fit.offset[n] == pytest.approx(refit.easiness[pair[n]], abs=0.05)


@pytest.mark.parametrize("sigma", [0.4, 0.8])
def test_the_offsets_variance_is_about_its_error_against_the_planted_easiness(sigma):
    # 20 raters a pair: the posterior variance of a left-out easiness against the squared error of
    # the offset about the drawn easiness (measured 0.091 against 0.110, 0.188 against 0.240: the
    # Laplace variance leaves out the uncertainty of the raters' accuracies and of the spread)
    agree, rater, pair, true, _ = _crossed(20, 300, sigma, seed=3)
    fit = pair_easiness(agree, rater, pair, np.zeros(len(agree), dtype=int))
    error = fit.offset - (true - true.mean())[pair]
    assert 0.7 < fit.offset_var.mean() / np.mean(error**2) < 1.0
    assert np.all(fit.offset_var > 0) and np.all(fit.offset_var <= fit.sigma**2 + 1e-12)


@pytest.mark.parametrize("v", [0.05, 0.2, 0.5])
def test_the_per_pair_scale_is_the_slope_lost_to_a_normal_term(v):
    # a logistic slope seen through a left-out normal term of variance v: the marginal slope of
    # logit E[expit(eta + u)], by quadrature, against 1 / sqrt(1 + c^2 v) (Zeger, Liang & Albert 1988)
    from scipy import integrate, special, stats

    from calibration.bias import LOGIT_NORMAL_C

    def marginal(eta):
        density = stats.norm(0.0, np.sqrt(v)).pdf
        mean = integrate.quad(lambda u: special.expit(eta + u) * density(u), -15, 15, epsabs=1e-13)[0]
        return special.logit(mean)

    # within 0.025 for a rater right 50-88% of the time on the pair (eta 0-2); at eta 3 (95%) the
    # true loss is smaller and the scale overshoots by up to 0.05 (v = 0.5)
    for eta, tolerance in ((0.0, 0.025), (1.0, 0.025), (2.0, 0.025), (3.0, 0.05)):
        slope = (marginal(eta + 1e-3) - marginal(eta - 1e-3)) / 2e-3
        assert slope == pytest.approx(1.0 / np.sqrt(1.0 + LOGIT_NORMAL_C**2 * v), abs=tolerance)


def test_a_cohort_wide_length_pull_goes_to_the_pull_not_to_easiness():
    agree, rater, pair, _, advantage = _crossed(30, 300, 0.5, seed=5, length_pull=LOG2)
    fit = pair_easiness(agree, rater, pair, np.zeros(len(agree), dtype=int), advantage[:, None])
    assert fit.pull[0] == pytest.approx(LOG2, abs=0.1)
    assert abs(np.corrcoef(fit.offset, advantage)[0, 1]) < 0.1


def test_strata_keep_their_own_mean():
    agree, rater, pair, _, _ = _crossed(20, 200, 0.3, seed=6)
    stratum = (pair >= 100).astype(int)
    hard = stratum == 1
    rng = np.random.default_rng(7)
    agree[hard] = (rng.random(hard.sum()) < 0.45).astype(float)  # stratum 1: far harder for everyone
    fit = pair_easiness(agree, rater, pair, stratum)
    # each stratum is centred on its own mean: being in the hard stratum is no pair's own easiness
    for k in (0, 1):
        assert abs(np.nanmean(fit.easiness[np.unique(pair[stratum == k])])) < 0.05


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="same length"):
        pair_easiness(np.ones(3), np.zeros(3, dtype=int), np.zeros(2, dtype=int), np.zeros(3, dtype=int))


@pytest.fixture(scope="module")
def spread_cohorts():
    """Ten cohorts of 40 people-like raters (skill 0.8-2.2, length OR 2), 20 raters to each of 400 pairs
    of easiness spread by 0.8 log odds."""
    bank = synthetic_bank(400, seed=21)
    bank = bank.assign(easiness=np.random.default_rng(22).normal(0.0, 0.8, len(bank)))
    out = []
    for c in range(10):
        skill = np.random.default_rng(100 + c).uniform(0.8, 2.2, 40)
        people = [Person(f"c{c}-{i}", skill=float(s), length_bias=LOG2) for i, s in enumerate(skill)]
        out.append(prepare(bank, simulate_people(bank, people, n_per_rater=200, seed=200 + c)))
    return out


@pytest.mark.slow
def test_easiness_from_the_cohort_brings_the_length_estimate_toward_the_planted_one(spread_cohorts):
    # pair easiness left out of a rater's model pulls the length estimate toward 0 (the
    # non-collapsibility of the logistic model): measured from the rest of the cohort, less so
    alone, in_cohort, per_pair = [], [], []
    for prepared in spread_cohorts:
        easiness, variance = cohort_easiness(prepared, return_variance=True)
        for frame, into in (
            (prepared, alone),
            (prepared.assign(easiness=easiness), in_cohort),
            (prepared.assign(easiness=easiness, easiness_var=variance), per_pair),
        ):
            rows = bias_by_rater(frame)
            into.append(rows[rows["effect"] == "length"])
    alone, in_cohort, per_pair = pd.concat(alone), pd.concat(in_cohort), pd.concat(per_pair)

    def covered(rows):
        return float(((rows["ci_low"] <= 2.0) & (rows["ci_high"] >= 2.0)).mean())

    gap_alone = LOG2 - np.log(alone["odds_ratio"]).mean()
    gap_cohort = LOG2 - np.log(in_cohort["odds_ratio"]).mean()
    gap_per_pair = LOG2 - np.log(per_pair["odds_ratio"]).mean()
    # 400 raters: alone the mean log odds ratio fell short by 0.063 (about 10 standard errors),
    # with the easiness from the cohort by 0.040, and by 0.015 with its unmeasured part allowed for;
    # coverage of OR 2 92.5%, 93.3% and 93.0%, the intervals wholly below 2 7.0%, 6.0% and 4.75%
    # (wholly above: 0.5%, 0.75%, 2.25%)
    assert gap_alone > 0.05  # the attenuation is real on these raters
    assert gap_cohort < 0.8 * gap_alone
    assert covered(in_cohort) >= covered(alone) - 0.005
    assert 0.0 < gap_per_pair < 0.7 * gap_cohort  # part of the rest, not more than all of it
    assert covered(per_pair) >= covered(in_cohort) - 0.01
    # the misses are no longer nearly all on one side
    assert (per_pair["ci_high"] < 2.0).mean() < (in_cohort["ci_high"] < 2.0).mean()
    # the verdicts are the fit's: the same p-values, and so the same lines
    assert per_pair["p_value"].to_numpy() == pytest.approx(in_cohort["p_value"].to_numpy(), rel=1e-12)
    assert (per_pair["significant"].to_numpy() == in_cohort["significant"].to_numpy()).all()


def test_the_per_pair_scale_multiplies_each_raters_log_odds_ratios(spread_cohorts):
    from calibration.bias import LOGIT_NORMAL_C

    prepared = spread_cohorts[3]
    easiness, variance = cohort_easiness(prepared, return_variance=True)
    plain = bias_by_rater(prepared.assign(easiness=easiness))
    scaled = bias_by_rater(prepared.assign(easiness=easiness, easiness_var=variance))
    mean_v = pd.Series(variance).groupby(prepared["rater"].to_numpy()).mean()
    factor = np.sqrt(1.0 + LOGIT_NORMAL_C**2 * plain["rater"].map(mean_v).to_numpy())
    assert 1.01 < factor.min() and factor.max() < 1.2
    for column in ("odds_ratio", "ci_low", "ci_high"):
        assert np.log(scaled[column]).to_numpy() == pytest.approx(np.log(plain[column]).to_numpy() * factor)
    # no variance (or NaN) changes nothing; a negative one is an error
    same = bias_by_rater(prepared.assign(easiness=easiness, easiness_var=np.where(easiness > 0, 0.0, np.nan)))
    pd.testing.assert_frame_equal(same, plain)
    for bad in (-variance, np.where(easiness > 0, np.inf, variance)):
        with pytest.raises(ValueError, match="easiness_var"):
            bias_by_rater(prepared.assign(easiness=easiness, easiness_var=bad))


def test_an_easiness_column_that_is_not_numbers_is_an_error(spread_cohorts):
    prepared = spread_cohorts[0]
    with pytest.raises(ValueError):
        bias_by_rater(prepared.assign(easiness="hard"))
    with pytest.raises(ValueError, match="infinite"):
        bias_by_rater(prepared.assign(easiness=np.inf))


def test_a_rater_alone_gets_the_same_report_with_or_without_easiness(spread_cohorts):
    one = spread_cohorts[0][spread_cohorts[0]["rater"] == "c0-0"]
    with_offsets = bias_by_rater(one.assign(easiness=cohort_easiness(one)))
    pd.testing.assert_frame_equal(with_offsets, bias_by_rater(one), atol=1e-6)


def test_the_cohort_report_and_a_raters_report_from_the_cohort_agree_and_say_so(spread_cohorts):
    from calibration.report import build_report

    prepared = spread_cohorts[1]
    cohort = build_report(prepared, n_boot=20)
    mine = build_report(prepared, rater="c1-3", n_boot=20)
    theirs = next(r for r in cohort["raters"] if r["rater"] == "c1-3")
    assert mine["pair_easiness"] == theirs["pair_easiness"] == 200  # every pair was judged by others too
    for effect in ("length", "polish", "position"):
        assert mine["bias"][effect]["odds_ratio"] == pytest.approx(
            theirs["bias"][effect]["odds_ratio"], rel=1e-9
        )
    said = [line for line in mine["bias_method"] if "rest of your cohort" in line]
    assert said == [
        "Your bias verdicts allow for how hard each pair was for the rest of your cohort (200 judgments of "
        "yours; a pair no one else judged counts as hard as its kind), so a pair that was hard for everyone "
        "does not count as a pull."
    ]
    # the same rater's judgments alone: bank strata only, and no such sentence
    alone = build_report(prepared[prepared["rater"] == "c1-3"], rater="c1-3", n_boot=20)
    assert alone["pair_easiness"] == 0
    assert not any("rest of your cohort" in line for line in alone["bias_method"] + alone["verdict"])
    length = bias_by_rater(prepared[prepared["rater"] == "c1-3"]).set_index("effect").loc["length"]
    assert alone["bias"]["length"]["odds_ratio"] == pytest.approx(length["odds_ratio"], rel=1e-12)
    assert alone["bias"]["length"]["odds_ratio"] != pytest.approx(
        mine["bias"]["length"]["odds_ratio"], rel=1e-3
    )


def test_the_same_judgments_in_another_order_give_the_same_easiness_to_the_last_bit(spread_cohorts):
    prepared = spread_cohorts[2]
    shuffled = prepared.sample(frac=1.0, random_state=3)
    again = pd.Series(cohort_easiness(shuffled), index=shuffled.index).reindex(prepared.index)
    np.testing.assert_array_equal(again.to_numpy(), cohort_easiness(prepared))


def test_pairs_that_grow_harder_over_the_drills_do_not_read_as_a_changing_length_bias():
    # unbiased raters who meet, early on, the pairs that are easy when gold is the longer answer and
    # hard when it is the shorter, and late the other way round: the same answers in that order
    # look like a length bias fading away. Measured on the rest of the cohort, the pairs' easiness
    # takes it back (3 cohorts of 40: 81% of raters told "changing" alone, 10% in the cohort)
    from calibration.bias import with_cohort_easiness
    from calibration.trend import bias_trend
    from pairs.features import pair_features

    told = {"alone": [], "cohort": []}
    for c in range(3):
        bank = synthetic_bank(400, seed=30 + c)
        bank = bank.assign(easiness=np.random.default_rng(40 + c).normal(0.0, 0.8, len(bank)))
        skill = np.random.default_rng(50 + c).uniform(0.8, 2.2, 40)
        people = [Person(f"c{c}-{i}", skill=float(s)) for i, s in enumerate(skill)]
        answers = simulate_people(bank, people, n_per_rater=200, seed=60 + c).drop(columns="repeat")
        doublings = pair_features(bank).reindex(bank["id"].astype(str))["length_doublings"].to_numpy()
        gold_longer = np.where(bank["gold"].to_numpy() == "A", 1.0, -1.0) * np.sign(doublings)
        key = dict(zip(bank["id"].astype(str), bank["easiness"].to_numpy() * gold_longer, strict=True))
        noise = np.random.default_rng(70 + c).normal(0.0, 0.5, len(answers))
        answers = answers.assign(order=-(answers["pair_id"].astype(str).map(key).to_numpy() + noise))
        answers = answers.sort_values(["rater", "order"]).drop(columns="order")
        place = answers.groupby("rater").cumcount().to_numpy()
        answers["answered_at"] = (
            pd.Timestamp("2025-01-06", tz="UTC")
            + pd.to_timedelta(place // 10, unit="D")
            + pd.to_timedelta(place % 10, unit="min")
        )
        prepared = prepare(bank, answers)
        for name, frame in (("alone", prepared), ("cohort", with_cohort_easiness(prepared))):
            rows = bias_trend(frame)
            told[name].append(rows.loc[rows["effect"] == "length", "significant"].to_numpy())
    alone, cohort = (float(np.concatenate(told[k]).mean()) for k in ("alone", "cohort"))
    assert alone > 0.6  # the order alone makes the trend: the scenario bites
    assert cohort < 0.2


def test_the_cohort_carries_each_strata_difficulty_where_a_rater_has_one_skill_term():
    # LLMBar-like cohorts (hard pairs mostly short-gold), unbiased raters with 50 judgments each.
    # With one skill term for all pairs (the strata unknown, or too small to get their own term),
    # hard short-gold pairs read as length bias; the cohort's easiness keeps each stratum's mean
    # so it does not (10 cohorts of 40, told "you favour longer": 5.0% with a term per stratum,
    # 4.75% with one term, 12.75% with one term and no easiness, and 12% when the easiness was
    # centred on its stratum)
    from calibration.bias import with_cohort_easiness
    from calibration.people import llmbar_like_bank

    told = {"strata": [], "one term": [], "one term, no easiness": []}
    for c in range(10):
        bank = llmbar_like_bank(100, seed=80 + c)
        skill = np.random.default_rng(90 + c).uniform(0.8, 2.2, 40)
        people = [Person(f"c{c}-{i}", skill=float(s)) for i, s in enumerate(skill)]
        prepared = prepare(bank, simulate_people(bank, people, n_per_rater=50, seed=95 + c))
        measured = with_cohort_easiness(prepared)
        for name, frame in (
            ("strata", measured),
            ("one term", measured.drop(columns=["source", "tags"])),
            ("one term, no easiness", prepared.drop(columns=["source", "tags"])),
        ):
            rows = bias_by_rater(frame)
            length = rows[rows["effect"] == "length"]
            told[name].append((length["significant"] & (length["odds_ratio"] > 1)).to_numpy())
    share = {name: float(np.concatenate(parts).mean()) for name, parts in told.items()}
    assert share["one term, no easiness"] > 0.09  # the scenario bites
    assert share["one term"] < 0.08 and share["strata"] < 0.08
