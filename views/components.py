"""Pieces that more than one page shows: a rater's bias report."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calibration import charts
from calibration.render import to_html
from calibration.report import build_report, to_json
from calibration.trend import trend
from pairs.judgments import spreadsheet_safe, to_csv
from pairs.markdown import escape_markdown


@st.cache_data(show_spinner="Computing the report...", max_entries=64)
def rater_report(prepared_rater: pd.DataFrame, simulated: bool) -> dict:
    """The bias report of one rater's prepared judgments (cached by their content).

    Parameters
    ----------
    prepared_rater : DataFrame
        One rater's rows of :func:`calibration.data.prepare`.
    simulated : bool
        Whether the database marks the rater as simulated.

    Returns
    -------
    dict
        :func:`calibration.report.build_report` for the rater.
    """
    rater = str(prepared_rater["rater"].iloc[0])
    return build_report(prepared_rater, rater=rater, simulated={rater} if simulated else ())


def show_rater_report(prepared_rater: pd.DataFrame, *, key: str, simulated: bool) -> None:
    """Everything the bias report says about one rater, with charts and downloads.

    Parameters
    ----------
    prepared_rater : DataFrame
        The rater's prepared judgments (empty: a note to do a drill first).
    key : str
        Prefix of the download buttons' widget keys, unique on the page.
    simulated : bool
        Whether the database marks the rater as simulated (labelled so).
    """
    if prepared_rater.empty:
        st.info("No judgments yet: finish a drill and your report appears here.")
        return
    report = rater_report(prepared_rater, simulated)
    name = report["rater"]
    if report["simulated"]:
        st.warning("Simulated rater: demo data, not a person.")
    cal = report["calibration"]
    m = st.columns(4)
    m[0].metric("Judgments", report["n"])
    m[1].metric(
        "Agreed with the expert", "n/a" if report["accuracy"] is None else f"{report['accuracy']:.0%}"
    )
    m[2].metric(
        "Brier score",
        "n/a" if cal["brier"] is None else f"{cal['brier']:.3f}",
        help="0 is perfect; always saying 50 % scores 0.25.",
    )
    over = cal["overconfidence"]
    m[3].metric(
        "Overconfidence", "n/a" if over is None else f"{over:+.0%}", help="Mean confidence minus accuracy."
    )

    st.subheader("In short")
    for line in report["verdict"]:  # sentences that name the rater's tags: shown as written
        st.markdown(f"- {escape_markdown(line)}")

    st.subheader("What sways your choices")
    bias = pd.DataFrame([{"effect": e, **v} for e, v in report["bias"].items()])
    estimable = bias[bias["estimable"].astype(bool) & bias["odds_ratio"].notna()]
    if estimable.empty:
        st.info("Not enough data yet for the bias model: it needs 30 judgments on decided pairs.")
    else:
        st.altair_chart(
            charts.forest_plot(estimable.astype({"odds_ratio": float, "ci_low": float, "ci_high": float})),
            width="stretch",
        )
    for row in report["plain_rates"]:
        if row.get("summary"):
            st.caption(row["summary"])

    st.subheader("Is your confidence right?")
    left, right = st.columns([3, 2])
    bins = pd.DataFrame(cal["bins"])
    if cal["n"]:
        left.altair_chart(
            charts.reliability_diagram(
                bins.astype({"confidence": float, "accuracy": float, "ci_low": float, "ci_high": float})
            ),
            width="stretch",
        )
    right.markdown(cal.get("verdict") or "")
    decomposition = pd.DataFrame(
        {
            "measure": [
                "Brier score",
                "reliability (lower is better)",
                "resolution (higher is better)",
                "uncertainty",
                "log score",
                "ECE",
            ],
            "value": [
                cal["brier"],
                cal["reliability"],
                cal["resolution"],
                cal["uncertainty"],
                cal["log_score"],
                cal["ece"],
            ],
        }
    )
    right.dataframe(
        spreadsheet_safe(decomposition),
        hide_index=True,
        column_config={"value": st.column_config.NumberColumn(format="%.4f")},
    )

    st.subheader("Over time")
    days = (
        prepared_rater["answered_at"].dt.floor("D").nunique()
        if prepared_rater["answered_at"].notna().any()
        else 0
    )
    series = trend(prepared_rater, freq="D" if days <= 21 else "W")
    if series.empty or series["period"].nunique() < 2:
        st.info("Not enough days yet to show a trend.")
    else:
        st.altair_chart(charts.trend_chart(series, title="Is the bias shrinking?"), width="stretch")

    st.subheader("Accuracy by trap kind")
    tags = pd.DataFrame(report["tags"])
    if tags.empty:
        st.info("No decided pairs yet.")
    else:
        st.altair_chart(
            charts.tag_accuracy_chart(tags.astype({"accuracy": float, "ci_low": float, "ci_high": float})),
            width="stretch",
        )
        weak = tags.loc[tags["weak_spot"].astype(bool), "tag"].tolist()
        if weak:
            weak_list = escape_markdown(", ".join(weak))
            st.warning(f"You miss these trap kinds more than others: {weak_list}.")

    st.subheader("Download")
    # The files are built when a button is clicked, not on every rerun (the HTML renders its charts).
    d = st.columns(3)
    d[0].download_button(
        "Bias report (HTML)",
        lambda: to_html(report),
        file_name=f"paircal-report-{name}.html",
        mime="text/html",
        key=f"{key}_html",
    )
    d[1].download_button(
        "Report data (JSON)",
        lambda: to_json(report),
        file_name=f"paircal-report-{name}.json",
        mime="application/json",
        key=f"{key}_json",
    )
    d[2].download_button(
        "My judgments (CSV)",
        lambda: to_csv(prepared_rater),
        file_name=f"paircal-judgments-{name}.csv",
        mime="text/csv",
        key=f"{key}_csv",
    )
