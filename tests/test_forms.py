"""Parallel assessment forms: the split, its balance table and the counterbalanced order."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairs.bank import STARTER_BANK_PATH
from pairs.forms import (
    FORM_LABELS,
    UNEVEN,
    WELL_MATCHED,
    _closest_spread,
    _improve,
    balance_summary,
    form_balance,
    form_labels,
    form_order,
    split_forms,
)
from pairs.importers import read_bank
from pairs.probes import derive_probes
from pairs.traps import tag_traps

FANCY = "## Answer\n- **one**\n- two\n- three"  # 4 Markdown marks


def words(n: int) -> str:
    return " ".join(["word"] * n)


def synthetic_bank(n: int, seed: int = 0) -> pd.DataFrame:
    """Pairs with length and polish traps, varied tags, gold sides and a few ties."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        gold = rng.choice(["A", "B", "tie"], p=[0.47, 0.47, 0.06])
        long_words, short_words = int(rng.integers(20, 200)), int(rng.integers(3, 20))
        long_side = rng.choice(["A", "B"])
        a, b = (
            (words(long_words), words(short_words))
            if long_side == "A"
            else (words(short_words), words(long_words))
        )
        if rng.random() < 0.3:  # a formatted answer beside a plain one
            if rng.random() < 0.5:
                a = FANCY + "\n" + a
            else:
                b = FANCY + "\n" + b
        tags = tuple(t for t in ("length", "factual", "constraint", "sycophancy") if rng.random() < 0.35)
        rows.append(
            {"id": f"s{i}", "prompt": f"q{i}", "response_a": a, "response_b": b, "gold": gold, "tags": tags}
        )
    return pd.DataFrame(rows)


def random_split(bank: pd.DataFrame, n_forms: int, rng: np.random.Generator) -> pd.Series:
    labels = np.array(FORM_LABELS[:n_forms])[np.arange(len(bank)) % n_forms]
    return pd.Series(rng.permutation(labels), index=bank["id"].astype(str).to_numpy())


def worst_smd(bank: pd.DataFrame, forms: pd.Series, difficulty: pd.Series | None = None) -> float:
    return float(form_balance(bank, forms, difficulty=difficulty)["smd"].max())


def shared_llmbar() -> Path:
    """LLMBar beside the project: ``../shared/data/llmbar`` of the repository or of a folder above it.

    A git worktree kept in a subfolder (``work/wt/NAME``) finds the data of its main checkout.
    """
    root = Path(__file__).resolve().parent.parent
    for folder in (root, *root.parents):
        candidate = folder.parent / "shared" / "data" / "llmbar"
        if (candidate / "natural.json").exists():
            return candidate
    pytest.skip("../shared/data/llmbar/ is not present")


@pytest.fixture(scope="module")
def starter() -> pd.DataFrame:
    return read_bank(STARTER_BANK_PATH)


# -- split_forms ----------------------------------------------------------------------


def test_same_seed_same_forms_and_another_seed_other_forms(starter):
    first = split_forms(starter, seed=3)
    again = split_forms(starter, seed=3)
    pd.testing.assert_series_equal(first, again)
    other = split_forms(starter, seed=4)
    assert (first != other).mean() > 0.2


def test_result_is_one_label_per_pair_in_bank_order(starter):
    forms = split_forms(starter, n_forms=3)
    assert forms.index.tolist() == starter["id"].tolist()
    assert forms.index.name == "id" and forms.name == "form"
    assert set(forms) == {"X", "Y", "Z"}


@pytest.mark.parametrize(("n", "n_forms"), [(2, 2), (7, 2), (10, 3), (11, 3), (13, 4), (40, 5)])
def test_sizes_are_equal_within_one(n, n_forms):
    sizes = split_forms(synthetic_bank(n, seed=n), n_forms=n_forms).value_counts()
    assert len(sizes) == n_forms
    assert sizes.max() - sizes.min() <= 1


