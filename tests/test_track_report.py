"""Accuracy and bias per track (calibration.tracks) and the report's ``tracks`` (JSON, Markdown, HTML)."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from calibration.bias import bias_by_rater
from calibration.data import prepare
from calibration.intervals import wilson_interval
from calibration.report import build_report, to_html, to_json, to_markdown
from calibration.simulate import RaterSpec, simulate_judgments, synthetic_bank
from calibration.tracks import NO_DOMAIN, TRACK_COLUMNS, track_accuracy


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
