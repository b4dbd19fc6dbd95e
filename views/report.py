"""My report: a rater's own biases, calibration and progress, from their judgments only."""

from __future__ import annotations

import streamlit as st

from pairs.markdown import escape_markdown
from training import accounts, cohort
from views.common import get_store, rater_prepared, rater_version, require_user
from views.components import show_rater_report

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
version = rater_version(user.cohort, info["bank"], user.name)
show_rater_report(
    rater_prepared(user.cohort, info["bank"], user.name, version), key="mine", simulated=user.simulated
)