@pytest.mark.parametrize("n_forms", [2, 3])
def test_synthetic_bank_better_matched_than_any_of_100_random_splits(n_forms):
    bank = synthetic_bank(240, seed=7)
    ours = worst_smd(bank, split_forms(bank, n_forms=n_forms))
    rng = np.random.default_rng(1)
    random = [worst_smd(bank, random_split(bank, n_forms, rng)) for _ in range(100)]
    assert ours < min(random)
    assert ours < WELL_MATCHED


def test_starter_bank_better_matched_than_any_of_100_random_splits(starter):
    forms = split_forms(starter)
    ours = worst_smd(starter, forms)
    rng = np.random.default_rng(2)
    random = [worst_smd(starter, random_split(starter, 2, rng)) for _ in range(100)]
    assert ours < min(random)
    assert ours < 0.05  # quoted in split_forms' docstring: 0.03
    assert (form_balance(starter, forms)["verdict"].iloc[1:] == "well matched").all()


def test_llmbar_forms_are_well_matched():
    llmbar_dir = shared_llmbar()
    bank = tag_traps(
        pd.concat([read_bank(path) for path in sorted(llmbar_dir.glob("*.json"))], ignore_index=True)
    )
    assert len(bank) == 419
    for n_forms in (2, 3):
        ours = worst_smd(bank, split_forms(bank, n_forms=n_forms))
        assert ours < 0.03  # quoted in split_forms' docstring: 0.02
    rng = np.random.default_rng(0)
    random = [worst_smd(bank, random_split(bank, 2, rng)) for _ in range(50)]
    assert 0.1 < float(np.median(random)) < 0.25  # the docstring's 0.17 for 200 splits


def simulated_cohort(bank: pd.DataFrame, n_raters: int, rng: np.random.Generator) -> np.ndarray:
    """Probability each simulated rater is right on each pair (raters x pairs).

    Items have a hidden difficulty unrelated to their texts, and a length trap
    (gold shorter) makes them harder still, so much more for weak raters.
    """
    hidden = bank["hidden"].to_numpy()
    trap = bank["trap"].to_numpy()
    ability = rng.normal(1.0, 0.6, size=(n_raters, 1))
    pull = rng.uniform(0.5, 1.5, size=(n_raters, 1))
    return 1 / (1 + np.exp(-(ability - hidden - pull * trap)))


def test_cohort_easiness_makes_forms_equally_hard_for_new_raters():
    """Forms matched on easiness from one cohort are parallel for the next cohort (planted difficulty)."""
    gaps: dict[bool, list[float]] = {True: [], False: []}
    for seed in range(6):
        rng = np.random.default_rng(100 + seed)
        bank = synthetic_bank(120, seed=seed)
        bank["hidden"] = rng.normal(0, 1.2, len(bank))
        bank["trap"] = (bank["tags"].map(lambda t: "length" in t)).astype(float)
        answers = rng.random((40, len(bank))) < simulated_cohort(bank, 40, rng)
        easiness = pd.Series(answers.mean(axis=0), index=bank["id"])
        new_raters = simulated_cohort(bank, 500, rng).mean(axis=0)
        for use in (True, False):
            forms = split_forms(bank, difficulty=easiness if use else None, seed=seed).to_numpy()
            gaps[use].append(abs(new_raters[forms == "X"].mean() - new_raters[forms == "Y"].mean()))
    with_easiness, without = np.mean(gaps[True]), np.mean(gaps[False])
    # measured: 0.011 against 0.031 (the cohort's 40 answers per pair leave noise in the easiness)
    assert with_easiness < 0.02
    assert with_easiness < without / 2


def test_easiness_row_appears_only_with_cohort_data():
    bank = synthetic_bank(30)
    forms = split_forms(bank)
    assert "easiness" not in form_balance(bank, forms)["criterion"].tolist()
    unrelated = pd.Series([0.5], index=["not-in-bank"])
    assert "easiness" not in form_balance(bank, forms, difficulty=unrelated)["criterion"].tolist()
    ease = pd.Series(np.linspace(0.2, 0.9, 30), index=bank["id"])
    table = form_balance(bank, split_forms(bank, difficulty=ease), difficulty=ease).set_index("criterion")
    assert table.loc["easiness", "n"] == 30
    assert table.loc["easiness", "smd"] < WELL_MATCHED


