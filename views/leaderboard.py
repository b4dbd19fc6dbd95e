"""The cohort leaderboard: ranked by a proper score, so honest confidence pays.

Scores come from :mod:`views.cohort_cache` (each rater's row is recomputed
only when that rater has a new judgment); streaks are finished daily drills
over all time, from the drill store (``training.drills.cohort_streaks``), even
when the table shows this week only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

from calibration.leaderboard import LEADERBOARD_COLUMNS, MIN_RANKED, PRIOR_JUDGMENTS
from pairs.export import spreadsheet_safe
from pairs.markdown import escape_markdown
from training import accounts
from views.cohort_cache import cohort_cache
from views.common import get_store, require_user

store = get_store()
user = require_user()
info = accounts.cohort_info(store, user.cohort_id)
st.title(f"Leaderboard: {escape_markdown(user.cohort)}")
st.caption(
    "Each answer scores 1 - (confidence - right)^2 / 0.25: +1 for a sure right answer, 0 for a coin "
    "flip, -3 for a sure wrong one. Saying exactly how sure you are is the best strategy, so honest "
    f"confidence pays. Scores are pulled toward the cohort average until you have many answers "
    f"(a prior of {PRIOR_JUDGMENTS}); {MIN_RANKED} answers to be ranked. The streak counts days in a "
    "row with the daily drill finished."
)
if not info["bank"]:
    st.info("Your cohort has no pair bank yet.")
    st.stop()
window = st.segmented_control("Period", ["This week", "All time"], default="This week", key="board_window")
now = pd.Timestamp(datetime.now(UTC))
since = (now - timedelta(days=now.weekday())).floor("D") if window == "This week" else None
data = cohort_cache(user.cohort, user.cohort_id, info["bank"])
board = data.leaderboard(since=since, today=now.date(), k=PRIOR_JUDGMENTS, min_n=MIN_RANKED)
if board.empty:
    st.info("No judgments in this period yet.")
    st.stop()
simulated, removed = data.simulated(), data.removed()
labels = {**{r: f"{r} (simulated)" for r in simulated}, **{r: f"{r} (removed)" for r in removed}}
board = board.assign(rater=[labels.get(r, r) for r in board["rater"]])
mine = board[board["rater"] == user.name]
if len(mine):  # the viewer's own line, above the table (styling one row of a 1,000-row table costs 0.1 s)
    row = mine.iloc[0]
    c = st.columns(3)
    c[0].metric(
        "Your rank",
        f"{int(row['rank'])} of {int(board['ranked'].sum())}" if row["ranked"] else "not ranked yet",
        help=f"{MIN_RANKED} answers with a confidence to be ranked; you have {int(row['n'])}.",
    )
    c[1].metric("Your score", "n/a" if pd.isna(row["score"]) else f"{row['score']:.3f}")
    c[2].metric("Your streak", f"{int(row['streak'])} days")
else:
    st.caption("You are not on the board for this period yet.")
table = board[[c for c in LEADERBOARD_COLUMNS if c not in ("raw_score", "ranked")]]
st.dataframe(
    spreadsheet_safe(table),
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
