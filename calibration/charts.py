"""Altair charts of the statistics, shared by the app and the exported report.

Each function takes the tidy frame a statistic returns and gives an
``altair.Chart``; the app shows it with ``st.altair_chart``, the report renders
it to inline SVG (:func:`to_svg`) so the file opens offline.

The charts of the report carry their rows as inline values (JSON numbers and
strings, NaN as null), never as a DataFrame: Altair turns a DataFrame into data
through a data transformer that is global to the process, and the app's
Streamlit swaps in its own (rows replaced by a reference to data kept
elsewhere) while it draws a chart, so a report rendered at that moment on
another thread would embed charts without data. Each sets its own ``autosize``
(``fit-x``: the width fits the page or the given width, the height grows with
the rows) and, where rows are categories, a height per row (``alt.Step``), so a
chart is as readable in the app, where Streamlit would otherwise squeeze a
chart's whole drawing, axes and title included, into its given height, as in
the exported HTML.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

__all__ = [
    "EFFECT_LABELS",
    "PROGRESS_PANELS",
    "ROWS",
    "ROW_STEP",
    "corp_diagram",
    "drawn_rows",
    "forest_plot",
    "inline_values",
    "progress_panel",
    "reliability_diagram",
    "tag_accuracy_chart",
    "to_svg",
    "trend_chart",
]

ROW_STEP = 34
"""Pixels per row of the charts whose rows are categories (effects, trap kinds)."""

ROWS = "rows"
"""The name of a chart's inline data holding the statistic's rows (reference lines have none)."""

_AUTOSIZE = alt.AutoSizeParams(type="fit-x", contains="padding")


def _plain(value: object) -> object:
    """One cell as a JSON value: numpy scalars as Python ones, NaN, NaT and None as None,
    timestamps as ISO 8601 strings."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return str(value)


def inline_values(frame: pd.DataFrame, *, rows: bool = True) -> alt.Data:
    """A frame's rows as inline Vega-Lite data, independent of Altair's global data transformer.

    Parameters
    ----------
    frame : DataFrame
        The rows to draw.
    rows : bool, default True
        Whether these are the statistic's rows (named :data:`ROWS`, found by
        :func:`drawn_rows`), rather than a reference line's.

    Returns
    -------
    altair.Data
        ``{"values": [...]}`` with one record per row; NaN is null.
    """
    values = [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]
    return alt.Data(values=values, name=ROWS) if rows else alt.Data(values=values)


def drawn_rows(chart: alt.TopLevelMixin) -> list[dict]:
    """The statistic's rows a chart of this module draws (its data named :data:`ROWS`).

    Parameters
    ----------
    chart : altair.Chart or altair.LayerChart
        A chart of this module.

    Returns
    -------
    list of dict
        The records (empty when the chart would draw no mark of data, only axes
        and reference lines).
    """
    layers = chart.layer if isinstance(chart, alt.LayerChart) else [chart]
    for layer in [chart, *layers]:
        data = layer.data
        if isinstance(data, alt.Data) and data.to_dict().get("name") == ROWS:
            return list(data.to_dict().get("values", []))
    return []


def _titled(chart: alt.LayerChart, title: str | None) -> alt.LayerChart:
    """The chart with its title; none when the page already heads it (the app's subheaders)."""
    return chart if title is None else chart.properties(title=title)


