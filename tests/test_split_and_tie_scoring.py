"""Split pairs and tie answers: the ranked probability skill and how every statistic treats them."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss

from calibration.bias import bias_by_rater, plain_rates
from calibration.confidence import calibration_summary
from calibration.data import prepare, sided
from calibration.leaderboard import leaderboard, rater_scores, skill_points
from calibration.scoring import ranked_probability_skill
from calibration.simulate import RaterSpec, simulate_judgments, synthetic_bank

OUTCOMES = np.array(["A", "tie", "B"])  # in their order: A better < about equal < B better


def rps_of_outcome(stated: np.ndarray, outcome: int) -> float:
    """RPS of a stated (A, tie, B) distribution on one outcome, written out from Epstein (1969)."""
    observed = np.zeros(3)
    observed[outcome] = 1.0
    return float(sum((np.cumsum(stated)[k] - np.cumsum(observed)[k]) ** 2 for k in range(2)))


def stated(choice: str, c: float) -> np.ndarray:
    return {
        "A": np.array([c, 0.0, 1 - c]),
        "B": np.array([1 - c, 0.0, c]),
        "tie": np.array([(1 - c) / 2, c, (1 - c) / 2]),
    }[choice]


@pytest.mark.parametrize("p", [0.5, 0.6, 0.75, 0.9, 1.0])
@pytest.mark.parametrize("c", [0.5, 0.6, 0.8, 1.0])
def test_split_pair_is_the_brier_skill_averaged_over_the_experts(p, c):
    # closed form: 1 - 4 (c - p)^2 - 4 p (1 - p) for the majority side, with 1 - p for the other
    majority = ranked_probability_skill(["A"], [c], ["A"], [p])[0]
    minority = ranked_probability_skill(["B"], [c], ["A"], [p])[0]
    assert majority == pytest.approx(1 - 4 * (c - p) ** 2 - 4 * p * (1 - p), abs=1e-12)
    assert minority == pytest.approx(1 - 4 * (c - (1 - p)) ** 2 - 4 * p * (1 - p), abs=1e-12)
    # against scikit-learn: the Brier loss with the experts as weights on y = 1 and y = 0
    loss = brier_score_loss([1, 0], [c, c], sample_weight=[p, 1 - p]) if p < 1 else (1 - c) ** 2
    assert majority == pytest.approx(1 - loss / 0.25, abs=1e-12)


def test_unanimous_pairs_score_as_before():
    rng = np.random.default_rng(0)
    c = rng.choice(np.arange(50, 101, 5) / 100, size=200)
    choice = rng.choice(["A", "B"], size=200)
    gold = rng.choice(["A", "B"], size=200)
    old = skill_points((choice == gold).astype(float), c)
    assert np.allclose(ranked_probability_skill(choice, c, gold), old, atol=1e-12)
    assert np.allclose(ranked_probability_skill(choice, c, gold, np.full(200, np.nan)), old, atol=1e-12)


@pytest.mark.parametrize(
    ("choice", "c", "gold", "share"),
    [("A", 0.7, "A", 0.6), ("tie", 0.8, "B", 0.7), ("tie", 0.6, "tie", 0.5), ("B", 0.9, "tie", 0.8)],
)
def test_expected_score_matches_a_simulation_of_the_experts(choice, c, gold, share):
    # experts drawn one by one from the split; the realized RPS averaged over them
    rest = (1 - share) / 2 if gold == "tie" else 1 - share
    probs = {"A": [share, 0, rest], "B": [rest, 0, share], "tie": [rest, share, rest]}[gold]
    draws = np.random.default_rng(7).choice(3, size=200_000, p=probs)
    per_outcome = np.array([1 - rps_of_outcome(stated(choice, c), k) / 0.5 for k in range(3)])
    simulated = per_outcome[draws].mean()
    exact = ranked_probability_skill([choice], [c], [gold], [share])[0]
    assert exact == pytest.approx(simulated, abs=0.01)
    assert exact == pytest.approx(per_outcome @ probs, abs=1e-12)


def test_honest_confidence_scores_best_on_split_pairs():
    # a rater who believes the experts' split is p maximises the expected score by saying p
    grid = np.arange(50, 101) / 100
    for p in (0.55, 0.6, 0.7, 0.85):
        scores = ranked_probability_skill(["A"] * len(grid), grid, ["A"] * len(grid), [p] * len(grid))
        assert grid[np.argmax(scores)] == pytest.approx(p)


def test_the_confidence_the_feedback_advises_on_a_split_pair_earns_most_of_those_offered():
    from training.drills import CONFIDENCE_PERCENTS, best_offered_confidence

    offered = np.array(CONFIDENCE_PERCENTS) / 100
    n = len(offered)
    for share in range(50, 100):
        expected = ranked_probability_skill(["A"] * n, offered, ["A"] * n, [share / 100] * n)
        best = best_offered_confidence(share)
        assert expected[CONFIDENCE_PERCENTS.index(best)] == pytest.approx(expected.max()), share
    assert best_offered_confidence(98) == 100 and best_offered_confidence(93) == 90


def test_tie_answers_are_right_on_ties_and_cost_less_than_a_sure_wrong_pick():
    got = ranked_probability_skill(
        ["tie", "tie", "B", "tie", "A"], [1.0, 0.5, 1.0, 0.9, 0.5], ["tie", "tie", "A", "A", "tie"]
    )
    assert got.tolist() == pytest.approx([1.0, 0.75, -3.0, -0.81, 0.0])
    # a rater unsure whether the pair is a tie: answering tie at their belief beats forcing a side
    belief_tie = 0.7  # believes P(equal) = 0.7, else A or B evenly
    share = np.array([0.15, 0.7, 0.15])
    expected = {
        ans: float(np.dot(share, [1 - rps_of_outcome(stated(ans, cc), k) / 0.5 for k in range(3)]))
        for ans, cc in (("tie", belief_tie), ("A", 0.5), ("A", 0.85))
    }
    assert expected["tie"] > expected["A"] > -1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((["C"], [0.7], ["A"]), "choice has values other than 'A', 'B' and 'tie'."),
        ((["A"], [0.4], ["A"]), "confidence has values outside [0.5, 1]."),
        ((["A"], [0.7], ["X"]), "gold has values other than 'A', 'B' and 'tie'."),
        ((["A"], [0.7], ["A"], [1.2]), "gold_share has values outside [0, 1]."),
        ((["A", "B"], [0.7], ["A"]), "choice, confidence, gold and gold_share have different lengths."),
    ],
)
def test_bad_input_is_refused(args, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ranked_probability_skill(*args)


# -- the statistics -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bank():
    bank = synthetic_bank(120, seed=11)
    bank["gold"] = np.where(np.arange(120) % 10 == 0, "tie", bank["gold"])
    bank["gold_confidence"] = np.where(np.arange(120) % 4 == 1, 0.6, np.nan)
    return bank


@pytest.fixture(scope="module")
def judged(bank):
    return simulate_judgments(
        bank, [RaterSpec("ann", skill=2.0), RaterSpec("bob", skill=1.0)], n_per_rater=100, seed=4
    )


def with_tie_answers(judged: pd.DataFrame, every: int = 7) -> pd.DataFrame:
    extra = judged.copy()
    extra.loc[extra.index % every == 0, "choice"] = "tie"
    return extra


def test_prepare_reads_splits_and_tie_answers(bank, judged):
    prepared = prepare(bank, with_tie_answers(judged))
    shares = bank.set_index("id")["gold_confidence"].reindex(prepared["pair_id"]).to_numpy()
    assert np.array_equal(prepared["gold_share"].to_numpy(), shares, equal_nan=True)
    assert prepared["split"].tolist() == (shares < 1).tolist()
    tie_on_decided = prepared["tie_answer"] & ~prepared["tie"]
    assert tie_on_decided.any() and (prepared.loc[tie_on_decided, "correct"] == 0).all()
    assert prepared.loc[prepared["tie"], "correct"].isna().all()
    assert prepare(bank, judged.assign(choice="tie"))["choice"].eq("tie").all()


def test_bias_calibration_and_agreement_leave_tie_answers_out(bank, judged):
    mixed = prepare(bank, with_tie_answers(judged))
    only_sides = mixed[~mixed["tie_answer"]]
    pd.testing.assert_frame_equal(bias_by_rater(mixed, min_n=10), bias_by_rater(only_sides, min_n=10))
    pd.testing.assert_frame_equal(plain_rates(mixed), plain_rates(only_sides))
    one, same = (
        calibration_summary(mixed[mixed["rater"] == "ann"]),
        calibration_summary(only_sides[only_sides["rater"] == "ann"]),
    )
    assert one["brier"] == same["brier"] and one["n"] == same["n"]
    assert len(sided(mixed)) == int((~mixed["tie"] & ~mixed["tie_answer"]).sum())


def test_accuracy_counts_agreement_with_the_majority(bank, judged):
    mixed = prepare(bank, with_tie_answers(judged))
    scores = rater_scores(mixed, with_bias=False).set_index("rater")
    for rater, rows in mixed[~mixed["tie"]].groupby("rater"):
        agree = (rows["choice"] == rows["gold"]).mean()  # tie answers and minority sides both miss
        assert scores.loc[rater, "accuracy"] == pytest.approx(agree)


def test_leaderboard_scores_every_answer_against_the_split(bank, judged):
    mixed = prepare(bank, with_tie_answers(judged))
    board = leaderboard(mixed, with_bias=False, min_n=1).set_index("rater")
    for rater, rows in mixed.groupby("rater"):
        points = [
            float(
                np.dot(
                    _expert(g, s),
                    [1 - rps_of_outcome(stated(ch, c), k) / 0.5 for k in range(3)],
                )
            )
            for ch, c, g, s in zip(
                rows["choice"], rows["confidence"], rows["gold"], rows["gold_share"], strict=True
            )
        ]
        assert board.loc[rater, "n"] == len(rows)
        assert board.loc[rater, "raw_score"] == pytest.approx(np.mean(points), abs=1e-12)
    assert board.loc["ann", "rank"] == 1  # the better rater stays on top


def _expert(gold: str, share: float) -> np.ndarray:
    s = 1.0 if np.isnan(share) else share
    return {"A": [s, 0, 1 - s], "B": [1 - s, 0, s], "tie": [(1 - s) / 2, s, (1 - s) / 2]}[gold]


def test_a_rater_who_answers_tie_on_ties_outscores_one_who_guesses(bank):
    ids = bank["id"].tolist()
    gold = bank.set_index("id")["gold"]
    rows = []
    for pid in ids:
        for rater, answer in (("honest", "tie"), ("guesser", "A")):
            choice = answer if gold[pid] == "tie" else gold[pid]
            rows.append({"rater": rater, "pair_id": pid, "choice": choice, "confidence": 0.9})
    board = leaderboard(prepare(bank, pd.DataFrame(rows)), with_bias=False, min_n=1).set_index("rater")
    assert board.loc["honest", "raw_score"] > board.loc["guesser", "raw_score"]
    assert board.loc["honest", "accuracy"] == board.loc["guesser", "accuracy"] == 1.0


def test_report_keeps_its_fields_and_adds_split_and_tie_counts(bank, judged):
    from calibration.report import build_report, to_json, to_markdown

    prepared = prepare(bank, with_tie_answers(judged))
    plain = build_report(prepare(bank, judged), n_boot=0)
    mixed = build_report(prepared, n_boot=0)
    for old, new in zip(plain["raters"], mixed["raters"], strict=True):
        assert set(old) == set(new)  # the same fields, no field dropped or renamed
        rows = prepared[prepared["rater"] == new["rater"]]
        assert new["n_split"] == int(rows["split"].sum())
        assert new["n_tie_answers"] == int(rows["tie_answer"].sum())
        assert new["n_tie_answers_on_ties"] == int((rows["tie_answer"] & rows["tie"]).sum())
        assert new["accuracy"] == pytest.approx((rows["choice"] == rows["gold"])[~rows["tie"]].mean())
        board = leaderboard(prepared, with_bias=False).set_index("rater")
        assert new["score"] == pytest.approx(board.loc[new["rater"], "raw_score"])
    assert mixed["cohort"]["n_tie_answers"] == int(prepared["tie_answer"].sum())
    assert '"n_tie_answers"' in to_json(mixed) and to_markdown(mixed)
