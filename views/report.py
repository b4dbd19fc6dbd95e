"""My report: a rater's own biases, calibration and progress, from their judgments only."""

from __future__ import annotations

import streamlit as st

from pairs.markdown import escape_markdown
from training import accounts, cohort
from views.common import get_store, load_bank, rater_prepared, rater_version, require_user
from views.components import show_cohort_tracks, show_rater_report, show_track_picker

store = get_store()
user = require_user()
info = accounts.cohort_info(store, user.cohort_id)
st.title("My report")
if not info["bank"]:
    st.info("Your cohort has no pair bank yet.")
    st.stop()
corrected = cohort.corrections_for(store, user, info["bank"])
if len(corrected):  # the lead corrected the gold of pairs this rater answered: their figures changed
    listed = "; ".join(
        f"{escape_markdown(row.pair_id)} ({row.old} → {row.new}, {row.changed_at:%Y-%m-%d})"
        for row in corrected.itertuples()
    )
    st.caption(
        f"Your lead corrected the gold of pairs you answered, so your answers to them are scored against "
        f"the new gold: {listed}."
    )
show_track_picker(store, user, info["bank"])
version = rater_version(user.cohort, info["bank"], user.name)
domains = load_bank(info["bank"], version[-1]).set_index("id")["domain"]
show_rater_report(
    rater_prepared(user.cohort, info["bank"], user.name, version),
    key="mine",
    simulated=user.simulated,
    domains=domains,
)
if user.is_lead:
    show_cohort_tracks(store, user, info["bank"])
