"""My report: a rater's own biases, calibration and progress, from their judgments only."""

from __future__ import annotations

import streamlit as st

from training import accounts
from views.common import get_store, rater_prepared, rater_version, require_user
from views.components import show_rater_report

store = get_store()
user = require_user()
info = accounts.cohort_info(store, user.cohort_id)
st.title("My report")
if not info["bank"]:
    st.info("Your cohort has no pair bank yet.")
    st.stop()
version = rater_version(user.cohort, info["bank"], user.name)
show_rater_report(
    rater_prepared(user.cohort, info["bank"], user.name, version), key="mine", simulated=user.simulated
)
