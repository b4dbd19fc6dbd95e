"""Counterfactual probes: the probe test, the swap figure, the report, and their validity.

The p-values and intervals are checked against scipy's and statsmodels'
reference functions; the test's validity and power against simulated raters
who behave like people (hard items, fatigue, memory, confounds; the study of
``bench/probe_power.py``, smaller here), and the report against a bank with
probe rows built per the probe contract.
"""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from bench.probe_power import flagged
from calibration.bias import bias_by_rater, plain_rates
from calibration.data import first_answers, ordinary_mask, prepare
from calibration.intervals import clopper_pearson_interval
from calibration.probes import (
    PROBE_RATE_COLUMNS,
    fisher_greater,
    probe_objects,
    probe_rates,
    probe_rates_of,
    probe_verdict,
    swap_consistency,
)
from calibration.render import to_html, to_markdown
from calibration.report import build_report, to_json
from calibration.simulate import RaterSpec, simulate_judgments, synthetic_bank
from cli.calibration import main
from pairs.bank import bank_to_records
from pairs.judgments import to_csv

TRAP = {"polish": "polish", "padding": "length", "authority": "authority"}
PADDING = " It is worth noting that, all things considered, this matters in many ways overall."


def restyle(text: str, kind: str) -> str:
    """The styled copy of a response: more formatting (polish) or content-free length (padding)."""
    if kind == "polish":
        return f"## Answer\n\n**Summary.** {text}\n\n- **Key point** one\n- **Key point** two"
    if kind == "padding":
        return text + PADDING * 4
    return text + " Leading experts agree with this answer."


