"""My report: a rater's own biases, calibration and progress.

The figures are the rater's own judgments. The one thing the rest of the cohort
adds is how hard each pair was (:meth:`views.cohort_cache.CohortCache.rater_prepared`,
each pair's easiness measured on the other raters' answers), so the bias
verdicts a rater reads here are the ones their lead reads in the console and
in the cohort report: a pair that was hard for everyone does not count as a
pull toward its longer answer. A rater whose pairs nobody else judged gets
the bank's strata alone.
"""

from __future__ import annotations

import streamlit as st

from calibration.data import across_banks
from pairs.markdown import escape_markdown
from training import accounts, assessments, cohort
from views.cohort_cache import cohort_cache
from views.common import get_store, rater_answers, rater_version, require_user
from views.components import (
    show_cohort_tracks,
    show_qualification,
    show_rater_report,
    show_track_picker,
    show_training_effect,
)
from views.coverage import bank_domains, choose_banks, covers_sentence

store = get_store()
user = require_user()
info = accounts.cohort_info(store, user.cohort_id)
st.title("My report")
if not info["bank"]:
    st.info("Your cohort has no pair bank yet.")
    st.stop()
show_track_picker(store, user, info["bank"])
banks = choose_banks(cohort.figure_banks(store, user.cohort, info["bank"]), info["bank"], key="report_banks")
versions = {bank: rater_version(user.cohort, bank, user.name) for bank in banks}
# the rater's judgments with each pair's easiness measured on the rest of the cohort (the lead's view)
mine = cohort_cache(user.cohort, user.cohort_id, banks).rater_prepared(user.name)
# every answer, repeats included: a pair shown again with its sides swapped is a probe
answers = across_banks({bank: rater_answers(user.cohort, bank, user.name, versions[bank]) for bank in banks})
st.caption(covers_sentence(banks, len(mine)))
corrected = across_banks({bank: cohort.corrections_for(store, user, bank) for bank in banks})
if len(corrected):  # the lead corrected the gold of pairs this rater answered: their figures changed
    listed = "; ".join(
        f"{escape_markdown(row.pair_id)} ({row.old} → {row.new}, {row.changed_at:%Y-%m-%d})"
        for row in corrected.itertuples()
    )
    st.caption(
        f"Your lead corrected the gold of pairs you answered, so your answers to them are scored against "
        f"the new gold: {listed}."
    )
found = assessments.rater_assessment(store, user)
if found is not None:  # the assessment forms: the training effect and the qualification bar
    st.subheader("Training effect and readiness")
    stage = assessments.STAGE_NAMES[found["stage"]].lower()
    st.caption(f"From your assessment forms; the bar is judged on your latest, the {stage}.")
    show_qualification(found["qualification"], found["readiness"])
    show_training_effect(found["effect"], who=user.name, key="mine_effect", simulated=user.simulated)
    st.divider()
# the cohort's closed forms (read once, above): the downloaded report carries the training effect,
# fitted as the cohort's
forms = found["forms"] if found is not None else None
show_rater_report(
    mine, key="mine", simulated=user.simulated, domains=bank_domains(banks), answers=answers, forms=forms
)
if user.is_lead:
    show_cohort_tracks(store, user, info["bank"])
