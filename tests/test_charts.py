"""The report's charts (calibration.charts), as specified and as drawn.

Each chart is checked in its Vega-Lite spec (one row per effect or trap kind,
a height per row, the report's own figures in its data) and drawn by Vega
(vl-convert's SVG): the y-axis labels sit on distinct lines and are all shown,
and there is one mark per row. The app's copy of the spec (Streamlit's
``st.altair_chart``, read back from AppTest) is drawn the same way at a desktop
and a phone width, and the HTML reports (a rater's and a cohort's) are checked
chart by chart, also while another thread holds Streamlit's data transformer.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import altair as alt
import numpy as np
import pandas as pd
import pytest

from calibration import charts
from calibration.data import prepare
from calibration.render import to_html
from calibration.report import build_report
from calibration.simulate import RaterSpec, simulate_judgments, synthetic_bank

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def cohort():
    bank = synthetic_bank(300, seed=7)
    raters = [RaterSpec("sim-long", skill=1.5, length_bias=np.log(2.5)), RaterSpec("sim-fair", skill=1.0)]
    return build_report(prepare(bank, simulate_judgments(bank, raters, n_per_rater=220, seed=7)), n_boot=50)


@pytest.fixture(scope="module")
def rater(cohort):
    return cohort["raters"][0]


def bias_frame(report: dict) -> pd.DataFrame:
    return pd.DataFrame([{"effect": e, **v} for e, v in report["bias"].items()])


# --------------------------------------------------------------------------- drawn SVG


def _translate_y(element: ET.Element) -> float:
    found = re.search(r"translate\(([-\d.e]+),\s*([-\d.e]+)\)", element.get("transform", ""))
    assert found, element.attrib
    return float(found.group(2))


def axis_labels(svg: str, axis: str) -> list[tuple[str, float, bool]]:
    """The labels of the chart's X or Y axis as drawn: (text, y position, shown)."""
    root = ET.fromstring(svg)
    for group in root.iter(f"{SVG}g"):
        if group.get("aria-roledescription") == "axis" and group.get("aria-label", "").startswith(
            f"{axis}-axis"
        ):
            return [
                (text.text or "", _translate_y(text), text.get("opacity", "1") != "0")
                for labels in group.iter(f"{SVG}g")
                if "role-axis-label" in labels.get("class", "")
                for text in labels.iter(f"{SVG}text")
            ]
    return []


def layer_marks(svg: str, layer: int) -> list[str]:
    """The aria labels of the marks Vega drew for one layer (each names its fields' values)."""
    root = ET.fromstring(svg)
    for group in root.iter(f"{SVG}g"):
        if f"layer_{layer}_marks" in group.get("class", ""):
            return [m.get("aria-label", "") for m in group if m.get("role") == "graphics-symbol"]
    return []


def svg_size(svg: str) -> tuple[float, float]:
    root = ET.fromstring(svg)
    return float(root.get("width", 0)), float(root.get("height", 0))


def check_rows_drawn(svg: str, labels: list[str], *, mark_layer: int) -> None:
    """One shown y label per row on its own line (no overprint), and one mark per row."""
    drawn = axis_labels(svg, "Y")
    assert sorted(t for t, _, _ in drawn) == sorted(labels)
    assert all(shown for _, _, shown in drawn), drawn  # Vega hides labels that would overlap
    ys = sorted(y for _, y, _ in drawn)
    assert all(b - a >= 20 for a, b in zip(ys, ys[1:], strict=False)), ys  # a line each, 20 px or more
    marks = layer_marks(svg, mark_layer)
    assert len(marks) == len(labels)
    for label in labels:
        assert sum(f": {label}" in m or m.endswith(label) for m in marks) == 1, (label, marks)
    width, height = svg_size(svg)
    assert height >= 20 * len(labels) + 60 and width > 0


# --------------------------------------------------------------------------- the specs


