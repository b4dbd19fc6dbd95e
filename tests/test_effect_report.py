"""The training effect in the bias report: drill answers apart from form answers, fields, renderings."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from calibration.data import prepare
from calibration.effect import EFFECT_COLUMNS, MEASURES
from calibration.report import build_report, effect_csv, to_html, to_json, to_markdown
from calibration.simulate import demo_raters, simulate_forms, simulate_judgments, synthetic_bank


@pytest.fixture(scope="module")
def inputs():
    bank = synthetic_bank(260, seed=3)
    specs = demo_raters(6)
    forms = simulate_forms(bank, raters=specs, form_size=30, seed=4)
    drills = simulate_judgments(bank, specs, n_per_rater=40, seed=1).assign(form="")
    return bank, pd.concat([drills, forms], ignore_index=True), {s.rater for s in specs}


@pytest.fixture(scope="module")
def report(inputs):
    bank, judgments, simulated = inputs
    return build_report(prepare(bank, judgments), n_boot=20, simulated=simulated)


def test_ordinary_sections_count_drill_answers_only(report):
    assert all(r["n"] == 40 for r in report["raters"])
    assert report["cohort"]["n_judgments"] == 6 * 40


def test_effect_fields(report):
    for obj in [*report["raters"], report["cohort"]]:
        assert list(obj["effect"]) == list(MEASURES)
        assert list(obj["effect_retention"]) == list(MEASURES)
        assert set(obj["effect"]["accuracy"]) >= {"pre", "post", "change", "ci_low", "ci_high", "p_value"}
    assert report["raters"][0]["effect_n"] == {"pre": 30, "post": 30, "retention": 30}
    assert report["cohort"]["effect_n_raters"] == 6
    assert report["cohort"]["effect_order_balance"]["orders"] == {"X then Y": 3, "Y then X": 3}
    to_json(report)  # strict JSON: no NaN left


def test_the_cohort_verdict_opens_with_the_effect(report):
    verdict = report["cohort"]["verdict"]
    assert verdict[0].startswith("Training effect over 6 rater(s) who took both the pre and the post form.")
    assert "6 of the raters are simulated (demo data with planted learning)." in verdict[0]
    assert verdict[1].startswith("Accuracy ") and "(post vs pre)" in verdict[1]
    rater = report["raters"][0]["verdict"]
    assert rater[1].startswith("Between your assessment forms: accuracy ")


def test_renderings_show_the_effect_first(report):
    md = to_markdown(report)
    cohort_part = md[md.index("## Cohort") : md.index("### Cohort bias")]
    assert "### Training effect" in cohort_part and "| post vs pre | accuracy |" in cohort_part
    page = to_html(report)
    assert page.index("<h3>Training effect</h3>") < page.index("<h3>Cohort bias")


def test_effect_csv(report):
    table = pd.read_csv(io.StringIO(effect_csv(report)))
    assert list(table.columns) == EFFECT_COLUMNS
    assert len(table) == (6 + 1) * 3 * len(MEASURES)


def test_one_rater_report_has_their_effect(inputs):
    bank, judgments, _ = inputs
    one = build_report(prepare(bank, judgments), rater="sim-02-overconfident", n_boot=20)
    assert one["n"] == 40 and one["effect_n"] == {"pre": 30, "post": 30, "retention": 30}
    table = pd.read_csv(io.StringIO(effect_csv(one)))
    assert set(table["rater"]) == {"sim-02-overconfident"}


def test_without_forms_or_before_the_post_form_there_is_no_effect(inputs):
    bank, judgments, _ = inputs
    plain = build_report(prepare(bank, judgments[judgments["form"] == ""]), n_boot=20)
    assert "effect" not in plain["cohort"] and "effect" not in plain["raters"][0]
    pre_only = build_report(prepare(bank, judgments[judgments["form"].isin(["", "pre"])]), n_boot=20)
    assert "effect" not in pre_only["cohort"]
    assert pre_only["cohort"]["n_judgments"] == 6 * 40  # the pre form is still not a drill
    assert effect_csv(plain).splitlines() == [",".join(EFFECT_COLUMNS)]


def test_a_raters_effect_is_the_one_the_cohort_report_gives(inputs, report):
    """Fitted on every rater's forms, a rater's own report adjusts for form difficulty as the
    cohort report does, also when the drill answers come without a ``form`` column (My report
    adds the cohort's closed forms to the rater's drills)."""
    bank, judgments, _ = inputs
    name = "sim-02-overconfident"
    drills = prepare(
        bank, judgments[(judgments["rater"] == name) & (judgments["form"] == "")].drop(columns="form")
    )
    forms = prepare(bank, judgments[judgments["form"] != ""])
    assert "form" not in drills.columns or set(drills["form"]) == {""}
    one = build_report(pd.concat([drills.assign(form=""), forms], ignore_index=True), rater=name, n_boot=20)
    cohort_entry = next(r for r in report["raters"] if r["rater"] == name)
    assert one["n"] == 40
    for measure in ("accuracy", "overconfidence", "length"):
        assert one["effect"][measure]["change"] == pytest.approx(
            cohort_entry["effect"][measure]["change"], nan_ok=True
        )
        assert one["effect"][measure]["ci_low"] == pytest.approx(
            cohort_entry["effect"][measure]["ci_low"], nan_ok=True
        )
    # the adjustment is real: fitted on this rater's forms alone the change differs
    alone = build_report(prepare(bank, judgments[judgments["rater"] == name]), rater=name, n_boot=20)
    assert alone["effect"]["accuracy"]["change"] != pytest.approx(one["effect"]["accuracy"]["change"])
