"""Plain-language notes beside each statistic (calibration.explain) and on My report."""

from __future__ import annotations

import math
import re

import pytest

from calibration.explain import COIN_BRIER, NOTE_KEYS, plain_notes


def rater(**cal):
    base = {
        "brier": 0.18,
        "overconfidence": 0.08,
        "ece": 0.05,
        "reliability": 0.01,
        "resolution": 0.03,
        "uncertainty": 0.2,
        "log_score": -0.55,
    }
    return {
        "calibration": {**base, **cal},
        "agreement": {"alpha_vs_gold": 0.42, "ci_low": 0.3, "ci_high": 0.5, "reason": None},
        "bias": {
            "length": {
                "odds_ratio": 1.8,
                "ci_low": 1.2,
                "ci_high": 2.6,
                "significant": True,
                "estimable": True,
            },
            "polish": {
                "odds_ratio": 1.1,
                "ci_low": 0.8,
                "ci_high": 1.5,
                "significant": False,
                "estimable": True,
            },
        },
    }


def test_each_statistic_has_a_sentence_with_the_raters_own_figure():
    notes = plain_notes(rater())
    assert list(notes) == list(NOTE_KEYS)
    assert notes["brier"].startswith("Your Brier score 0.180: lower is better")
    assert "scores 0.25" in notes["brier"] and "better than a coin toss" in notes["brier"]
    assert (
        notes["overconfidence"].startswith("Overconfidence +8%:") and "more sure" in notes["overconfidence"]
    )
    assert "about 5%" in notes["ece"]
    assert "0.0100" in notes["reliability"] and "0.0300" in notes["resolution"]
    assert notes["alpha"].startswith("Your agreement with the experts (Krippendorff's alpha) 0.42")
    assert "1.80 for the longer answer" in notes["odds_ratio"] and "toward it, clearly" in notes["odds_ratio"]


@pytest.mark.parametrize(
    ("significant", "low", "high", "said"),
    [
        (True, 1.2, 2.6, "toward it, clearly."),
        (True, 0.97, 3.87, "toward it, though the evidence is moderate (its interval reaches 1)."),
        (False, 0.9, 2.6, "toward it, though not clearly (its interval includes 1)."),
        (False, 1.1, 2.6, "toward it, though not clearly yet (its interval leaves out 1, but not by what"),
    ],
)
def test_the_odds_ratio_note_agrees_with_its_interval(significant, low, high, said):
    """The verdict's level is not the 95% interval's (a weighted Holm over one-directional tests), so
    the note reads both: it never says "clearly" beside an interval reaching 1, nor "includes 1"
    beside one that leaves it out."""
    r = rater()
    r["bias"]["length"].update(significant=significant, ci_low=low, ci_high=high)
    assert said in plain_notes(r)["odds_ratio"]


@pytest.mark.parametrize(
    ("brier", "verdict"),
    [(0.10, "better than a coin toss"), (COIN_BRIER, "no better than a coin toss"), (0.31, "worse than")],
)
def test_brier_is_read_against_a_coin(brier, verdict):
    note = plain_notes(rater(brier=brier))["brier"]
    assert f"so yours is {verdict}" in note


@pytest.mark.parametrize(("alpha", "level"), [(0.85, "reliable"), (0.7, "tentative"), (0.0, "no agreement")])
def test_alpha_is_read_against_the_usual_bars(alpha, level):
    r = rater()
    r["agreement"]["alpha_vs_gold"] = alpha
    assert level in plain_notes(r)["alpha"]


def test_underconfidence_and_figures_not_yet_estimated_are_said_plainly():
    notes = plain_notes(rater(overconfidence=-0.12))
    assert (
        notes["overconfidence"].startswith("Overconfidence -12%:") and "less sure" in notes["overconfidence"]
    )
    empty = {
        "calibration": {k: None for k in rater()["calibration"]} | {"ece": math.nan},
        "agreement": {"alpha_vs_gold": None, "reason": "needs 2 raters."},
        "bias": {"length": {"odds_ratio": None, "estimable": False}},
    }
    notes = plain_notes(empty)
    assert all("not yet" in note for note in notes.values()), notes
    assert notes["alpha"].endswith("not yet; needs 2 raters.")
    assert not any(re.search(r"\b(None|nan)\b", note) for note in notes.values())


def test_the_reports_carry_the_same_notes():
    import html

    from calibration.data import prepare
    from calibration.render import to_html, to_markdown
    from calibration.report import build_report
    from calibration.simulate import RaterSpec, simulate_judgments, synthetic_bank

    bank = synthetic_bank(150, seed=2)
    report = build_report(
        prepare(bank, simulate_judgments(bank, [RaterSpec("ana")], n_per_rater=120, seed=2)),
        rater="ana",
        n_boot=20,
    )
    notes = plain_notes(report)
    page, md = to_html(report), to_markdown(report)
    for key in NOTE_KEYS:
        assert html.escape(notes[key]) in page
        assert f"- {notes[key]}" in md


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_my_report_shows_a_plain_line_beside_each_statistic(app_store):
    from tests.test_app import app_as, text_of
    from tests.test_charts import seed_answers
    from training import accounts

    store = app_store
    _, invite = accounts.create_cohort(store, "notes", "lena", "lead-password")
    nora = accounts.join_cohort(store, invite, "nora", "rater-password")
    seed_answers(store, nora.id, "nora", n=120)
    at = app_as(store, nora, "views/report.py")
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    page = text_of(at)
    assert f"Your Brier score {metrics['Brier score']}: lower is better" in page
    assert "always answering 50% scores 0.25" in page
    assert f"Overconfidence {metrics['Overconfidence']}:" in page
    assert re.search(r"ECE 0\.\d{3}: at each confidence you state", page)
    assert re.search(r"Krippendorff's alpha\) -?\d\.\d\d: 1 means", page)
    assert "An odds ratio says how much a feature pulls your choice" in page
    assert [e.label for e in at.expander] == [
        "The odds ratios in detail",
        "The Brier score in detail",
        "Krippendorff's alpha in detail",
    ]
    tables = {tuple(t.value.columns)[:2]: t.value for t in at.dataframe}
    brier = tables[("measure", "value")]
    assert (
        brier["measure"].tolist()[0] == "Brier score" and brier["value"].tolist()[0] == metrics["Brier score"]
    )
    assert brier["what it means"].str.len().gt(40).all()
    assert tables[("effect", "odds ratio")]["effect"].tolist() == [
        "Longer answer (x2 length)",
        "More formatted answer",
        "Answer on the left",
    ]
    for table in at.dataframe:
        cells = [str(c) for c in table.value.to_numpy().ravel()]
        assert not [c for c in cells if re.fullmatch(r"None|nan|NaN|<NA>|n/a-n/a", c)], table.value.columns
