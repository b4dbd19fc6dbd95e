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

from calibration.leaderboard import MIN_RANKED, PRIOR_JUDGMENTS
from pairs.export import count_of
from pairs.markdown import escape_markdown
from training import accounts, cohort
from views.board import readable, show_board
from views.cohort_cache import cohort_cache
from views.common import get_store, require_user
from views.coverage import choose_banks, covers_sentence

store = get_store()
user = require_user()
info = accounts.cohort_info(store, user.cohort_id)
st.title(f"Leaderboard: {escape_markdown(user.cohort)}")
st.caption(
    "Each answer scores 1 - (confidence - right)^2 / 0.25: +1 for a sure right answer, 0 for a coin "
    "flip, -3 for a sure wrong one. Saying exactly how sure you are is the best strategy, so honest "
    "confidence pays. Scores are pulled toward the cohort average until you have many answers (by "
    f"empirical Bayes, never by more than {PRIOR_JUDGMENTS} answers' worth), and the 95% interval is the "
    f"interval of the score shown; {MIN_RANKED} answers to be ranked. The streak counts days in a "
    "row with the daily drill finished."
)
if not info["bank"]:
    st.info("Your cohort has no pair bank yet.")
    st.stop()
banks = choose_banks(cohort.figure_banks(store, user.cohort, info["bank"]), info["bank"], key="board_banks")
window = st.segmented_control("Period", ["This week", "All time"], default="This week", key="board_window")
now = pd.Timestamp(datetime.now(UTC))
since = (now - timedelta(days=now.weekday())).floor("D") if window == "This week" else None
data = cohort_cache(user.cohort, user.cohort_id, banks)
board = data.leaderboard(  # the board shows no odds ratios: the bias model is not fitted for it
    since=since, today=now.date(), k=PRIOR_JUDGMENTS, min_n=MIN_RANKED, with_bias=False
)
if board.empty:
    st.info("No judgments in this period yet.")
    st.stop()
show_simulated = user.is_lead and st.checkbox(
    "Show simulated raters", key="board_show_simulated", help="They are left out once people have answers."
)
table = readable(
    board, data, store=store, cohort_id=user.cohort_id, min_n=MIN_RANKED, show_simulated=show_simulated
)
mine = board[board["rater"] == user.name]
if len(mine):  # the viewer's own line, above the table (styling one row of a 1,000-row table costs 0.1 s)
    row = mine.iloc[0]
    missing = max(MIN_RANKED - int(row["n"]), 0)
    shown_rank = table.loc[table["rater"] == user.name, "rank"].iloc[0] if row["ranked"] else None
    c = st.columns(3)
    c[0].metric(
        "Your rank",
        f"{shown_rank} of {int(table['rank'].str.isdigit().sum())}" if row["ranked"] else "not ranked yet",
        help=f"{MIN_RANKED} answers with a confidence to be ranked; you have {int(row['n'])}.",
    )
    c[1].metric(
        "Your score",
        "n/a" if pd.isna(row["score"]) else f"{row['score']:.3f}",
        help=None
        if pd.isna(row["ci_low"])
        else f"95% interval {row['ci_low']:.3f} to {row['ci_high']:.3f}: where your true score likely lies.",
    )
    c[2].metric("Your streak", count_of(row["streak"], "day"))
    if not row["ranked"]:
        st.caption(f"{count_of(missing, 'more answer')} with a confidence and you are ranked.")
else:
    st.caption("You are not on the board for this period yet.")
st.caption(
    f"Ranked after {MIN_RANKED} answers with a confidence; until then a row says how many are missing."
)
st.caption(covers_sentence(banks, int(board["n"].sum())) + " Answers with a confidence are counted.")
show_board(table)
