"""Item statistics and the gold audit, validated on simulated cohorts with planted wrong golds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from calibration.data import prepare
from calibration.items import ITEM_COLUMNS, item_table
from calibration.simulate import RaterSpec, simulate_judgments, synthetic_bank


def cohort(bank: pd.DataFrame, *, n_raters: int, seed: int, length_bias: float = np.log(2)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    raters = [
        RaterSpec(f"r{i:03d}", skill=float(rng.uniform(0.3, 3.0)), length_bias=length_bias)
        for i in range(n_raters)
    ]
    return simulate_judgments(bank, raters, n_per_rater=len(bank), seed=seed)


def flip(bank: pd.DataFrame, ids) -> pd.DataFrame:
    out = bank.copy()
    mask = out["id"].isin(ids)
    out.loc[mask, "gold"] = out.loc[mask, "gold"].map({"A": "B", "B": "A"})
    return out


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_planted_wrong_golds_are_flagged_and_traps_are_not(seed):
    bank = synthetic_bank(120, seed=seed)
    judgments = cohort(bank, n_raters=40, seed=seed)
    wrong = list(bank["id"].sample(6, random_state=seed))
    table = item_table(prepare(flip(bank, wrong), judgments)).set_index("pair_id")
    flagged = set(table.index[table["gold_doubtful"]])
    assert len(flagged & set(wrong)) >= 5
    assert len(flagged - set(wrong)) <= 1
    # the planted length bias makes strong traps hard, but they are not taken for wrong gold
    assert table.loc[~table.index.isin(wrong), "accuracy"].min() < 0.5


@pytest.mark.slow
def test_no_flags_when_every_gold_is_right():
    flags = 0
    for seed in range(4):
        bank = synthetic_bank(100, seed=10 + seed)
        table = item_table(prepare(bank, cohort(bank, n_raters=30, seed=seed)))
        flags += int(table["gold_doubtful"].sum())
    assert flags <= 2  # of 400 pairs with the FDR at 10% and no false null: expected near 0


def test_discrimination_is_the_corrected_point_biserial_correlation():
    bank = synthetic_bank(60, seed=5)
    prepared = prepare(bank, cohort(bank, n_raters=25, seed=5, length_bias=0.0))
    table = item_table(prepared).set_index("pair_id")
    pid = table["discrimination"].dropna().index[0]
    d = prepared[~prepared["tie"]]
    rest = d[d["pair_id"] != pid].groupby("rater")["correct"].mean()
    item = d[d["pair_id"] == pid].set_index("rater")["correct"]
    expected = stats.pointbiserialr(item.to_numpy(), rest.reindex(item.index).to_numpy()).statistic
    assert table.loc[pid, "discrimination"] == pytest.approx(expected, abs=1e-12)
    # with skills that vary, items discriminate: most correlations are positive
    assert (table["discrimination"].dropna() > 0).mean() > 0.7


def test_counts_accuracy_and_wilson_interval():
    bank = synthetic_bank(10, seed=1)
    prepared = prepare(bank, cohort(bank, n_raters=8, seed=1))
    table = item_table(prepared).set_index("pair_id")
    pid = bank["id"].iloc[0]
    rows = prepared[prepared["pair_id"] == pid]
    assert table.loc[pid, "n"] == len(rows)
    assert table.loc[pid, "votes_a"] == (rows["choice"] == "A").sum()
    k, n = int(rows["correct"].sum()), len(rows)
    assert table.loc[pid, "accuracy"] == pytest.approx(k / n)
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(k, n, method="wilson")
    assert table.loc[pid, "ci_low"] == pytest.approx(low) and table.loc[pid, "ci_high"] == pytest.approx(high)


def test_degenerate_inputs_do_not_crash():
    bank = synthetic_bank(5, seed=2)
    empty = prepare(bank, pd.DataFrame(columns=["rater", "pair_id", "choice"]))
    assert list(item_table(empty).columns) == ITEM_COLUMNS and item_table(empty).empty
    one = prepare(bank, pd.DataFrame({"rater": "solo", "pair_id": bank["id"], "choice": "A"}))
    table = item_table(one)
    assert len(table) == 5 and not table["gold_doubtful"].any()
    assert table["discrimination"].isna().all()


def test_audit_p_values_are_scipy_binomial_tests():
    """The one-sided binomial test of each pair, computed for all pairs at once, is scipy's binomtest."""
    bank = synthetic_bank(120, seed=51)
    specs = [RaterSpec(f"r{i}", skill=0.5 + i / 12) for i in range(30)]
    table = item_table(prepare(bank, simulate_judgments(bank, specs, n_per_rater=80, seed=52)))
    tested = table[table["p_value"].notna()]
    assert len(tested) > 50
    for row in tested.itertuples():
        rate = min(max(row.expected_against / row.strong_n, 1e-6), 1 - 1e-6)
        expected = stats.binomtest(int(row.strong_against), int(row.strong_n), rate, alternative="greater")
        assert row.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert (table.loc[table["strong_n"] < 5, "p_value"].isna()).all()


def test_q_values_are_scipy_benjamini_hochberg():
    from calibration.items import _benjamini_hochberg

    rng = np.random.default_rng(7)
    p = rng.random(300) ** 3
    p[::17] = np.nan
    p[5:9] = p[4]  # ties
    q = _benjamini_hochberg(p)
    ok = ~np.isnan(p)
    assert np.isnan(q[~ok]).all()
    np.testing.assert_allclose(q[ok], stats.false_discovery_control(p[ok], method="bh"), rtol=1e-12)


def test_a_gold_every_rater_contradicts_is_flagged():
    """All 20 raters pick the other response: discrimination is undefined (no one was right), and
    that must not hide the clearest wrong gold there is."""
    bank = synthetic_bank(60, seed=5)
    judgments = cohort(bank, n_raters=20, seed=5)
    wrong = bank["id"].iloc[7]
    gold = bank.set_index("id").loc[wrong, "gold"]
    against = judgments["pair_id"].eq(wrong)
    judgments.loc[against, "choice"] = gold  # everyone picks the true gold, which the flip makes wrong
    table = item_table(prepare(flip(bank, [wrong]), judgments)).set_index("pair_id")
    row = table.loc[wrong]
    assert row["votes_a"] + row["votes_b"] == row["n"] and row["accuracy"] == 0.0
    assert np.isnan(row["discrimination"])
    assert row["gold_doubtful"]