def test_forest_plot_has_one_band_per_effect_with_the_reports_odds_ratios(rater):
    chart = charts.forest_plot(bias_frame(rater))
    spec = chart.to_dict()
    assert spec["autosize"]["type"] == "fit-x"
    assert spec["height"] == {"step": charts.ROW_STEP} and charts.ROW_STEP >= 24
    for layer in spec["layer"][:2]:
        assert layer["encoding"]["y"]["field"] == "label" and layer["encoding"]["y"]["type"] == "nominal"
    rows = charts.drawn_rows(chart)
    assert [r["label"] for r in rows] == list(charts.EFFECT_LABELS.values())
    for row in rows:
        expected = rater["bias"][row["effect"]]
        assert (row["odds_ratio"], row["ci_low"], row["ci_high"]) == pytest.approx(
            (expected["odds_ratio"], expected["ci_low"], expected["ci_high"])
        )
        # the legend follows the verdict, not the interval (a called pull may reach 1)
        assert row["verdict"] == ("bias found" if expected["significant"] else "no clear bias")
    svg = charts.to_svg(chart)
    check_rows_drawn(svg, list(charts.EFFECT_LABELS.values()), mark_layer=1)


def test_forest_plot_leaves_out_effects_not_estimated_and_draws_nothing_without_any(rater):
    frame = bias_frame(rater)
    frame.loc[frame["effect"] == "polish", ["odds_ratio", "ci_low", "ci_high", "estimable"]] = [
        None,
        None,
        None,
        False,
    ]
    rows = charts.drawn_rows(charts.forest_plot(frame.astype(object)))  # None cells, as the JSON's nulls
    assert [r["effect"] for r in rows] == ["length", "position"]
    assert all(r["odds_ratio"] is not None for r in rows)
    assert charts.drawn_rows(charts.forest_plot(pd.DataFrame())) == []
    check_rows_drawn(
        charts.to_svg(charts.forest_plot(frame)),
        [charts.EFFECT_LABELS["length"], charts.EFFECT_LABELS["position"]],
        mark_layer=1,
    )


def test_tag_chart_has_a_row_per_trap_kind_sorted_by_accuracy(rater):
    tags = pd.DataFrame(rater["tags"])
    chart = charts.tag_accuracy_chart(tags)
    spec = chart.to_dict()
    assert spec["height"] == {"step": charts.ROW_STEP} and spec["autosize"]["type"] == "fit-x"
    rows = charts.drawn_rows(chart)
    decided = tags[tags["n"] > 0]
    assert len(rows) == len(decided) >= 5
    assert [r["accuracy"] for r in rows] == sorted(r["accuracy"] for r in rows)
    by_tag = decided.set_index("tag")
    for row in rows:
        assert row["n"] == by_tag.loc[row["tag"], "n"]
        assert row["accuracy"] == pytest.approx(by_tag.loc[row["tag"], "accuracy"])
    # every layer sorts its rows the same way (a per-layer sort would scramble the bands)
    sorts = {json.dumps(layer["encoding"]["y"]["sort"]) for layer in spec["layer"]}
    assert sorts == {json.dumps([r["tag"] for r in rows])}
    check_rows_drawn(charts.to_svg(chart), decided["tag"].tolist(), mark_layer=0)


def test_reliability_diagram_draws_a_point_per_filled_bin(rater):
    bins = pd.DataFrame(rater["calibration"]["bins"])
    chart = charts.reliability_diagram(bins)
    rows = charts.drawn_rows(chart)
    filled = bins[bins["n"] > 0]
    assert len(rows) == len(filled) > 0
    assert [r["accuracy"] for r in rows] == pytest.approx(filled["accuracy"].tolist())
    svg = charts.to_svg(chart)
    assert len(layer_marks(svg, 2)) == len(filled)  # the points; layer 0 is the diagonal
    assert {t for t, _, shown in axis_labels(svg, "X") if shown} >= {"50%", "100%"}


