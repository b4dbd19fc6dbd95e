"""Altair charts of the statistics, shared by the app and the exported report.

Each function takes the tidy frame a statistic returns and gives an
``altair.Chart``; the app shows it with ``st.altair_chart``, the report renders
it to inline SVG (:func:`to_svg`) so the file opens offline.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

__all__ = [
    "EFFECT_LABELS",
    "PROGRESS_PANELS",
    "forest_plot",
    "progress_panel",
    "reliability_diagram",
    "tag_accuracy_chart",
    "to_svg",
    "trend_chart",
]

EFFECT_LABELS = {
    "length": "Longer answer (x2 length)",
    "polish": "More formatted answer",
    "position": "Answer on the left",
}


def forest_plot(bias: pd.DataFrame, *, title: str = "What sways your choices") -> alt.Chart:
    """Odds ratios with 95 % CIs on a log axis; 1 = no bias.

    Parameters
    ----------
    bias : DataFrame
        Rows of :func:`calibration.bias.bias_by_rater` for one rater (or of
        :func:`calibration.bias.pooled_bias`); effects not estimable are left out.
    title : str
        Chart title.

    Returns
    -------
    altair.Chart
        Interval rules and points, red where the bias is significant.
    """
    frame = bias[bias["estimable"].astype(bool) & bias["odds_ratio"].notna()].copy()
    frame["label"] = frame["effect"].map(EFFECT_LABELS).fillna(frame["effect"])
    frame["verdict"] = np.where(frame["significant"].astype(bool), "clear bias", "no clear bias")
    base = alt.Chart(frame).encode(y=alt.Y("label:N", title=None, sort=list(EFFECT_LABELS.values())))
    scale = alt.Scale(type="log", domain=[0.25, 4], clamp=True)
    rule = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", scale=scale, title="Odds ratio (1 = not swayed)"),
        x2="ci_high:Q",
        color=alt.Color(
            "verdict:N", scale=alt.Scale(domain=["clear bias", "no clear bias"], range=["#c0392b", "#7f8c8d"])
        ),
    )
    point = base.mark_point(filled=True, size=90).encode(
        x=alt.X("odds_ratio:Q", scale=scale),
        color="verdict:N",
        tooltip=[
            "label",
            alt.Tooltip("odds_ratio:Q", format=".2f"),
            alt.Tooltip("ci_low:Q", format=".2f"),
            alt.Tooltip("ci_high:Q", format=".2f"),
            alt.Tooltip("p_value:Q", format=".3f"),
        ],
    )
    one = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 4], color="#333").encode(x="x:Q")
    return (rule + point + one).properties(title=title, width=420, height=130)


def reliability_diagram(bins: pd.DataFrame, *, title: str = "Is your confidence right?") -> alt.Chart:
    """Accuracy against stated confidence per bin, Wilson intervals, and the diagonal.

    Parameters
    ----------
    bins : DataFrame
        :func:`calibration.reliability.reliability_bins` output (``confidence``,
        ``accuracy``, ``n``, ``ci_low``, ``ci_high``); empty bins are left out.
    title : str
        Chart title.

    Returns
    -------
    altair.Chart
        The diagonal, the bins' intervals and points sized by ``n``.
    """
    frame = bins[bins["n"] > 0].copy()
    axis = alt.Scale(domain=[0.5, 1.0])
    yaxis = alt.Scale(domain=[0.0, 1.0])
    diagonal = (
        alt.Chart(pd.DataFrame({"x": [0.5, 1.0], "y": [0.5, 1.0]}))
        .mark_line(strokeDash=[4, 4], color="#333")
        .encode(
            x=alt.X("x:Q", scale=axis, title="Stated confidence", axis=alt.Axis(format="%")),
            y=alt.Y("y:Q", scale=yaxis, title="Agreed with the expert", axis=alt.Axis(format="%")),
        )
    )
    bars = (
        alt.Chart(frame)
        .mark_rule(strokeWidth=2, color="#2c7fb8")
        .encode(x=alt.X("confidence:Q", scale=axis), y=alt.Y("ci_low:Q", scale=yaxis), y2="ci_high:Q")
    )
    points = (
        alt.Chart(frame)
        .mark_point(filled=True, color="#2c7fb8")
        .encode(
            x=alt.X("confidence:Q", scale=axis),
            y=alt.Y("accuracy:Q", scale=yaxis),
            size=alt.Size("n:Q", title="judgments", scale=alt.Scale(range=[30, 300])),
            tooltip=[
                alt.Tooltip("confidence:Q", format=".0%"),
                alt.Tooltip("accuracy:Q", format=".0%"),
                "n:Q",
            ],
        )
    )
    return (diagonal + bars + points).properties(title=title, width=320, height=300)


def tag_accuracy_chart(tags: pd.DataFrame, *, title: str = "Accuracy by trap kind") -> alt.Chart:
    """Bars of accuracy per trap tag with Wilson intervals.

    Parameters
    ----------
    tags : DataFrame
        Columns ``tag``, ``n``, ``accuracy``, ``ci_low``, ``ci_high`` (as the
        report's ``tags``); tags with ``n == 0`` are left out.
    title : str
        Chart title.

    Returns
    -------
    altair.Chart
        One bar per tag, sorted by accuracy.
    """
    frame = tags[tags["n"] > 0].copy()
    base = alt.Chart(frame).encode(y=alt.Y("tag:N", title=None, sort="x"))
    bars = base.mark_bar(color="#95a5a6").encode(
        x=alt.X(
            "accuracy:Q",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%"),
            title="Agreed with the expert",
        ),
        tooltip=["tag", alt.Tooltip("accuracy:Q", format=".0%"), "n"],
    )
    err = base.mark_rule(color="#333").encode(x="ci_low:Q", x2="ci_high:Q")
    return (bars + err).properties(title=title, width=380, height=max(60, 26 * len(frame)))


def trend_chart(trend: pd.DataFrame, *, title: str = "Over time") -> alt.Chart:
    """Lines of weekly (or daily) figures, one per measure.

    Parameters
    ----------
    trend : DataFrame
        Output of :func:`calibration.trend.trend` (``period``, ``measure``, ``value``).
    title : str
        Chart title.

    Returns
    -------
    altair.Chart
        One line with points per measure over time.
    """
    return (
        alt.Chart(trend)
        .mark_line(point=True)
        .encode(
            x=alt.X("period:T", title=None),
            y=alt.Y("value:Q", title=None),
            color=alt.Color("measure:N", title=None),
            tooltip=["period:T", "measure:N", alt.Tooltip("value:Q", format=".2f")],
        )
        .properties(title=title, width=420, height=200)
    )


#: One panel per measure of :func:`calibration.progress.weekly_progress`:
#: (title, y-axis title, y format, reference line, log scale).
PROGRESS_PANELS = {
    "accuracy": ("Agreement with experts", "Agreed", ".0%", 0.5, False),
    "score": ("Score per answer (the leaderboard's)", "Skill over a coin", ".2f", 0.0, False),
    "overconfidence": ("Overconfidence", "Confidence minus accuracy", "+.0%", 0.0, False),
    "length": ("Pull of the longer answer", "Odds ratio", ".2f", 1.0, True),
    "polish": ("Pull of the more formatted answer", "Odds ratio", ".2f", 1.0, True),
    "position": ("Pull of the left side", "Odds ratio", ".2f", 1.0, True),
}


def progress_panel(
    weekly: pd.DataFrame, measure: str, *, height: int = 240, titled: bool = True
) -> alt.Chart:
    """One measure's weekly value with its 95 % interval as a band, and its reference line.

    Parameters
    ----------
    weekly : DataFrame
        :func:`calibration.progress.weekly_progress` output (any measures:
        the rows of ``measure`` are drawn; weeks without a value are gaps in
        the points and band).
    measure : str
        A key of :data:`PROGRESS_PANELS`.
    height : int, default 240
        Height in pixels; the width follows the container.
    titled : bool, default True
        Give the chart its panel's title; the app writes it above the chart
        instead, where a narrow screen wraps it.

    Returns
    -------
    altair.Chart
        Band, line, points (tooltip: week, value, interval, judgments,
        raters) and a dashed reference line (coin, 0 or an odds ratio of 1).
    """
    title, y_title, fmt, reference, log = PROGRESS_PANELS[measure]
    frame = weekly[weekly["measure"] == measure][["week", "value", "ci_low", "ci_high", "n", "raters"]]
    # weeks as ordered labels: every week keeps its place on the axis, empty ones too
    frame = frame.sort_values("week").assign(label=frame["week"].dt.strftime("%d %b"))
    weeks = frame["label"].tolist()
    shown = frame.dropna(subset=["value"]).assign(week=lambda f: f["week"].dt.strftime("%d %b %Y"))
    values = shown[["ci_low", "ci_high", "value"]].to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    # an empty panel (no week with a value) is drawn around its reference line
    lo, hi = (min(values.min(), reference), max(values.max(), reference)) if values.size else (reference,) * 2
    ticks = None
    if log:
        bottom, top = min(lo, 0.8), max(hi, 1.25)
        scale = alt.Scale(type="log", domain=[bottom, top], nice=False)
        # ratios and their reciprocals; only halvings and doublings on a wide axis
        steps = (
            (0.25, 0.4, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 2.5, 4)
            if top / bottom < 6
            else (0.125, 0.25, 0.5, 1, 2, 4, 8)
        )
        ticks = [t for t in steps if bottom <= t <= top]
    else:
        pad = 0.05 * (hi - lo or 1)
        scale = alt.Scale(domain=[lo - pad, hi + pad], nice=False, zero=False)
    x = alt.X(
        "label:O",
        title="Week starting Monday (UTC)",
        scale=alt.Scale(domain=weeks),
        axis=alt.Axis(labelOverlap="greedy", labelAngle=0),
    )
    axis = alt.Axis(format=fmt, tickCount=5) if ticks is None else alt.Axis(format=fmt, values=ticks)
    y = alt.Y("value:Q", title=y_title, scale=scale, axis=axis)
    base = alt.Chart(shown).encode(x=x)
    band = base.mark_area(opacity=0.25, color="#2c7fb8").encode(
        y=alt.Y("ci_low:Q", scale=scale), y2="ci_high:Q"
    )
    line = base.mark_line(color="#2c7fb8").encode(y=y)
    points = base.mark_point(filled=True, color="#2c7fb8", size=50).encode(
        y=y,
        tooltip=[
            alt.Tooltip("week:N", title="week of"),
            alt.Tooltip("value:Q", title=measure, format=fmt),
            alt.Tooltip("ci_low:Q", title="95 % from", format=fmt),
            alt.Tooltip("ci_high:Q", title="95 % to", format=fmt),
            alt.Tooltip("n:Q", title="judgments"),
            alt.Tooltip("raters:Q", title="raters"),
        ],
    )
    ref = (
        alt.Chart(pd.DataFrame({"y": [reference]}))
        .mark_rule(strokeDash=[4, 4], color="#555")
        .encode(y=alt.Y("y:Q", scale=scale))
    )
    chart = (ref + band + line + points).properties(height=height, width="container")
    return chart.properties(title=title) if titled else chart


def to_svg(chart: alt.Chart) -> str:
    """Render a chart to a standalone SVG string with no network (vl-convert bundles Vega).

    Parameters
    ----------
    chart : altair.Chart
        Any chart of this module.

    Returns
    -------
    str
        The SVG document, ready to inline in HTML.
    """
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_json())
