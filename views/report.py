"""My report: a rater's own biases, calibration and progress."""

from __future__ import annotations

import streamlit as st

from training import accounts
from views.common import cohort_prepared, get_store, judgments_version, require_user
from views.components import show_rater_report

store = get_store()
user = require_user()
info = accounts.cohort_info(store, user.cohort_id)
st.title("My report")
if not info["bank"]:
    st.info("Your cohort has no pair bank yet.")
    st.stop()
prepared = cohort_prepared(user.cohort, info["bank"], judgments_version(user.cohort))
show_rater_report(prepared[prepared["rater"] == user.name], key="mine")