def test_some_pairs_without_easiness_are_still_split():
    bank = synthetic_bank(40)
    ease = pd.Series(np.linspace(0.1, 0.9, 10), index=bank["id"][:10])
    forms = split_forms(bank, difficulty=ease)
    assert forms.value_counts().to_dict() == {"X": 20, "Y": 20}
    assert forms[ease.index].value_counts().to_dict() == {"X": 5, "Y": 5}  # measured pairs shared out
    row = form_balance(bank, forms, difficulty=ease).set_index("criterion").loc["easiness"]
    assert row["n"] == 10
    assert row["smd"] < UNEVEN


def test_probes_stay_with_their_base(starter):
    probes = derive_probes(starter, ("polish", "padding"), seed=0)
    bank = pd.concat([starter, probes], ignore_index=True)
    forms = split_forms(bank, n_forms=3)
    is_probe = bank["probe"].fillna("") != ""
    base_form = forms[bank.loc[is_probe, "probe_of"].to_numpy()].to_numpy()
    assert is_probe.sum() > 50
    assert (forms[bank.loc[is_probe, "id"].to_numpy()].to_numpy() == base_form).all()
    sizes = forms.value_counts()
    assert sizes.max() - sizes.min() <= 1
    table = form_balance(bank, forms).set_index("criterion")
    assert table.loc["probe", "smd"] < WELL_MATCHED


def test_probes_of_a_base_outside_the_bank_stay_together():
    bank = synthetic_bank(6)
    bank["probe"] = ["polish", "padding", "", "", "", ""]
    bank["probe_of"] = ["elsewhere", "elsewhere", "", "", "", ""]
    forms = split_forms(bank, n_forms=2)
    assert forms["s0"] == forms["s1"]


def test_pairs_asking_the_same_prompt_share_a_form():
    bank = synthetic_bank(40)
    bank.loc[3, "prompt"] = "Name  a PRIME number."
    bank.loc[17, "prompt"] = "name a prime number. "
    bank.loc[30, "prompt"] = "Name a prime number."
    for seed in range(5):
        forms = split_forms(bank, seed=seed)
        assert forms["s3"] == forms["s17"] == forms["s30"]
        assert sorted(forms.value_counts()) == [20, 20]


def test_groups_join_through_probes_and_prompts_alike():
    bank = synthetic_bank(12)
    bank["probe"] = [""] * 10 + ["polish", "padding"]
    bank["probe_of"] = [""] * 10 + ["s0", "elsewhere"]
    bank.loc[10, "prompt"] = "probe prompt"  # joins s0 through its base
    bank.loc[5, "prompt"] = bank.loc[0, "prompt"]  # joins s0 through the prompt
    bank.loc[11, "prompt"] = bank.loc[7, "prompt"]  # a probe of an absent base joins s7 through the prompt
    forms = split_forms(bank, n_forms=2)
    assert forms["s0"] == forms["s5"] == forms["s10"]
    assert forms["s7"] == forms["s11"]


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(min_value=4, max_value=80),
    n_forms=st.integers(min_value=2, max_value=4),
    seed=st.integers(0, 99),
)
def test_the_swap_pass_never_makes_the_deal_worse(n, n_forms, seed):
    rng = np.random.default_rng(seed)
    sums = rng.normal(size=(n, 5))
    sizes = rng.choice([1, 1, 1, 2, 3], size=n)
    assign = np.arange(n) % n_forms
    load = np.bincount(assign, weights=sizes, minlength=n_forms)

    def worst(a: np.ndarray) -> float:
        means = np.stack([sums[a == f].sum(axis=0) for f in range(n_forms)]) / load[:, None]
        return float((means.max(axis=0) - means.min(axis=0)).max())

    improved = _improve(sums, sizes, assign, n_forms, np.random.default_rng(seed))
    assert worst(improved) <= worst(assign) + 1e-12
    assert np.array_equal(np.bincount(improved, weights=sizes, minlength=n_forms), load)  # sizes kept


