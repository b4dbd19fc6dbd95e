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
    "forest_plot",
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