def _numeric(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``columns`` as floats (None, strings of numbers and objects alike; a missing column all NaN);
    other columns as they are."""
    frame = frame.reindex(columns=list(dict.fromkeys([*frame.columns, *columns])))
    return frame.assign(**{c: pd.to_numeric(frame[c], errors="coerce").astype(float) for c in columns})


EFFECT_LABELS = {
    "length": "Longer answer (x2 length)",
    "polish": "More formatted answer",
    "position": "Answer on the left",
}


#: The forest plot's legend: "found" for a line the verdict calls (the report's "You favour ..."),
#: whose 95% interval may still reach 1 when the evidence is moderate, so not "clear".
FOUND, NOT_FOUND = "bias found", "no clear bias"


def forest_plot(bias: pd.DataFrame, *, title: str | None = "What sways your choices") -> alt.LayerChart:
    """Odds ratios with 95% CIs on a log axis; 1 = no bias.

    Parameters
    ----------
    bias : DataFrame
        Rows of :func:`calibration.bias.bias_by_rater` for one rater (or of
        :func:`calibration.bias.pooled_bias`); effects not estimable are left out.
    title : str or None
        Chart title; None for none.

    Returns
    -------
    altair.Chart
        Interval rules and points, red where the bias is significant.
    """
    bias = bias.reindex(columns=list(dict.fromkeys([*bias.columns, "effect", "estimable", "significant"])))
    frame = _numeric(bias, ["odds_ratio", "ci_low", "ci_high", "p_value"])
    frame = frame[frame["estimable"].fillna(False).astype(bool) & frame["odds_ratio"].notna()]
    frame = frame.assign(
        label=frame["effect"].map(EFFECT_LABELS).fillna(frame["effect"]).astype(str),
        verdict=np.where(frame["significant"].fillna(False).astype(bool), FOUND, NOT_FOUND),
    )
    frame = frame.assign(ci_low=frame["ci_low"].fillna(frame["odds_ratio"]))
    frame = frame.assign(ci_high=frame["ci_high"].fillna(frame["odds_ratio"]))
    order = [label for label in EFFECT_LABELS.values() if label in set(frame["label"])]
    order += [label for label in frame["label"] if label not in order]
    columns = ["effect", "label", "verdict", "odds_ratio", "ci_low", "ci_high", "p_value"]
    y = alt.Y("label:N", title=None, sort=order, axis=alt.Axis(labelLimit=220))
    base = alt.Chart(inline_values(frame[columns])).encode(y=y)
    scale = alt.Scale(type="log", domain=[0.25, 4], clamp=True, nice=False)
    ticks = [0.25, 0.5, 1, 2, 4]
    color = alt.Color(
        "verdict:N",
        title=None,
        scale=alt.Scale(domain=[FOUND, NOT_FOUND], range=["#c0392b", "#7f8c8d"]),
        legend=alt.Legend(orient="bottom"),
    )
    rule = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", scale=scale, title="Odds ratio (1 = not swayed)", axis=alt.Axis(values=ticks)),
        x2="ci_high:Q",
        color=color,
    )
    point = base.mark_point(filled=True, size=90).encode(
        x=alt.X("odds_ratio:Q", scale=scale),
        color=color,
        tooltip=[
            alt.Tooltip("label:N", title="effect"),
            alt.Tooltip("odds_ratio:Q", format=".2f", title="odds ratio"),
            alt.Tooltip("ci_low:Q", format=".2f", title="95% from"),
            alt.Tooltip("ci_high:Q", format=".2f", title="95% to"),
            alt.Tooltip("p_value:Q", format=".3f", title="p"),
        ],
    )
    one = (
        alt.Chart(inline_values(pd.DataFrame({"x": [1.0]}), rows=False))
        .mark_rule(strokeDash=[4, 4], color="#333")
        .encode(x=alt.X("x:Q", scale=scale))
    )
    chart = (rule + point + one).properties(width=440, height=alt.Step(ROW_STEP), autosize=_AUTOSIZE)
    return _titled(chart, title)


def _confidence_axes() -> tuple[alt.Scale, alt.Scale, alt.Chart]:
    """The scales of a confidence diagram (stated 50-100%, agreement 0-100%) and its dashed diagonal."""
    axis = alt.Scale(domain=[0.5, 1.0])
    yaxis = alt.Scale(domain=[0.0, 1.0])
    diagonal = (
        alt.Chart(inline_values(pd.DataFrame({"x": [0.5, 1.0], "y": [0.5, 1.0]}), rows=False))
        .mark_line(strokeDash=[4, 4], color="#333")
        .encode(
            x=alt.X("x:Q", scale=axis, title="Stated confidence", axis=alt.Axis(format="%")),
            y=alt.Y("y:Q", scale=yaxis, title="Agreed with the expert", axis=alt.Axis(format="%")),
        )
    )
    return axis, yaxis, diagonal


def reliability_diagram(
    bins: pd.DataFrame, *, title: str | None = "Is your confidence right?"
) -> alt.LayerChart:
    """Accuracy against stated confidence per bin, Wilson intervals, and the diagonal.

    Parameters
    ----------
    bins : DataFrame
        :func:`calibration.reliability.reliability_bins` output (``confidence``,
        ``accuracy``, ``n``, ``ci_low``, ``ci_high``); empty bins are left out.
    title : str or None
        Chart title; None for none.

    Returns
    -------
    altair.Chart
        The diagonal, the bins' intervals and points sized by ``n``.
    """
    frame = _numeric(bins, ["confidence", "accuracy", "ci_low", "ci_high", "n"])
    frame = frame[(frame["n"] > 0) & frame["confidence"].notna() & frame["accuracy"].notna()]
    frame = frame[["confidence", "accuracy", "ci_low", "ci_high", "n"]]
    axis, yaxis, diagonal = _confidence_axes()
    bars = (
        alt.Chart(inline_values(frame))
        .mark_rule(strokeWidth=2, color="#2c7fb8")
        .encode(x=alt.X("confidence:Q", scale=axis), y=alt.Y("ci_low:Q", scale=yaxis), y2="ci_high:Q")
    )
    points = (
        alt.Chart(inline_values(frame))
        .mark_point(filled=True, color="#2c7fb8")
        .encode(
            x=alt.X("confidence:Q", scale=axis),
            y=alt.Y("accuracy:Q", scale=yaxis),
            size=alt.Size("n:Q", title="judgments", scale=alt.Scale(range=[30, 300], zero=False)),
            tooltip=[
                alt.Tooltip("confidence:Q", format=".0%"),
                alt.Tooltip("accuracy:Q", format=".0%"),
                alt.Tooltip("n:Q", title="judgments"),
            ],
        )
    )
    return _titled((diagonal + bars + points).properties(width=440, height=300, autosize=_AUTOSIZE), title)


CORP_COLUMNS = ["confidence", "calibrated", "accuracy", "n"]


def corp_diagram(
    corp: pd.DataFrame,
    *,
    mcb: float | None = None,
    dsc: float | None = None,
    unc: float | None = None,
    title: str | None = "How often you are right at each confidence",
) -> alt.LayerChart:
    """The CORP reliability diagram: the isotonic estimate of accuracy at each stated confidence.

    Dimitriadis, Gneiting & Jordan (2021): no bins to choose; the curve is the
    pool-adjacent-violators fit of being right on the stated confidence
    (:func:`calibration.reliability.corp_reliability`), drawn as steps over the
    confidences the rater used, with the raw share right at each confidence as
    points sized by their judgments. On the dashed diagonal the confidence is
    calibrated; a flat curve means confidence without resolution. The grey
    band is the 90% consistency band
    (:func:`calibration.reliability.corp_consistency_band`): where the curve
    of a calibrated rater with the same confidences and counts would fall, so
    a step outside it is more than chance. The subtitle gives the Brier
    decomposition ``MCB - DSC + UNC`` when given.

    Parameters
    ----------
    corp : DataFrame
        The curve (``CorpReliability.curve``, or a report's ``calibration.corp``):
        columns ``confidence``, ``calibrated``, ``accuracy``, ``n``.
    mcb, dsc, unc : float, optional
        Miscalibration, discrimination and uncertainty, for the subtitle.
    title : str or None
        Chart title; None for none (then the decomposition is not written either).

    Returns
    -------
    altair.LayerChart
        The diagonal, the consistency band, the steps of the fit and the raw points.
    """
    from calibration.reliability import corp_consistency_band

    frame = _numeric(corp, CORP_COLUMNS)
    frame = frame[(frame["n"] > 0) & frame["confidence"].notna() & frame["calibrated"].notna()]
    frame = frame[CORP_COLUMNS].sort_values("confidence")
    low, high = corp_consistency_band(frame["confidence"].to_numpy(), frame["n"].to_numpy(dtype=int))
    frame = frame.assign(band_low=low, band_high=high)
    axis, yaxis, diagonal = _confidence_axes()
    band = (
        alt.Chart(inline_values(frame))
        .mark_area(interpolate="step-after", color="#bbbbbb", opacity=0.45)
        .encode(x=alt.X("confidence:Q", scale=axis), y=alt.Y("band_low:Q", scale=yaxis), y2="band_high:Q")
    )
    steps = (
        alt.Chart(inline_values(frame))
        .mark_line(interpolate="step-after", color="#d95f02", strokeWidth=2.5)
        .encode(x=alt.X("confidence:Q", scale=axis), y=alt.Y("calibrated:Q", scale=yaxis))
    )
    points = (
        alt.Chart(inline_values(frame))
        .mark_point(filled=True, color="#7570b3", opacity=0.6)
        .encode(
            x=alt.X("confidence:Q", scale=axis),
            y=alt.Y("accuracy:Q", scale=yaxis),
            size=alt.Size("n:Q", title="judgments", scale=alt.Scale(range=[20, 240], zero=False)),
            tooltip=[
                alt.Tooltip("confidence:Q", format=".0%", title="stated"),
                alt.Tooltip("calibrated:Q", format=".0%", title="estimated right (CORP)"),
                alt.Tooltip("accuracy:Q", format=".0%", title="right at this confidence"),
                alt.Tooltip("n:Q", title="judgments"),
            ],
        )
    )
    chart = (diagonal + band + steps + points).properties(width=440, height=300, autosize=_AUTOSIZE)
    if title is None:
        return chart
    figures = [
        (name, value) for name, value in (("MCB", mcb), ("DSC", dsc), ("UNC", unc)) if value is not None
    ]
    if len(figures) == 3 and all(np.isfinite(v) for _, v in figures):
        subtitle = [  # short lines: a phone's width holds about 55 characters
            f"miscalibration MCB {mcb:.3f}, discrimination DSC {dsc:.3f},",
            f"uncertainty UNC {unc:.3f} (Brier score = MCB - DSC + UNC)",
        ]
        return chart.properties(title=alt.TitleParams(title, subtitle=subtitle))
    return chart.properties(title=title)


def tag_accuracy_chart(tags: pd.DataFrame, *, title: str | None = "Accuracy by trap kind") -> alt.LayerChart:
    """Bars of accuracy per trap tag with Wilson intervals.

    Parameters
    ----------
    tags : DataFrame
        Columns ``tag``, ``n``, ``accuracy``, ``ci_low``, ``ci_high`` (as the
        report's ``tags``); tags with ``n == 0`` are left out.
    title : str or None
        Chart title; None for none.

    Returns
    -------
    altair.Chart
        One bar per tag, sorted by accuracy.
    """
    frame = _numeric(
        tags.reindex(columns=list(dict.fromkeys([*tags.columns, "tag"]))),
        ["n", "accuracy", "ci_low", "ci_high"],
    )
    frame = frame[(frame["n"] > 0) & frame["accuracy"].notna()]
    frame = frame.assign(tag=frame["tag"].astype(str), n=frame["n"].astype(int))
    frame = frame.sort_values(["accuracy", "tag"], kind="stable")[
        ["tag", "n", "accuracy", "ci_low", "ci_high"]
    ]
    y = alt.Y("tag:N", title=None, sort=frame["tag"].tolist(), axis=alt.Axis(labelLimit=220))
    base = alt.Chart(inline_values(frame)).encode(y=y)
    x = alt.X(
        "accuracy:Q",
        scale=alt.Scale(domain=[0, 1]),
        axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1]),
        title="Agreed with the expert",
    )
    bars = base.mark_bar(color="#95a5a6").encode(
        x=x,
        tooltip=[
            alt.Tooltip("tag:N", title="trap kind"),
            alt.Tooltip("accuracy:Q", format=".0%", title="agreed"),
            alt.Tooltip("n:Q", title="judgments"),
        ],
    )
    err = base.mark_rule(color="#333").encode(
        x=alt.X("ci_low:Q", scale=alt.Scale(domain=[0, 1])), x2="ci_high:Q"
    )
    return _titled((bars + err).properties(width=440, height=alt.Step(ROW_STEP), autosize=_AUTOSIZE), title)


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
    frame = _numeric(trend, ["value"]).dropna(subset=["value"])[["period", "measure", "value"]]
    return (
        alt.Chart(inline_values(frame))
        .mark_line(point=True)
        .encode(
            x=alt.X("period:T", title=None),
            y=alt.Y("value:Q", title=None),
            color=alt.Color(
                "measure:N", title=None, legend=alt.Legend(orient="bottom", columns=1, labelLimit=320)
            ),
            tooltip=["period:T", "measure:N", alt.Tooltip("value:Q", format=".2f")],
        )
        .properties(title=title, width=440, height=200, autosize=_AUTOSIZE)
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
    """One measure's weekly value with its 95% interval as a band, and its reference line.

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
            alt.Tooltip("ci_low:Q", title="95% from", format=fmt),
            alt.Tooltip("ci_high:Q", title="95% to", format=fmt),
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


def to_svg(chart: alt.Chart | alt.LayerChart) -> str:
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