def add_probes(bank: pd.DataFrame, kinds=("polish", "padding"), n_bases: int | None = None) -> pd.DataFrame:
    """The bank with probe rows per the probe contract, the styled copy gold in half of each kind."""
    bank = bank.assign(probe="", probe_of="", styled="")
    bases = bank[bank["gold"].isin(["A", "B"])]
    if n_bases is not None:
        bases = bases.head(n_bases)
    rows = []
    for i, base in enumerate(bases.to_dict("records")):
        kind = kinds[i % len(kinds)]
        styled_is_gold = (i // len(kinds)) % 2 == 0
        letter = base["gold"] if styled_is_gold else ("B" if base["gold"] == "A" else "A")
        row = dict(base)
        row[f"response_{letter.lower()}"] = restyle(base[f"response_{letter.lower()}"], kind)
        row.update(
            id=f"{base['id']}~{kind}",
            probe=kind,
            probe_of=base["id"],
            styled=letter,
            rationale=f"Probe of {base['id']}: response {letter} restyled ({kind}); nothing else changed.",
            tags=tuple(base["tags"]) + (TRAP[kind],),
        )
        rows.append(row)
    return pd.concat([bank, pd.DataFrame(rows)], ignore_index=True)


@pytest.fixture(scope="module")
def probe_bank():
    return add_probes(synthetic_bank(160, seed=3, tie_share=0.05))


@pytest.fixture(scope="module")
def cohort(probe_bank):
    raters = [
        RaterSpec("sim-polish", skill=1.2, polish_bias=float(np.log(6.0))),
        RaterSpec("sim-fair", skill=1.5),
        RaterSpec("sim-long", skill=1.2, length_bias=float(np.log(3.0))),
    ]
    return simulate_judgments(probe_bank, raters, n_per_rater=len(probe_bank), seed=5)


# --------------------------------------------------------------------------- the contract's bank


def test_the_fixture_follows_the_contract(probe_bank):
    probes = probe_bank[probe_bank["probe"] != ""]
    base = probe_bank.set_index("id").loc[probes["probe_of"]]
    assert (probes["id"] == probes["probe_of"] + "~" + probes["probe"]).all()
    assert (probes["gold"].to_numpy() == base["gold"].to_numpy()).all()
    # counterbalanced: styled is the gold response in half of each kind's probes
    for _, group in probes.groupby("probe"):
        assert abs((group["styled"] == group["gold"]).mean() - 0.5) <= 0.05


def test_prepare_carries_the_probe_columns_and_defaults_them(probe_bank, cohort):
    prepared = prepare(probe_bank, cohort)
    probe = prepared["pair_id"].str.contains("~")
    assert set(prepared.loc[probe, "probe"]) == {"polish", "padding"}
    assert (prepared.loc[~probe, ["probe", "probe_of", "styled"]] == "").all().all()
    plain = prepare(
        synthetic_bank(20, seed=1),
        simulate_judgments(synthetic_bank(20, seed=1), [RaterSpec("a")], n_per_rater=5, seed=1),
    )
    assert (plain[["probe", "probe_of", "styled"]] == "").all().all()
    assert ordinary_mask(plain).all()
    # a bank that has the columns, empty everywhere (every bank before probes), has no probes either
    bank = synthetic_bank(20, seed=1)
    judged = simulate_judgments(bank, [RaterSpec("a")], n_per_rater=5, seed=1)
    empty = prepare(bank.assign(probe="", probe_of="", styled=None), judged)
    assert (empty[["probe", "probe_of", "styled"]] == "").all().all() and ordinary_mask(empty).all()


def test_probes_stay_out_of_the_bias_model_but_count_in_accuracy(probe_bank, cohort):
    prepared = prepare(probe_bank, cohort)
    ordinary = prepared[ordinary_mask(prepared)]
    decided_sided = ordinary[~ordinary["tie"] & (ordinary["choice"] != "tie")]
    bias = bias_by_rater(prepared)
    expected = decided_sided.groupby("rater").size()
    for row in bias[bias["effect"] == "length"].itertuples():
        assert row.n == expected[row.rater]
    # the fit is the fit of the ordinary pairs alone
    pd.testing.assert_frame_equal(bias, bias_by_rater(ordinary))
    pd.testing.assert_frame_equal(plain_rates(prepared), plain_rates(ordinary))
    report = build_report(prepared, rater="sim-fair", n_boot=50)
    assert report["n"] == int((prepared["rater"] == "sim-fair").sum())  # probes included


# --------------------------------------------------------------------------- the probe test


def random_table(rng, n_raters=60):
    """Probe answers of raters of varied accuracy and pull, unbalanced splits included."""
    rows = []
    for r in range(n_raters):
        n = int(rng.integers(1, 30))
        share = rng.uniform(0.1, 0.9)
        for kind in ("polish", "padding", "authority")[: int(rng.integers(1, 4))]:
            styled_gold = rng.random(n) < share
            logit = rng.uniform(0, 2) + rng.uniform(-1, 2) * np.where(styled_gold, 1, -1)
            picked_gold = rng.random(n) < 1 / (1 + np.exp(-logit))
            gold = np.where(rng.random(n) < 0.5, "A", "B")
            other = np.where(gold == "A", "B", "A")
            rows.append(
                pd.DataFrame(
                    {
                        "rater": f"r{r}",
                        "choice": np.where(picked_gold, gold, other),
                        "gold": gold,
                        "probe": kind,
                        "styled": np.where(styled_gold, gold, other),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def test_p_values_are_scipys_one_sided_fisher_and_intervals_are_exact():
    frame = random_table(np.random.default_rng(0))
    out = probe_rates_of(frame)
    assert list(out.columns) == PROBE_RATE_COLUMNS
    tested = 0
    for row in out.itertuples():
        # the cells from the frame itself, not from the output
        cell = frame[(frame["rater"] == row.rater) & (frame["probe"] == row.kind)]
        sg = cell["styled"] == cell["gold"]
        pg = cell["choice"] == cell["gold"]
        table = [
            [int((sg & pg).sum()), int((sg & ~pg).sum())],
            [int((~sg & pg).sum()), int((~sg & ~pg).sum())],
        ]
        assert row.n == len(cell) and row.picked_styled == table[0][0] + table[1][1]
        ci = stats.binomtest(row.picked_styled, row.n).proportion_ci(method="exact")
        assert row.ci_low == pytest.approx(ci.low, abs=1e-9) and row.ci_high == pytest.approx(
            ci.high, abs=1e-9
        )
        low, high = proportion_confint(row.picked_styled, row.n, method="beta")
        assert row.ci_low == pytest.approx(low, abs=1e-9) and row.ci_high == pytest.approx(high, abs=1e-9)
        if min(sum(table[0]), sum(table[1])) == 0:
            assert np.isnan(row.p_value)
            continue
        tested += 1
        assert row.p_value == pytest.approx(stats.fisher_exact(table, alternative="greater").pvalue, rel=1e-9)
    assert tested > 50


def test_holm_over_each_raters_kinds_matches_statsmodels():
    out = probe_rates_of(random_table(np.random.default_rng(1)))
    for _, group in out.groupby("rater"):
        p = group["p_value"].dropna()
        if p.empty:
            assert not group["significant"].any()
            continue
        reject, adjusted, *_ = multipletests(p.to_numpy(), alpha=0.05, method="holm")
        np.testing.assert_allclose(group.loc[p.index, "p_adjusted"], adjusted, rtol=1e-12)
        assert (group.loc[p.index, "significant"].to_numpy() == reject).all()


def test_fisher_greater_against_scipy_on_every_small_table():
    tables = [(a, b, c, d) for a in range(4) for b in range(4) for c in range(4) for d in range(4)]
    got = fisher_greater(*np.array(tables).T)
    for t, p in zip(tables, got, strict=True):
        if t[0] + t[1] == 0 or t[2] + t[3] == 0:
            assert np.isnan(p)
        else:
            assert p == pytest.approx(
                stats.fisher_exact([t[:2], t[2:]], alternative="greater").pvalue, rel=1e-9
            )


def test_clopper_pearson_matches_scipy_at_the_edges():
    k = np.array([0, 1, 5, 9, 10, 0, 37])
    n = np.array([10, 10, 10, 10, 10, 1, 80])
    low, high = clopper_pearson_interval(k, n)
    for i in range(len(k)):
        ci = stats.binomtest(int(k[i]), int(n[i])).proportion_ci(method="exact")
        assert (low[i], high[i]) == pytest.approx((ci.low, ci.high), abs=1e-10)
    assert np.isnan(clopper_pearson_interval(0, 0)[0])


def test_first_answers_only_and_ties_left_out(probe_bank):
    probe_ids = probe_bank.loc[probe_bank["probe"] == "polish", "id"].tolist()[:6]
    gold = probe_bank.set_index("id").loc[probe_ids, "gold"].tolist()
    j = pd.DataFrame(
        {
            "rater": "r",
            "pair_id": probe_ids + probe_ids[:2],
            "choice": gold[:5] + ["tie"] + ["B" if g == "A" else "A" for g in gold[:2]],
            "answered_at": pd.date_range("2025-01-01", periods=8, freq="h", tz="UTC"),
        }
    )
    out = probe_rates(probe_bank, j)
    assert out["n"].tolist() == [5]  # the tie answer and the two repeats are left out
    assert out["picked_gold"].tolist() == [5]
    no_probes = probe_bank.drop(columns=["probe", "probe_of", "styled"])
    assert probe_rates(no_probes, j).empty
    cohort = probe_rates(probe_bank, pd.concat([j, j.assign(rater="s")]), by=None)
    assert cohort["rater"].tolist() == ["cohort"] and cohort["n"].tolist() == [10]
    with pytest.raises(ValueError, match="by must be"):
        probe_rates(probe_bank, j, by="pair")


def test_summary_reads_as_in_the_issue():
    frame = pd.DataFrame(
        {
            "rater": "r",
            "choice": ["A"] * 7 + ["B"] * 2,
            "gold": ["A"] * 4 + ["B"] * 5,
            "probe": "polish",
            "styled": "A",
        }
    )
    # styled is always A: picked it 7 of 9 times
    row = probe_rates_of(frame).iloc[0]
    assert row["summary"].startswith(
        "In 7 of 9 pairs where only the formatting changed, you picked the formatted copy "
        "(78%, 95% CI 40% to 97%); without a pull toward formatting about"
    )
    assert " %" not in row["summary"]


# --------------------------------------------------------------------------- validity with people-like raters


def test_the_test_holds_its_level_for_an_accurate_rater_with_unbalanced_probes():
    # A naive test of "picked the styled copy more than half the time" flags skill: an accurate
    # rater whose probes mostly have the style on the gold copy picks it often without any pull.
    rng = np.random.default_rng(7)
    n_raters, n = 400, 20
    styled_gold = np.tile(np.arange(n) < 16, (n_raters, 1))  # 16 of 20 on the gold copy
    picked_gold = rng.random((n_raters, n)) < 0.9  # accurate, no pull
    gold = np.full((n_raters, n), "A")
    frame = pd.DataFrame(
        {
            "rater": np.repeat([f"r{i}" for i in range(n_raters)], n),
            "choice": np.where(picked_gold, "A", "B").ravel(),
            "gold": gold.ravel(),
            "probe": "polish",
            "styled": np.where(styled_gold, "A", "B").ravel(),
        }
    )
    out = probe_rates_of(frame)
    naive = np.mean(
        [stats.binomtest(int(k), n, 0.5, alternative="greater").pvalue < 0.05 for k in out["picked_styled"]]
    )
    assert naive > 0.5
    assert out["significant"].mean() <= 0.05
    # expected without a pull: 16/20 x accuracy + 4/20 x (1 - accuracy), 74% at 90% accuracy
    assert out["expected"].mean() == pytest.approx(0.8 * 0.9 + 0.2 * 0.1, abs=0.01)


def test_unbiased_people_like_raters_are_rarely_flagged():
    probes, model, _ = flagged(40, 400, 0.0, seed=21)
    low, high = clopper_pearson_interval(probes, 400)
    assert probes / 400 <= 0.05 and low < 0.05
    assert model / 400 <= 0.06  # the model's one-sided flag, for comparison


def test_probes_find_a_planted_pull_at_smaller_n_than_the_model():
    n_raters = 100
    power = {n: flagged(n, n_raters, 1.4, seed=30 + n) for n in (20, 40)}
    # at 20 the model gives no verdict (it needs 30 judgments); the probes already find a third of them
    assert power[20][1] == 0 and power[20][0] / n_raters > 0.25
    # at 40 both can answer; the probes find more
    assert power[40][0] > power[40][1] + 10
    assert power[40][0] > power[40][2]  # the model's one-sided 5% test too: not only the level
    weak = flagged(40, n_raters, 0.7, seed=77)
    assert weak[0] >= weak[1]


# --------------------------------------------------------------------------- swaps


def swap_frame():
    """r answers p, q, s twice with the sides swapped, t twice on the same side, u once."""
    return pd.DataFrame(
        {
            "rater": ["r"] * 10 + ["w", "w"],
            "pair_id": ["p", "p", "q", "q", "s", "s", "t", "t", "u", "s", "p", "p"],
            "choice": ["A", "A", "A", "B", "B", "A", "A", "B", "A", "A", "A", "tie"],
            "left": ["A", "B", "A", "B", "A", "B", "A", "A", "A", "A", "A", "B"],
            "answered_at": pd.to_datetime(
                [f"2025-01-01 0{i}:00" for i in range(10)] + ["2025-01-02 01:00", "2025-01-02 00:00"],
                utc=True,
            ),
        }
    )


def test_swap_consistency_counts_and_position():
    out = swap_consistency(swap_frame())
    row = out.set_index("rater").loc["r"]
    # p: same (A, A); q: changed, A shown first then B shown first -> picked the first shown both times;
    # s: first answer B with A on the left, then A with B on the left -> the second shown both times
    assert (row["n"], row["consistent"], row["n_inconsistent"], row["followed_first"]) == (3, 1, 2, 1)
    ci = stats.binomtest(1, 3).proportion_ci(method="exact")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))
    # w's first answer (by time) is the tie: the pair has no side to compare, left out
    assert "w" not in set(out["rater"])
    assert swap_consistency(swap_frame(), by=None)["n"].tolist() == [3]
    assert "picked the same response 1 time (33%" in row["summary"]


def test_swap_consistency_recovers_a_planted_rate():
    # raters who repeat their answer with probability q, and otherwise answer afresh at 70/30 for A
    rng = np.random.default_rng(3)
    q, n_raters, n_pairs = 0.6, 200, 20
    first = np.where(rng.random((n_raters, n_pairs)) < 0.7, "A", "B")
    fresh = np.where(rng.random((n_raters, n_pairs)) < 0.7, "A", "B")
    again = np.where(rng.random((n_raters, n_pairs)) < q, first, fresh)
    left = np.where(rng.random((n_raters, n_pairs)) < 0.5, "A", "B")
    rater = np.repeat([f"r{i}" for i in range(n_raters)], n_pairs)
    pair = np.tile([f"p{i}" for i in range(n_pairs)], n_raters)
    frame = pd.concat(
        [
            pd.DataFrame({"rater": rater, "pair_id": pair, "choice": first.ravel(), "left": left.ravel()}),
            pd.DataFrame(
                {
                    "rater": rater,
                    "pair_id": pair,
                    "choice": again.ravel(),
                    "left": np.where(left == "A", "B", "A").ravel(),
                }
            ),
        ],
        ignore_index=True,
    )
    out = swap_consistency(frame)
    truth = q + (1 - q) * (0.7**2 + 0.3**2)
    covered = ((out["ci_low"] <= truth) & (truth <= out["ci_high"])).mean()
    assert covered >= 0.95
    assert swap_consistency(frame, by=None)["rate"].iloc[0] == pytest.approx(truth, abs=0.02)


# --------------------------------------------------------------------------- the report


def test_probe_objects_shape_and_the_report_json(probe_bank, cohort):
    answers = pd.concat(
        [
            cohort,
            cohort[cohort["rater"] == "sim-fair"]
            .head(30)
            .assign(
                left=lambda f: np.where(f["left"] == "A", "B", "A"),
                answered_at=lambda f: pd.to_datetime(f["answered_at"]) + pd.Timedelta(days=400),
            ),
        ],
        ignore_index=True,
    )
    prepared = prepare(probe_bank, first_answers(answers))
    report = build_report(prepared, n_boot=50, answers=answers)
    json.loads(to_json(report))  # strict JSON: no NaN
    raters = {r["rater"]: r for r in report["raters"]}
    for r in raters.values():
        assert set(r["probes"]) <= {"polish", "padding", "authority", "swap"}
        for kind in ("polish", "padding"):
            assert set(r["probes"][kind]) == {
                "n",
                "picked_styled",
                "rate",
                "ci_low",
                "ci_high",
                "expected",
                "p_value",
                "significant",
                "summary",
            }
    assert set(raters["sim-fair"]["probes"]["swap"]) == {
        "n",
        "consistent",
        "rate",
        "ci_low",
        "ci_high",
        "summary",
    }
    assert raters["sim-fair"]["probes"]["swap"]["n"] == 30
    assert "swap" not in raters["sim-polish"]["probes"]
    assert raters["sim-polish"]["probes"]["polish"]["significant"]
    assert not raters["sim-fair"]["probes"]["polish"]["significant"]
    assert set(report["cohort"]["probes"]) == {"polish", "padding", "swap"}
    assert report["cohort"]["probes"]["polish"]["n"] == sum(
        r["probes"]["polish"]["n"] for r in raters.values()
    )
    # the verdict weighs the probes against the model
    assert any(line.startswith("The probes") for line in raters["sim-polish"]["verdict"])
    one = build_report(prepared, rater="sim-fair", n_boot=50, answers=answers)
    # the same numbers, whether the rater is reported alone or in the cohort (to rounding: the
    # fits sum in another order)
    cohort_probes = raters["sim-fair"]["probes"]
    assert one["probes"].keys() == cohort_probes.keys()
    for kind, fields in one["probes"].items():
        assert fields.keys() == cohort_probes[kind].keys()
        for name, value in fields.items():
            expected = cohort_probes[kind][name]
            assert value == (pytest.approx(expected, rel=1e-12) if isinstance(value, float) else expected)
    # renderers
    md, page = to_markdown(report), to_html(report)
    assert "### Probes" in md and "### Cohort probes" in md and "<h3>Probes</h3>" in page
    assert html.escape(raters["sim-polish"]["probes"]["polish"]["summary"]) in page
    assert " %" not in md


def test_a_report_without_probes_has_empty_probe_objects():
    bank = synthetic_bank(60, seed=2)
    judgments = simulate_judgments(bank, [RaterSpec("a"), RaterSpec("b")], n_per_rater=40, seed=2)
    report = build_report(prepare(bank, judgments), n_boot=20)
    assert all(r["probes"] == {} for r in report["raters"]) and report["cohort"]["probes"] == {}
    assert "Probes" not in to_markdown(report) and "Probes" not in to_html(report)
    assert not any("probes" in line for r in report["raters"] for line in r["verdict"])


def test_verdict_sentences():
    pull = {"estimable": True, "significant": True, "odds_ratio": 1.8}
    none = {"estimable": True, "significant": False, "odds_ratio": 1.1}
    found = {"n": 20, "significant": True}
    clean = {"n": 20, "significant": False, "rate": 0.5, "ci_low": 0.44, "ci_high": 0.56, "expected": 0.5}
    unsure = {**clean, "ci_low": 0.3, "ci_high": 0.72}  # few answers: a pull of 20 points fits too
    assert probe_verdict({"polish": found}, {"polish": pull}) == [
        "The probes agree with the model: you favour formatted answers."
    ]
    assert probe_verdict({"padding": clean}, {"length": pull}) == [
        "The probes do not show the pull toward longer answers the model suggests, and their interval "
        "leaves little room for one; the probes hold everything else fixed, so trust them more."
    ]
    assert probe_verdict({"padding": unsure}, {"length": pull}) == [
        "The model finds a pull toward longer answers that the probes do not confirm yet: their interval "
        "still allows it. More probe answers will tell."
    ]
    assert probe_verdict({"padding": clean}, {"length": none}) == [
        "The probes agree with the model: no clear pull toward longer answers."
    ]
    assert "too few" in probe_verdict({"polish": {"n": 4, "significant": False}}, {"polish": pull})[0]
    assert probe_verdict({}, {"polish": pull}) == []
    assert probe_verdict({"polish": found}, {"polish": none}, you=False)[0].startswith(
        "The probes show a pull toward formatted answers that the model does not"
    )


def test_probe_objects_leave_out_empty_kinds():
    rates = probe_rates_of(
        pd.DataFrame({"rater": "r", "choice": ["A"], "gold": ["A"], "probe": "padding", "styled": ["A"]})
    )
    assert set(probe_objects(rates)["r"]) == {"padding"}
    assert probe_objects(rates.iloc[:0]) == {}


def test_the_cli_report_passes_repeats_for_the_swap_figure(tmp_path, capsys):
    bank = synthetic_bank(80, seed=4)
    judgments = simulate_judgments(bank, [RaterSpec("a")], n_per_rater=40, seed=4)
    again = judgments.head(12).assign(
        left=lambda f: np.where(f["left"] == "A", "B", "A"),
        answered_at=lambda f: pd.to_datetime(f["answered_at"]) + pd.Timedelta(days=365),
    )
    bank_path, j_path = tmp_path / "bank.jsonl", tmp_path / "j.csv"
    bank_path.write_text("".join(json.dumps(r) + "\n" for r in bank_to_records(bank)))
    j_path.write_text(to_csv(pd.concat([judgments, again], ignore_index=True)))
    assert (
        main(
            [
                "report",
                "--bank",
                str(bank_path),
                "--judgments",
                str(j_path),
                "--format",
                "json",
                "--bootstrap",
                "20",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["raters"][0]["n"] == 40  # the repeats count in no other statistic
    assert report["raters"][0]["probes"]["swap"]["n"] == 12
    assert report["cohort"]["probes"]["swap"]["n"] == 12