def test_ties_are_spread_over_the_forms():
    bank = synthetic_bank(60, seed=3)
    bank.loc[:11, "gold"] = "tie"
    forms = split_forms(bank)
    ties = forms[bank["gold"].eq("tie").to_numpy()].value_counts()
    assert bank["gold"].eq("tie").sum() == 13
    assert sorted(ties.to_dict().values()) == [6, 7]


def test_a_bank_with_one_tag_only():
    bank = synthetic_bank(20)
    bank["tags"] = [("factual",)] * 20
    forms = split_forms(bank)
    table = form_balance(bank, forms).set_index("criterion")
    assert table.loc["tag:factual", "smd"] == 0.0
    assert table.loc["tag:factual", "verdict"] == "well matched"


def test_one_form_takes_every_pair():
    bank = synthetic_bank(5)
    assert split_forms(bank, n_forms=1).tolist() == ["X"] * 5


def test_fewer_pairs_than_forms():
    with pytest.raises(ValueError, match=re.escape("The bank has 2 pairs: too few to split into 3 forms.")):
        split_forms(synthetic_bank(2), n_forms=3)
    with pytest.raises(ValueError, match=re.escape("The bank has 0 pairs: too few to split into 2 forms.")):
        split_forms(synthetic_bank(1).iloc[:0])


def test_fewer_groups_than_forms_once_probes_stay_with_their_base():
    bank = synthetic_bank(3)
    bank["probe"] = ["", "polish", ""]
    bank["probe_of"] = ["", "s0", ""]
    with pytest.raises(
        ValueError, match=re.escape("3 pairs (2 once probes and repeated prompts are kept together)")
    ):
        split_forms(bank, n_forms=3)


@pytest.mark.parametrize(
    ("n_forms", "message"),
    [
        (0, "n_forms must be from 1 to 26, got 0."),
        (27, "n_forms must be from 1 to 26, got 27."),
        (2.0, "n_forms must be a whole number, got 2.0."),
        (True, "n_forms must be a whole number, got True."),
    ],
)
def test_bad_n_forms(n_forms, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        split_forms(synthetic_bank(4), n_forms=n_forms)


def test_bad_banks_and_difficulty():
    bank = synthetic_bank(4)
    with pytest.raises(ValueError, match=re.escape("The bank lacks column(s) gold, tags.")):
        split_forms(bank.drop(columns=["gold", "tags"]))
    with pytest.raises(ValueError, match=re.escape("The bank's ids must be unique; 's0' repeats.")):
        split_forms(bank.assign(id=["s0", "s0", "s1", "s2"]))
    with pytest.raises(ValueError, match=re.escape("difficulty must hold numbers")):
        split_forms(bank, difficulty=pd.Series(["easy"] * 4, index=bank["id"]))
    with pytest.raises(ValueError, match=re.escape("difficulty must hold numbers")):
        split_forms(bank, difficulty=pd.Series([True] * 4, index=bank["id"]))
    with pytest.raises(ValueError, match=re.escape("difficulty names pair 's1' more than once.")):
        split_forms(bank, difficulty=pd.Series([0.5, 0.6], index=["s1", "s1"]))
    as_text = split_forms(bank, difficulty=pd.Series(["0.9", "0.1", None, "0.5"], index=bank["id"]))
    as_numbers = split_forms(bank, difficulty=pd.Series([0.9, 0.1, np.nan, 0.5], index=bank["id"]))
    pd.testing.assert_series_equal(as_text, as_numbers)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=3, max_value=60),
    n_forms=st.integers(min_value=2, max_value=3),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_any_bank_every_pair_one_form_sizes_within_one_same_again(n, n_forms, seed):
    bank = synthetic_bank(n, seed=seed)
    forms = split_forms(bank, n_forms=n_forms, seed=seed)
    assert forms.index.tolist() == bank["id"].tolist()
    sizes = forms.value_counts()
    assert len(sizes) == n_forms and sizes.max() - sizes.min() <= 1
    pd.testing.assert_series_equal(forms, split_forms(bank, n_forms=n_forms, seed=seed))


