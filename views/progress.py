"""The lead console's Progress tab: the cohort's weekly measures, who has not drilled, who improved most."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from calibration import charts
from calibration.progress import (
    MEASURES,
    MIN_HALF,
    inactive_raters,
    most_improved,
    week_start,
    weekly_progress,
)
from pairs.export import count_of
from pairs.judgments import spreadsheet_safe
from pairs.markdown import escape_markdown

__all__ = ["CHANGE_FORMATS", "improved_table", "inactive_table", "show_cohort_progress"]

_PANELS_PER_ROW = 3  # Streamlit stacks columns on a narrow screen: one panel a row on a phone


def show_cohort_progress(
    prepared: pd.DataFrame,
    roster: pd.DataFrame,
    *,
    simulated: set[str],
    streaks: dict[str, int],
    today: pd.Timestamp,
    banks: Sequence[str],
    version: tuple | None = None,
    key: str = "progress",
) -> None:
    """Draw the Progress view of a cohort.

    Parameters
    ----------
    prepared : DataFrame
        The cohort's prepared judgments on ``banks`` (``CohortCache.prepared``).
    roster : DataFrame
        ``training.accounts.list_raters`` of the cohort.
    simulated : set of str
        Raters the database marks simulated (labelled; left out beside people
        unless the lead ticks the box, as on the leaderboard).
    streaks : dict
        Each rater's drill streak (``CohortCache.streaks``).
    today : Timestamp
        Now (UTC): "this week" is its ISO week.
    banks : sequence of str
        The banks the figures cover (named in the caption).
    version : tuple, optional
        Names the cohort and the version of ``prepared`` (its id,
        ``CohortCache.version`` and the banks' revisions): the weekly figures
        and the improved table are computed once per version and kept for
        every session of the server; without it, on every run. It must name
        the cohort, or two cohorts could share figures.
    key : str
        Prefix of the widget keys.
    """
    people = (set(prepared["rater"]) if len(prepared) else set()) - simulated
    show_simulated = bool(simulated) and st.checkbox(
        "Show simulated raters",
        key=f"{key}_show_simulated",
        help="Simulated raters are left out of these figures once people have answers.",
    )
    if people and not show_simulated:
        prepared = prepared[~prepared["rater"].isin(simulated).to_numpy()]
        roster = roster[~roster["simulated"].astype(bool).to_numpy()] if "simulated" in roster else roster
    this_week = week_start(today)
    dated = prepared["answered_at"].notna() if len(prepared) else pd.Series(dtype=bool)

    st.subheader("Week by week")
    if not dated.any():
        st.info("No dated judgments yet: the weekly figures appear after the first drill.")
    else:
        weekly, improved = _figures(prepared, simulated, key=(tuple(banks), version, show_simulated))
        st.caption(_coverage(prepared[dated.to_numpy()], weekly, banks, simulated=simulated))
        for start in range(0, len(MEASURES), _PANELS_PER_ROW):
            columns = st.columns(_PANELS_PER_ROW)
            for column, measure in zip(columns, MEASURES[start : start + _PANELS_PER_ROW], strict=False):
                column.markdown(f"**{charts.PROGRESS_PANELS[measure][0]}**")
                column.altair_chart(charts.progress_panel(weekly, measure, titled=False), width="stretch")
        latest = weekly[weekly["week"].eq(weekly["week"].max())]
        gaps = latest[latest["reason"].ne("")]
        if len(gaps):
            st.caption(
                f"No point yet for the week of {latest['week'].iloc[0]:%d %b} in "
                f"{', '.join(gaps['measure'])}: {count_of(latest['n'].max(), 'judgment')} so far "
                f"(accuracy, score and overconfidence need 10 a week, the pulls 30 from 2 raters)."
            )

    st.subheader("Has not drilled this week")
    idle = inactive_raters(roster, prepared, as_of=today, streaks=streaks)
    drilling = roster["role"].eq("rater") if "role" in roster.columns else pd.Series(True, index=roster.index)
    if "removed_at" in roster.columns:
        drilling &= roster["removed_at"].isna()
    if idle.empty and not drilling.any():
        st.info("No rater has joined yet: share the invite code.")
    elif idle.empty:
        st.success(f"Everyone has drilled this week (since Monday {this_week:%d %b}).")
    else:
        st.caption(
            f"{len(idle)} rater(s) with no answer since Monday {this_week:%d %b} 00:00 UTC; "
            "those who never drilled first, then the longest absent."
        )
        st.dataframe(spreadsheet_safe(inactive_table(idle)), hide_index=True, width="stretch")

    st.subheader("Improved most")
    if not dated.any():
        improved = most_improved(prepared, simulated=simulated)
    ranked = improved[improved["rank"].notna()]
    st.caption(
        "Each rater's earlier half of their answers (before) against their later half (after). "
        "Ranked by the lower end of the 95% interval of the change in agreement, so the surest "
        f"improvement comes first, not the luckiest; compared only with {MIN_HALF} decided answers "
        f"in each half. *Clearly* means the interval stays above zero even allowing for the "
        f"{count_of(len(ranked), 'rater')} compared."
    )
    if ranked.empty:
        st.info(f"Nobody has {2 * MIN_HALF} decided answers yet: nobody can be compared.")
    else:
        st.dataframe(
            spreadsheet_safe(improved_table(ranked)),
            hide_index=True,
            width="stretch",
            column_config={
                name: st.column_config.NumberColumn(format=f) for name, f in CHANGE_FORMATS.items()
            },
        )
    waiting = len(improved) - len(ranked)
    if waiting:
        st.caption(f"{waiting} rater(s) not compared yet: too few answers.")


@st.cache_data(show_spinner="Computing the weekly figures...", max_entries=16)
def _cached_figures(
    _prepared: pd.DataFrame, _simulated: set[str], key: tuple
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`_compute` once per ``key`` (the frame itself is not hashed: its version is in ``key``)."""
    return _compute(_prepared, _simulated)


def _compute(prepared: pd.DataFrame, simulated: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return weekly_progress(prepared), most_improved(prepared, simulated=simulated)


def _figures(prepared: pd.DataFrame, simulated: set[str], *, key: tuple) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The weekly figures and the improved table; cached when ``key`` holds a version."""
    if key[1] is None:
        return _compute(prepared, simulated)
    return _cached_figures(prepared, simulated, key)


def _coverage(dated: pd.DataFrame, weekly: pd.DataFrame, banks: Sequence[str], *, simulated: set[str]) -> str:
    """What the weekly figures cover: weeks, judgments, raters (how many simulated), banks."""
    first, last = weekly["week"].min(), weekly["week"].max()
    weeks = len(weekly["week"].unique())
    raters = set(dated["rater"])
    demo = len(raters & simulated)
    who = f"{len(raters)} rater{'' if len(raters) == 1 else 's'}" + (
        f" ({demo} of them simulated)" if demo else ""
    )
    names = ", ".join(escape_markdown(b) for b in banks)
    where = f"the bank {names}" if len(banks) == 1 else f"{len(banks)} banks ({names})"
    return (
        f"{count_of(weeks, 'week')}, {first:%d %b %Y} to the week of {last:%d %b %Y} "
        f"(Monday to Sunday, UTC): {count_of(len(dated), 'judgment')} by {who} on {where}, "
        "first answers only. Bands are 95% intervals "
        "that count each rater once (raters differ, so a rater's many answers are not independent). "
        "A week with too little data has no point."
    )


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _percent(x: float) -> str:
    return _NONE if _missing(x) else f"{round(100 * x)}%"


def _between(low: float, high: float, scale: float, digits: int) -> str:
    """An interval as text that no spreadsheet reads as a formula: ``from -5 to +24``."""
    if _missing(low) or _missing(high):
        return _NONE
    lo, hi = round(scale * low, digits), round(scale * high, digits)
    return f"from {lo + 0:+.{digits}f} to {hi + 0:+.{digits}f}"  # + 0: no "-0"


def _label(rater: str, simulated: bool) -> str:
    return f"{rater} (simulated)" if simulated else rater


_NONE = "\u2014"  # an em dash where there is no value: not "None", and no spreadsheet formula
CHANGE_FORMATS = {"Change (pts)": "%+d", "Score change": "%+.2f"}
"""How the view formats the improved table's numeric columns (``st.column_config.NumberColumn``)."""


def inactive_table(idle: pd.DataFrame) -> pd.DataFrame:
    """:func:`calibration.progress.inactive_raters` as shown: text cells, no empty ones.

    Parameters
    ----------
    idle : DataFrame
        Its output.

    Returns
    -------
    DataFrame
        Columns ``Rater``, ``Last drill``, ``Days since``, ``Streak (days)``.

    Examples
    --------
    >>> idle = pd.DataFrame({"rater": ["a", "sim-b"], "simulated": [False, True],
    ...     "last_drill": pd.to_datetime([None, "2026-03-02"], utc=True), "days_since": [float("nan"), 9.0],
    ...     "streak": [0, 0]})
    >>> inactive_table(idle).values.tolist()
    [['a', 'never', '\u2014', 0], ['sim-b (simulated)', 'Mon 02 Mar 2026', '9', 0]]
    """
    return pd.DataFrame(
        {
            "Rater": [_label(r, s) for r, s in zip(idle["rater"], idle["simulated"], strict=True)],
            "Last drill": ["never" if pd.isna(d) else f"{d:%a %d %b %Y}" for d in idle["last_drill"]],
            "Days since": [_NONE if pd.isna(d) else str(int(d)) for d in idle["days_since"]],
            "Streak (days)": idle["streak"].astype(int).to_numpy(),
        }
    )


def improved_table(ranked: pd.DataFrame) -> pd.DataFrame:
    """The ranked rows of :func:`calibration.progress.most_improved` as shown: text cells, no empty ones.

    Parameters
    ----------
    ranked : DataFrame
        Its rows with a rank.

    Returns
    -------
    DataFrame
        Columns ``Rank``, ``Rater``, ``Agreed before`` and ``Agreed after``
        (the earlier and later half), ``Change (pts)`` (percentage points, a
        number: see :data:`CHANGE_FORMATS`), ``95% interval`` (of the
        change, in points), ``Score change`` (a number), ``Score interval``,
        ``Answers`` (earlier / later), ``Clearly improved``. Intervals are text ``from -5 to +24``, which no
        spreadsheet runs as a formula.

    Examples
    --------
    >>> row = pd.DataFrame({"rank": [1.0], "rater": ["a"], "simulated": [False], "n_early": [40],
    ...     "n_late": [41], "accuracy_early": [0.6], "accuracy_late": [0.8], "accuracy_change": [0.2],
    ...     "accuracy_ci_low": [0.004], "accuracy_ci_high": [0.38], "score_change": [0.31],
    ...     "score_ci_low": [-0.02], "score_ci_high": [0.64], "clearly_improved": [False]})
    >>> improved_table(row).iloc[0].astype(str).tolist()
    ['1', 'a', '60%', '80%', '20.0', 'from +0 to +38', '0.31', 'from -0.02 to +0.64', '40 / 41', 'no']
    """
    return pd.DataFrame(
        {
            "Rank": [str(int(r)) for r in ranked["rank"]],
            "Rater": [_label(r, s) for r, s in zip(ranked["rater"], ranked["simulated"], strict=True)],
            "Agreed before": [_percent(x) for x in ranked["accuracy_early"]],
            "Agreed after": [_percent(x) for x in ranked["accuracy_late"]],
            "Change (pts)": (100 * ranked["accuracy_change"].to_numpy(dtype=float)).round() + 0,
            "95% interval": [
                _between(lo, hi, 100, 0)
                for lo, hi in zip(ranked["accuracy_ci_low"], ranked["accuracy_ci_high"], strict=True)
            ],
            "Score change": ranked["score_change"].to_numpy(dtype=float).round(2) + 0,
            "Score interval": [
                _between(lo, hi, 1, 2)
                for lo, hi in zip(ranked["score_ci_low"], ranked["score_ci_high"], strict=True)
            ],
            "Answers": [f"{a} / {b}" for a, b in zip(ranked["n_early"], ranked["n_late"], strict=True)],
            "Clearly improved": ["yes" if c else "no" for c in ranked["clearly_improved"]],
        }
    )