def test_corp_diagram_draws_the_reports_curve_and_decomposition(rater):
    cal = rater["calibration"]
    corp = pd.DataFrame(cal["corp"])
    chart = charts.corp_diagram(corp, mcb=cal["mcb"], dsc=cal["dsc"], unc=cal["unc"])
    rows = charts.drawn_rows(chart)
    assert [r["calibrated"] for r in rows] == pytest.approx(corp["calibrated"].tolist())
    assert [r["calibrated"] for r in rows] == sorted(r["calibrated"] for r in rows)  # isotonic: never falls
    spec = chart.to_dict()
    assert spec["title"]["subtitle"] == [
        f"miscalibration MCB {cal['mcb']:.3f}, discrimination DSC {cal['dsc']:.3f},",
        f"uncertainty UNC {cal['unc']:.3f} (Brier score = MCB - DSC + UNC)",
    ]
    assert all(r["band_low"] <= r["band_high"] for r in rows)
    svg = charts.to_svg(chart)
    assert len(layer_marks(svg, 3)) == len(corp)
    assert charts.drawn_rows(charts.corp_diagram(pd.DataFrame(columns=corp.columns))) == []
    assert "subtitle" not in json.dumps(charts.corp_diagram(corp, title="t").to_dict()["title"])


def test_chart_data_is_plain_json_without_nan(rater):
    """NaN cells (an interval not estimated) go as null, not as NaN, which is not JSON."""
    tags = pd.DataFrame(rater["tags"]).astype({"ci_low": float})
    tags.loc[0, "ci_low"] = np.nan
    spec = charts.tag_accuracy_chart(tags).to_json()
    assert "NaN" not in spec
    json.loads(spec)


def test_trend_chart_keeps_dates_and_drops_missing_values():
    trend = pd.DataFrame(
        {
            "period": pd.to_datetime(["2026-01-05", "2026-01-12", "2026-01-12"], utc=True),
            "measure": ["accuracy", "accuracy", "mean confidence"],
            "value": [0.6, np.nan, 0.7],
        }
    )
    rows = charts.drawn_rows(charts.trend_chart(trend))
    assert [(r["period"][:10], r["value"]) for r in rows] == [("2026-01-05", 0.6), ("2026-01-12", 0.7)]


# --------------------------------------------------------------------------- the HTML reports


