"""The realistic-rater simulator: strata, repeats and drift behave as documented."""

import numpy as np
import pytest

from calibration.data import first_answers, prepare
from calibration.people import STRATA, Person, llmbar_like_bank, simulate_people


def test_bank_strata_make_hard_pairs_short_gold():
    bank = llmbar_like_bank(2000, seed=3)
    prepared = prepare(
        bank, bank.assign(rater="x", pair_id=bank["id"], choice="A")[["rater", "pair_id", "choice"]]
    )
    gold_longer = (
        np.where(prepared["gold"] == "A", prepared["length_doublings"], -prepared["length_doublings"]) > 0
    )
    for stratum, (_, p_longer, mean_ease) in STRATA.items():
        where = (bank["source"] == stratum).to_numpy()
        assert gold_longer[where].mean() == pytest.approx(p_longer, abs=0.05)
        assert bank["easiness"][where].mean() == pytest.approx(mean_ease, abs=0.1)
    assert all(
        ("adversarial" in t) == (s == "adversarial")
        for t, s in zip(bank["tags"], bank["source"], strict=True)
    )


def test_unbiased_person_is_worse_on_hard_pairs_and_remembers_repeats():
    bank = llmbar_like_bank(1000, seed=1)
    sim = simulate_people(
        bank, [Person(f"p{i}", skill=1.0) for i in range(40)], n_per_rater=200, seed=2, repeat_share=0.2
    )
    assert 0.1 < sim["repeat"].mean() < 0.3
    prepared = prepare(bank, sim)
    hard = prepared["pair_id"].map(bank.set_index("id")["source"]).eq("adversarial").to_numpy()
    first = ~sim["repeat"].to_numpy()
    assert prepared["correct"][first & hard].mean() < prepared["correct"][first & ~hard].mean() - 0.2
    assert prepared["correct"][~first].mean() == pytest.approx(0.9, abs=0.04)
    # every repeat names a pair the rater answered before: first_answers drops exactly them
    assert len(first_answers(sim)) == int(first.sum())


def test_length_drift_moves_choices():
    bank = llmbar_like_bank(1000, seed=4)
    sim = simulate_people(
        bank, [Person(f"p{i}", length_change=1.0) for i in range(30)], n_per_rater=200, seed=5
    )
    prepared = prepare(bank, sim)
    oriented = np.where(
        prepared["choice"] == "A", prepared["length_doublings"], -prepared["length_doublings"]
    )
    early = np.tile(np.arange(200) < 100, 30)
    assert (oriented[~early] > 0).mean() > (oriented[early] > 0).mean() + 0.05