# -- form_balance ---------------------------------------------------------------------


def test_balance_table_matches_a_hand_computed_standardized_difference():
    bank = synthetic_bank(50, seed=5)
    forms = pd.Series(np.where(np.arange(50) < 25, "X", "Y"), index=bank["id"])
    table = form_balance(bank, forms).set_index("criterion")
    gold_a = (bank["gold"] == "A").to_numpy(float)
    expected = abs(gold_a[:25].mean() - gold_a[25:].mean()) / gold_a.std()
    assert table.loc["gold_a", "smd"] == pytest.approx(expected)
    assert table.loc["gold_a", "X"] == pytest.approx(gold_a[:25].mean())
    assert table.loc["size", ["X", "Y"]].tolist() == [25, 25]
    assert table.loc["size", "verdict"] == "equal sizes"
    assert list(table.columns) == ["label", "kind", "X", "Y", "n", "smd", "closest", "verdict"]


def test_balance_verdicts_name_the_form_with_more():
    bank = synthetic_bank(8)
    bank["tags"] = [("length",)] * 3 + [()] * 5
    bank["gold"] = ["A"] * 8
    forms = pd.Series(list("XXXXYYYY"), index=bank["id"])
    table = form_balance(bank, forms).set_index("criterion")
    assert table.loc["tag:length", "verdict"] == "uneven: form X has more pairs tagged length (75% vs 0%)"
    assert table.loc["tag:length", "smd"] >= UNEVEN
    assert table.loc["gold_a", "verdict"] == "well matched"  # does not vary: SMD 0
    forms = pd.Series(list("XXXYYYYY"), index=bank["id"])
    assert (
        form_balance(bank, forms).set_index("criterion").loc["size", "verdict"] == "sizes differ by 2 pairs"
    )


def test_balance_of_pairs_left_out_of_any_form():
    bank = synthetic_bank(6)
    table = form_balance(bank, pd.Series({"s0": "X", "s1": "Y", "s2": ""})).set_index("criterion")
    assert table.loc["size", ["X", "Y", "n"]].tolist() == [1, 1, 2]
    with pytest.raises(ValueError, match=re.escape("forms names 1 pair(s) not in the bank, e.g. 'zz'.")):
        form_balance(bank, pd.Series({"s0": "X", "zz": "Y"}))
    with pytest.raises(ValueError, match=re.escape("forms gives no pair of the bank a form.")):
        form_balance(bank, pd.Series({"s0": ""}))


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=7), min_size=2, max_size=3),
    data=st.data(),
)
def test_closest_spread_is_the_least_over_every_allocation(sizes, data):
    count = data.draw(st.integers(min_value=0, max_value=sum(sizes)))
    spreads = [
        max(c / n for c, n in zip(alloc, sizes, strict=True))
        - min(c / n for c, n in zip(alloc, sizes, strict=True))
        for alloc in itertools.product(*(range(n + 1) for n in sizes))
        if sum(alloc) == count
    ]
    assert _closest_spread(count, sizes) == pytest.approx(min(spreads))


def test_a_difference_the_counts_force_is_said_to_be_so():
    bank = synthetic_bank(30)
    bank["gold"] = ["tie"] * 3 + ["A"] * 27
    table = form_balance(bank, split_forms(bank)).set_index("criterion")
    assert table.loc["tie", "smd"] == pytest.approx(table.loc["tie", "closest"])
    assert table.loc["tie", "smd"] > WELL_MATCHED
    assert re.fullmatch(
        r"as close as the bank allows: form [XY] has more ties \(2 of 15 vs 1 of 15\)",
        table.loc["tie", "verdict"],
    )
    summary = balance_summary(form_balance(bank, split_forms(bank)))
    assert "more differ only as far as the bank's counts force" in summary


