"""The cohort leaderboard: ranked by a proper score, so honest confidence pays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from calibration.leaderboard import LEADERBOARD_COLUMNS, MIN_RANKED, PRIOR_JUDGMENTS, leaderboard
from pairs.judgments import spreadsheet_safe
from pairs.markdown import escape_markdown
from training import accounts
from views.common import cohort_prepared, get_store, judgments_version, require_user

store = get_store()
user = require_user()
info = accounts.cohort_info(store, user.cohort_id)
st.title(f"Leaderboard: {escape_markdown(user.cohort)}")
st.caption(
    "Each answer scores 1 - (confidence - right)^2 / 0.25: +1 for a sure right answer, 0 for a coin "
    "flip, -3 for a sure wrong one. Saying exactly how sure you are is the best strategy, so honest "
    f"confidence pays. Scores are pulled toward the cohort average until you have many answers "
    f"(a prior of {PRIOR_JUDGMENTS}); {MIN_RANKED} answers to be ranked."
)
if not info["bank"]:
    st.info("Your cohort has no pair bank yet.")
    st.stop()
window = st.segmented_control("Period", ["This week", "All time"], default="This week", key="board_window")
prepared = cohort_prepared(user.cohort, info["bank"], judgments_version(user.cohort))
now = pd.Timestamp(datetime.now(UTC))
if window == "This week":
    start = (now - timedelta(days=now.weekday())).floor("D")
    prepared = prepared[prepared["answered_at"] >= start]
if prepared.empty:
    st.info("No judgments in this period yet.")
    st.stop()


@st.cache_data(show_spinner=False, max_entries=16)
def ranking(frame: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    return leaderboard(frame, as_of=as_of)


board = ranking(prepared, now.floor("D"))
board = board.assign(
    rater=board["rater"].where(~board["rater"].str.startswith("sim-"), board["rater"] + " (simulated)")
)
me = board["rater"] == user.name


def highlight(row: pd.Series) -> list[str]:
    return ["background-color: #fff3cd; font-weight: 600" if me.loc[row.name] else ""] * len(row)


shown = board[[c for c in LEADERBOARD_COLUMNS if c not in ("raw_score", "ranked")]]
st.dataframe(
    spreadsheet_safe(shown).style.apply(highlight, axis=1),
    hide_index=True,
    width="stretch",
    column_config={
        "rank": st.column_config.NumberColumn("Rank", format="%d"),
        "rater": "Rater",
        "n": st.column_config.NumberColumn("Answers"),
        "score": st.column_config.NumberColumn(
            "Score", format="%.3f", help="Brier skill, shrunk toward the cohort mean"
        ),
        "ci_low": st.column_config.NumberColumn("CI low", format="%.3f"),
        "ci_high": st.column_config.NumberColumn("CI high", format="%.3f"),
        "accuracy": st.column_config.NumberColumn("Agreed", format="percent"),
        "overconfidence": st.column_config.NumberColumn("Overconfidence", format="%+.2f"),
        "length_or": st.column_config.NumberColumn(
            "Length OR", format="%.2f", help="Odds ratio per doubling of length; 1 = not swayed"
        ),
        "polish_or": st.column_config.NumberColumn("Polish OR", format="%.2f"),
        "streak": st.column_config.NumberColumn("Streak (days)", format="%d"),
    },
)
if not me.any():
    st.caption("You are not on the board for this period yet.")
