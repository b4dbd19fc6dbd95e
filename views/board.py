"""The leaderboard table as the leaderboard page and the lead console draw it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pairs.export import spreadsheet_safe
from training import accounts, cohort
from views.cohort_cache import CohortCache


def people_of(store, cohort_id: int) -> set[str]:
    """Names of the cohort's people: accounts that sign in (not simulated or imported raters)."""
    raters = accounts.list_raters(store, cohort_id)
    return set(raters.loc[raters["kind"] == "account", "name"])


def readable(
    board: pd.DataFrame,
    data: CohortCache,
    *,
    store,
    cohort_id: int,
    min_n: int,
    show_simulated: bool,
    keep: tuple[str, ...] = (),
) -> pd.DataFrame:
    """:func:`training.cohort.readable_board` of ``board`` with the cache's simulated and removed raters."""
    return cohort.readable_board(
        board,
        min_n=min_n,
        simulated=data.simulated(),
        removed=data.removed(),
        people=people_of(store, cohort_id),
        show_simulated=show_simulated,
        keep=keep,
    )


def show_board(table: pd.DataFrame, *, extra: dict | None = None) -> None:
    """Draw a :func:`readable` table (and any ``extra`` column settings), spreadsheet-safe."""
    st.dataframe(
        spreadsheet_safe(table),
        hide_index=True,
        width="stretch",
        column_config={
            "rank": st.column_config.TextColumn("Rank"),
            "rater": "Rater",
            "score": st.column_config.TextColumn(
                "Score", help="Brier skill per answer, pulled toward the cohort mean until you have many"
            ),
            "score_bar": st.column_config.ProgressColumn(
                "Score (bar, -1 to 1)", min_value=-1.0, max_value=1.0, format="%.2f"
            ),
            "interval": st.column_config.TextColumn(
                "95% interval",
                help="Where your true score per answer most likely lies; it holds the score shown",
            ),
            "n": st.column_config.NumberColumn("Answers", format="%d"),
            "streak": st.column_config.NumberColumn("Streak (days)", format="%d"),
            **(extra or {}),
        },
    )