def html_svgs(page: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", page, flags=re.DOTALL)


def check_rater_charts(svgs: list[str], report: dict) -> None:
    forest, reliability, corp, tags = svgs
    estimable = [e for e, v in report["bias"].items() if v["estimable"] and v["odds_ratio"] is not None]
    check_rows_drawn(forest, [charts.EFFECT_LABELS[e] for e in estimable], mark_layer=1)
    assert len(layer_marks(reliability, 2)) == sum(b["n"] > 0 for b in report["calibration"]["bins"])
    assert len(layer_marks(corp, 3)) == len(report["calibration"]["corp"]) > 0  # a point per confidence used
    check_rows_drawn(tags, [t["tag"] for t in report["tags"] if t["n"] > 0], mark_layer=0)


def test_rater_html_report_draws_every_chart_with_its_rows(rater):
    check_rater_charts(html_svgs(to_html(rater)), rater)


def test_cohort_html_report_draws_each_raters_charts(cohort):
    svgs = html_svgs(to_html(cohort))
    # the cohort's bias, confidence bins and CORP diagram, then each rater's four charts
    assert len(svgs) == 3 + 4 * len(cohort["raters"])
    check_rows_drawn(svgs[0], list(charts.EFFECT_LABELS.values()), mark_layer=1)
    for i, r in enumerate(cohort["raters"]):
        check_rater_charts(svgs[3 + 4 * i : 7 + 4 * i], r)


def test_html_report_charts_keep_their_data_while_streamlit_draws_a_chart(cohort):
    """While the app draws a chart, Streamlit swaps Altair's process-wide data transformer for one
    that replaces a DataFrame by a reference to data kept elsewhere; a download rendered on another
    thread at that moment must still embed its rows."""
    taken: dict = {}

    def elsewhere(data, datasets):
        datasets[str(len(datasets))] = data
        return {"name": str(len(datasets) - 1)}

    alt.data_transformers.register("paircal_test_elsewhere", elsewhere)
    with alt.data_transformers.enable("paircal_test_elsewhere", datasets=taken), alt.theme.enable("none"):
        svgs = html_svgs(to_html(cohort))
    assert not taken
    for i, r in enumerate(cohort["raters"]):
        check_rater_charts(svgs[3 + 4 * i : 7 + 4 * i], r)


# --------------------------------------------------------------------------- the app's copy


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width", [940, 368])
def test_my_report_charts_as_the_app_draws_them(app_store, width):
    """My report's charts as Streamlit sends them (spec and data from AppTest), drawn by Vega at the
    width the page gives them on a desktop and on a phone: rows on their own lines, every label."""
    import vl_convert as vlc

    from tests.test_app import app_as
    from training import accounts

    store = app_store
    store.ensure_starter_bank()
    _, invite = accounts.create_cohort(store, "charts", "lena", "lead-password")
    nora = accounts.join_cohort(store, invite, "nora", "rater-password")
    seed_answers(store, nora.id, "nora", n=150)
    at = app_as(store, nora, "views/report.py")
    assert not at.exception, at.exception
    specs = [app_spec(c.proto) for c in at.get("vega_lite_chart")]
    # the bias chart, the reliability diagram, the CORP diagram, the trend and the trap kinds; the
    # page's subheaders name the first, second and fifth, so they carry no title of their own to repeat it
    titles = [s.get("title") for s in specs]
    assert titles[:2] == [None, None] and titles[3:] == ["Is the bias shrinking?", None]
    assert titles[2]["text"] == "How often you are right at each confidence"
    assert titles[2]["subtitle"][0].startswith("miscalibration MCB ")
    forest, _, _, _, tags = specs
    assert forest["layer"][0]["encoding"]["y"]["field"] == "label"
    assert tags["layer"][0]["encoding"]["y"]["field"] == "tag"
    for spec in specs:
        assert spec["autosize"]["type"] == "fit-x"  # Streamlit's own default squeezes axes into the height
        spec["width"] = width  # what Streamlit's front end does with width="stretch"
    tag_labels = [r["tag"] for r in tags["data"]["values"]]
    assert len(tag_labels) >= 5 and len(forest["data"]["values"]) == 3
    check_rows_drawn(vlc.vegalite_to_svg(forest), list(charts.EFFECT_LABELS.values()), mark_layer=1)
    check_rows_drawn(vlc.vegalite_to_svg(tags), tag_labels, mark_layer=0)
    for spec in specs:
        w, h = svg_size(vlc.vegalite_to_svg(spec))
        assert w <= width + 1 and h >= 150


def app_spec(proto) -> dict:
    """The spec the browser gets: Streamlit sends a chart's top-level rows beside it, as Arrow."""
    import pyarrow as pa

    spec = json.loads(proto.spec)
    assert not proto.datasets  # every other layer's data stays inline in the spec
    if proto.data.data:
        rows = pa.ipc.open_stream(proto.data.data).read_pandas()
        spec["data"] = {"values": json.loads(rows.to_json(orient="records"))}
    return spec


def seed_answers(store, rater_id: int, name: str, *, n: int) -> None:
    """``n`` simulated answers of one person on the starter bank, over the last 20 days."""
    from pairs.bank import STARTER_BANK_NAME

    bank = store.load_bank(STARTER_BANK_NAME)
    now = pd.Timestamp(datetime.now(UTC))
    spec = RaterSpec(name, skill=1.0, length_bias=np.log(2))
    judged = simulate_judgments(bank, [spec], n_per_rater=n, seed=3, start=now - pd.Timedelta(days=20))
    bank_id = store.bank_id(STARTER_BANK_NAME)
    for row in judged.itertuples():
        store.record_judgment(
            rater_id=rater_id,
            bank_id=bank_id,
            pair_id=row.pair_id,
            drill="seeded",
            choice=row.choice,
            confidence=row.confidence,
            left=row.left,
            answered_at=min(row.answered_at, now).to_pydatetime(),
        )