def test_summary_of_well_matched_and_of_uneven_forms(starter):
    text = balance_summary(form_balance(starter, split_forms(starter)))
    assert re.fullmatch(
        r"Forms X and Y \(256 and 256 pairs\) are well matched on all 17 criteria "
        r"\(largest standardized difference 0\.0\d\)\.",
        text,
    )
    forms = pd.Series(np.where(starter["tags"].map(lambda t: "length" in t), "X", "Y"), index=starter["id"])
    text = balance_summary(form_balance(starter, forms))
    assert "tagged length: uneven: form X has more pairs tagged length (100% vs 0%)" in text
    assert text.startswith("Forms X and Y (")
    one = balance_summary(form_balance(starter, pd.Series("X", index=starter["id"])))
    assert one == "One form, X, of 512 pairs: nothing to match."


# -- form_order -----------------------------------------------------------------------


@pytest.mark.parametrize("n_forms", [2, 3, 4, 5])
def test_order_is_a_latin_square_balanced_for_carry_over(n_forms):
    stages = [f"s{i}" for i in range(n_forms)]
    block = 2 * n_forms if n_forms % 2 else n_forms
    orders = [form_order(r, n_forms, stages) for r in range(block)]
    labels = set(form_labels(n_forms))
    for order in orders:  # each rater takes every form once
        assert set(order.values()) == labels
    for stage in stages:  # every form equally often at every stage
        assert set(Counter(o[stage] for o in orders).values()) == {block // n_forms}
    follows = Counter((o[a], o[b]) for o in orders for a, b in itertools.pairwise(stages))
    assert len(follows) == n_forms * (n_forms - 1)  # every form follows every other ...
    assert len(set(follows.values())) == 1  # ... equally often
    assert [form_order(r + block, n_forms, stages) for r in range(block)] == orders


def test_half_the_raters_take_x_first_and_retention_repeats_the_baseline():
    firsts = Counter(form_order(r)["pre"] for r in range(10))
    assert firsts == {"X": 5, "Y": 5}
    for r in range(10):
        order = form_order(r)
        assert order["pre"] != order["post"]
        assert order["retention"] == order["pre"]
    assert len(set(form_order(0, 3).values())) == 3


def test_order_rejects_bad_input():
    with pytest.raises(ValueError, match=re.escape("rater_index must be a whole number >= 0, got -1.")):
        form_order(-1)
    with pytest.raises(ValueError, match=re.escape("stages must not repeat")):
        form_order(0, 2, ("pre", "pre"))
    with pytest.raises(ValueError, match=re.escape("n_forms must be from 1 to 26, got 0.")):
        form_order(0, 0)
    assert form_order(3, 1) == {"pre": "X", "post": "X", "retention": "X"}


def test_counterbalanced_order_cancels_a_harder_form_out_of_the_change():
    """No learning, but form Y is harder: raters all taking X first would seem to get worse."""
    rng = np.random.default_rng(11)
    hardness = {"X": 0.0, "Y": 0.6}  # in logits, on top of each pair's own difficulty
    ability = rng.normal(1.0, 0.7, 60)
    items = rng.normal(0, 1, 40)

    def accuracy(rater: int, form: str) -> float:
        return float(np.mean(1 / (1 + np.exp(-(ability[rater] - items - hardness[form])))))

    def mean_change(order) -> float:
        return float(
            np.mean([accuracy(r, order(r)["post"]) - accuracy(r, order(r)["pre"]) for r in range(60)])
        )

    fixed = mean_change(lambda r: {"pre": "X", "post": "Y"})
    balanced = mean_change(lambda r: form_order(r, 2, ("pre", "post")))
    assert fixed < -0.08  # a spurious drop of 11 points (measured: -0.114; counterbalanced: +0.003)
    assert abs(balanced) < 0.1 * abs(fixed)
