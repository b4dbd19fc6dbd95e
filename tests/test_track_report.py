"""Accuracy and bias per track (calibration.tracks) and the report's ``tracks`` (JSON, Markdown, HTML)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from calibration.bias import bias_by_rater, pooled_bias
from calibration.data import prepare
from calibration.intervals import wilson_interval
from calibration.report import build_report, to_html, to_json, to_markdown
from calibration.simulate import RaterSpec, simulate_judgments, synthetic_bank
from calibration.tracks import (
    COHORT_TRACK_COLUMNS,
    NO_DOMAIN,
    TRACK_COLUMNS,
    bank_domains,
    cohort_track_accuracy,
    track_accuracy,
)


@pytest.fixture(scope="module")
def planted():
    """One rater with a strong length bias on law pairs and none on math pairs (200 judgments each)."""
    bank = synthetic_bank(400, seed=11)
    law, math_ids = bank.iloc[:200], bank.iloc[200:]
    judged = pd.concat(
        [
            simulate_judgments(
                law, [RaterSpec("rita", skill=1.0, length_bias=math.log(4))], n_per_rater=200, seed=1
            ),
            simulate_judgments(math_ids, [RaterSpec("rita", skill=1.0)], n_per_rater=200, seed=2),
        ],
        ignore_index=True,
    )
    domains = pd.Series(["law"] * 200 + ["math"] * 200, index=bank["id"])
    return bank, prepare(bank, judged), domains


def test_per_track_accuracy_counts_and_wilson_intervals(planted):
    bank, prepared, domains = planted
    out = track_accuracy(prepared, domains)
    assert out.columns.tolist() == TRACK_COLUMNS
    assert out["track"].tolist() == ["law", "math"]
    for row in out.itertuples():
        mine = prepared[prepared["pair_id"].map(domains).eq(row.track) & ~prepared["tie"]]
        right = int(mine["correct"].sum())
        low, high = wilson_interval(right, len(mine))
        assert (row.n, row.correct) == (len(mine), right)
        assert row.accuracy == pytest.approx(right / len(mine))
        assert (row.ci_low, row.ci_high) == pytest.approx((float(low), float(high)))


def test_a_bias_planted_in_one_track_shows_in_that_track_only(planted):
    _, prepared, domains = planted
    out = track_accuracy(prepared, domains).set_index("track")
    assert out.loc["law", "length_significant"] and out.loc["law", "length_or"] > 2
    assert not out.loc["math", "length_significant"]
    assert out.loc["math", "length_ci_low"] < 1 < out.loc["math", "length_ci_high"]
    # the same fit as the bias model on the law judgments alone
    alone = bias_by_rater(prepared[prepared["pair_id"].map(domains).eq("law")]).set_index("effect")
    for effect in ("length", "polish", "position"):
        assert out.loc["law", f"{effect}_or"] == pytest.approx(alone.loc[effect, "odds_ratio"], rel=1e-6)
        assert out.loc["law", f"{effect}_ci_low"] == pytest.approx(alone.loc[effect, "ci_low"], rel=1e-6)


def test_few_judgments_give_no_bias_and_pairs_without_a_domain_have_their_own_row(planted):
    _, prepared, domains = planted
    few = prepared.groupby(prepared["pair_id"].map(domains)).head(5)
    out = track_accuracy(few, {pid: d for pid, d in domains.items() if d == "law"}).set_index("track")
    assert out.index.tolist() == [NO_DOMAIN, "law"]
    assert out["n"].tolist() == [5, 5]
    assert out[["length_or", "polish_or", "position_or"]].isna().all().all()
    assert not out["length_significant"].any()


def test_track_accuracy_checks_its_input_and_takes_an_empty_frame(planted):
    _, prepared, domains = planted
    with pytest.raises(ValueError, match=re.escape("prepared lacks the column(s) ['pair_id']")):
        track_accuracy(prepared.drop(columns="pair_id"), domains)
    empty = track_accuracy(prepared.iloc[:0], domains)
    assert empty.empty and empty.columns.tolist() == TRACK_COLUMNS


def test_the_report_lists_tracks_beside_every_field_it_had(planted):
    _, prepared, domains = planted
    plain = build_report(prepared, rater="rita", n_boot=50)
    with_tracks = build_report(prepared, rater="rita", n_boot=50, domains=domains)
    assert plain["tracks"] == []
    assert set(plain) == set(with_tracks)
    assert {k: v for k, v in with_tracks.items() if k != "tracks"} == {
        k: v for k, v in plain.items() if k != "tracks"
    }
    law, maths = with_tracks["tracks"]
    assert (law["track"], maths["track"]) == ("law", "math")
    assert law["n"] + maths["n"] == with_tracks["n"] - with_tracks["n_ties"]
    assert law["length_significant"] is True and maths["length_significant"] is False
    assert json.loads(to_json(with_tracks))["tracks"][0]["length_or"] == pytest.approx(law["length_or"])
    cohort = build_report(prepared, n_boot=50, domains=domains)
    assert [t["track"] for t in cohort["raters"][0]["tracks"]] == ["law", "math"]


def test_markdown_and_html_show_the_track_table(planted):
    _, prepared, domains = planted
    report = build_report(prepared, rater="rita", n_boot=50, domains=domains.replace("math", "math|<b>x</b>"))
    md = to_markdown(report)
    assert "### Tracks" in md
    assert re.search(
        r"\| law \| 200 \| \d+% \| \d+%-\d+% \| \d+\.\d\d \(\d\.\d\d-\d+\.\d\d\) \(clear\) \|", md
    )
    assert "math\\|" in md and "| math|" not in md  # a '|' in a domain does not break the table
    page = to_html(report)
    assert "<h3>Tracks</h3>" in page and "math|&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert "Tracks" not in to_markdown(build_report(prepared, rater="rita", n_boot=50))
    assert not np.isnan(report["tracks"][0]["accuracy"])


# --- the cohort's figures per track -----------------------------------------------------------


@pytest.fixture(scope="module")
def cohort_planted():
    """Five raters who favour long answers on law pairs only, a sixth who answers only math pairs,
    and a track of gold ties."""
    bank = synthetic_bank(600, seed=21)
    bank.loc[bank.index[-20:], "gold"] = "tie"
    domains = pd.Series(["law"] * 290 + ["math"] * 290 + ["ties"] * 20, index=bank["id"])
    law, maths, ties = (bank[domains.to_numpy() == d] for d in ("law", "math", "ties"))
    parts = []
    for i in range(5):
        name = f"r{i}"
        biased = RaterSpec(name, skill=1.0 + 0.1 * i, length_bias=math.log(3))
        parts.append(simulate_judgments(law, [biased], n_per_rater=120, seed=100 + i))
        parts.append(simulate_judgments(maths, [RaterSpec(name, skill=1.0)], n_per_rater=120, seed=200 + i))
        parts.append(simulate_judgments(ties, [RaterSpec(name)], n_per_rater=4, seed=300 + i))
    parts.append(simulate_judgments(maths, [RaterSpec("solo", skill=2.0)], n_per_rater=80, seed=400))
    return bank, prepare(bank, pd.concat(parts, ignore_index=True)), domains


def test_cohort_counts_are_the_pooled_judgments_of_each_track(cohort_planted):
    _, prepared, domains = cohort_planted
    out = cohort_track_accuracy(prepared, domains)
    assert out.columns.tolist() == COHORT_TRACK_COLUMNS
    assert out["track"].tolist() == ["law", "math", "ties"]
    track = prepared["pair_id"].map(domains)
    for row in out.itertuples():
        mine = prepared[track.eq(row.track).to_numpy()]
        decided = mine[~mine["tie"]]
        right = int(decided["correct"].sum())
        assert (row.n_raters, row.n, row.correct) == (mine["rater"].nunique(), len(decided), right)
        if len(decided):
            low, high = proportion_confint(right, len(decided), method="wilson")
            assert row.accuracy == pytest.approx(right / len(decided))
            assert (row.ci_low, row.ci_high) == pytest.approx((low, high))
    ties = out.set_index("track").loc["ties"]
    assert ties["n"] == 0 and np.isnan(ties["accuracy"]) and np.isnan(ties["length_or"])
    # the same counts as summing each rater's own figures on the track
    summed = track_accuracy(prepared, domains).groupby("track")[["n", "correct"]].sum()
    assert out.set_index("track")[["n", "correct"]].equals(summed)


def test_cohort_bias_per_track_is_the_pooled_model_on_that_track(cohort_planted):
    _, prepared, domains = cohort_planted
    out = cohort_track_accuracy(prepared, domains).set_index("track")
    assert out.loc["law", "length_significant"] and out.loc["law", "length_ci_low"] > 1.5
    assert not out.loc["math", "length_significant"]
    track = prepared["pair_id"].map(domains)
    for name in ("law", "math"):
        alone = pooled_bias(prepared[track.eq(name).to_numpy()]).set_index("effect")
        for effect in ("length", "polish", "position"):
            assert out.loc[name, f"{effect}_or"] == pytest.approx(alone.loc[effect, "odds_ratio"], rel=1e-9)
            assert out.loc[name, f"{effect}_ci_high"] == pytest.approx(alone.loc[effect, "ci_high"], rel=1e-9)
            assert out.loc[name, f"{effect}_significant"] == alone.loc[effect, "significant"]


def test_a_single_track_reuses_the_fits_it_is_given_and_they_are_the_same(cohort_planted):
    _, prepared, domains = cohort_planted
    bias = bias_by_rater(prepared)
    fitted = track_accuracy(prepared, domains)
    reused = track_accuracy(prepared, domains, bias=bias)  # 'solo' answered math pairs only
    pd.testing.assert_frame_equal(fitted, reused, rtol=1e-9)
    one_track = pd.Series("all", index=domains.index)
    by_rater = track_accuracy(prepared, one_track, bias=bias)
    for effect in ("length", "polish", "position"):
        own = bias[bias["effect"] == effect]
        assert by_rater[f"{effect}_or"].to_numpy() == pytest.approx(own["odds_ratio"].to_numpy(), nan_ok=True)
    pooled = pooled_bias(prepared)
    given = cohort_track_accuracy(prepared, one_track, by_rater=by_rater, pooled=pooled)
    pd.testing.assert_frame_equal(given, cohort_track_accuracy(prepared, one_track), rtol=1e-9)


def test_bank_domains_is_none_for_a_bank_without_domains():
    bank = synthetic_bank(3, seed=0)
    assert bank_domains(bank.assign(domain="")) is None
    assert bank_domains(bank.drop(columns="domain")) is None
    mixed = bank_domains(bank.assign(domain=["Law ", "", None]))
    assert mixed.to_dict() == {"syn-00001": "Law", "syn-00002": "", "syn-00003": ""}


def test_the_cohort_report_carries_the_cohort_tracks_beside_every_field(cohort_planted):
    _, prepared, domains = cohort_planted
    plain = build_report(prepared, n_boot=20)
    report = build_report(prepared, n_boot=20, domains=domains)
    assert plain["cohort"]["tracks"] == [] and all(r["tracks"] == [] for r in plain["raters"])
    assert set(plain["cohort"]) == set(report["cohort"])
    assert {k: v for k, v in report["cohort"].items() if k not in ("tracks", "leaderboard")} == {
        k: v for k, v in plain["cohort"].items() if k not in ("tracks", "leaderboard")
    }
    cohort = {t["track"]: t for t in report["cohort"]["tracks"]}
    assert set(cohort["law"]) == set(COHORT_TRACK_COLUMNS)
    for name, t in cohort.items():
        mine = [row for r in report["raters"] for row in r["tracks"] if row["track"] == name]
        assert t["n"] == sum(row["n"] for row in mine) and t["correct"] == sum(row["correct"] for row in mine)
        assert t["n_raters"] == len(mine)
    assert cohort["ties"]["accuracy"] is None and cohort["ties"]["length_or"] is None  # null in JSON
    assert json.loads(to_json(report))["cohort"]["tracks"][0]["track"] == "law"


def test_the_cohort_track_table_in_markdown_and_html(cohort_planted):
    _, prepared, domains = cohort_planted
    report = build_report(prepared, n_boot=20, domains=domains)
    md = to_markdown(report)
    cohort_part = md[md.index("### Cohort by track") : md.index("### Leaderboard")]
    assert "| track | raters | n | accuracy | 95% CI |" in cohort_part
    assert re.search(
        r"\| law \| 5 \| 600 \| \d+% \| \d+%-\d+% \| \d+\.\d\d \(\d\.\d\d-\d\.\d\d\) \(clear\) \|", md
    )
    assert re.search(r"\| ties \| 5 \| 0 \| n/a \| n/a \| n/a \| n/a \| n/a \|", cohort_part)
    page = to_html(report)
    assert "<h3>Cohort by track</h3>" in page
    for text in (md, page):
        assert not re.search(r"\b(None|nan|NaN)\b", text)
        assert "n/a-n/a" not in text


# --- python -m calibration report ------------------------------------------------------------


def _write_inputs(tmp_path, bank, prepared, *, domains):
    """The bank (JSON Lines, with the given domains) and the judgments CSV the command reads."""
    from pairs.bank import bank_to_records
    from pairs.judgments import to_csv

    bank_path, j_path = tmp_path / "bank.jsonl", tmp_path / "j.csv"
    shaped = bank.assign(domain=[domains.get(pid, "") for pid in bank["id"]])
    bank_path.write_text("".join(json.dumps(r) + "\n" for r in bank_to_records(shaped)), encoding="utf-8")
    j_path.write_text(to_csv(prepared), encoding="utf-8")
    return str(bank_path), str(j_path)


def test_the_command_reports_tracks_from_the_banks_domains(cohort_planted, tmp_path, capsys):
    from cli.calibration import main

    bank, prepared, domains = cohort_planted
    bank_path, j_path = _write_inputs(tmp_path, bank, prepared, domains=domains.to_dict())
    args = ["report", "--bank", bank_path, "--judgments", j_path, "--bootstrap", "20"]
    assert main([*args, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    cohort = out["cohort"]["tracks"]
    assert [t["track"] for t in cohort] == ["law", "math", "ties"]
    assert all(set(t) == set(COHORT_TRACK_COLUMNS) for t in cohort)
    assert all(set(t) == set(TRACK_COLUMNS[1:]) for r in out["raters"] for t in r["tracks"])
    # as the library computes them from the same judgments
    expected = cohort_track_accuracy(prepared, domains)
    assert [t["n"] for t in cohort] == expected["n"].tolist()
    assert cohort[0]["length_or"] == pytest.approx(expected["length_or"].iloc[0], rel=1e-6)
    # the cohort's counts are the raters' counts pooled, and so is its accuracy
    for t in cohort:
        rows = [row for r in out["raters"] for row in r["tracks"] if row["track"] == t["track"]]
        n, right = sum(row["n"] for row in rows), sum(row["correct"] for row in rows)
        assert (t["n"], t["correct"], t["n_raters"]) == (n, right, len(rows))
        assert t["accuracy"] == (pytest.approx(right / n) if n else None)
    solo = next(r for r in out["raters"] if r["rater"] == "solo")
    assert [t["track"] for t in solo["tracks"]] == ["math"]
    assert solo["tracks"][0]["length_or"] == pytest.approx(solo["bias"]["length"]["odds_ratio"], rel=1e-9)
    assert main([*args, "--format", "md"]) == 0
    assert "### Cohort by track" in capsys.readouterr().out
    assert main([*args, "--format", "json", "--rater", "r1"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert [t["track"] for t in one["tracks"]] == ["law", "math", "ties"]


def test_a_bank_without_domains_has_no_track_section_and_says_nothing(cohort_planted, tmp_path, capsys):
    from cli.calibration import main

    bank, prepared, _ = cohort_planted
    bank_path, j_path = _write_inputs(tmp_path, bank, prepared, domains={})
    args = ["report", "--bank", bank_path, "--judgments", j_path, "--bootstrap", "20"]
    assert main([*args, "--format", "json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["cohort"]["tracks"] == [] and all(r["tracks"] == [] for r in out["raters"])
    assert captured.err == ""
    for fmt in ("md", "html"):
        assert main([*args, "--format", fmt]) == 0
        captured = capsys.readouterr()
        assert "Tracks" not in captured.out and "by track" not in captured.out
        assert NO_DOMAIN not in captured.out
        assert captured.err == ""


# --- the lead console's export ----------------------------------------------------------------


def test_the_console_exports_the_cohort_report_with_its_tracks(app_store, monkeypatch):
    import calibration.report
    from tests.test_app import app_as
    from training import accounts

    store = app_store
    lead, _ = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    built = []
    original = calibration.report.build_report

    def recording(*args, **kwargs):
        built.append(original(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(calibration.report, "build_report", recording)  # the page imports it on each run
    at = app_as(store, lead, "views/lead.py")
    at.button(key="load_demo").click().run()
    at.button(key="build_cohort_report").click().run()
    assert not at.exception, at.exception
    (report,) = [r for r in built if "cohort" in r]
    starter = {d for d in store.load_bank("starter")["domain"] if d}
    cohort = report["cohort"]["tracks"]
    assert {t["track"] for t in cohort} <= starter and len(cohort) > 1
    for t in cohort:
        rows = [row for r in report["raters"] for row in r["tracks"] if row["track"] == t["track"]]
        assert t["n"] == sum(row["n"] for row in rows) and t["n_raters"] == len(rows)
    assert "Cohort by track" in to_html(report)
