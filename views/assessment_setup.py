"""The lead console's Assessments tab: pairs set aside, the parallel forms, the schedule and bar, the effect.

Shown by ``views/lead.py``; every action goes through :mod:`training.assessments`, which checks the
lead's role again.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import streamlit as st

from pairs.judgments import spreadsheet_safe
from pairs.markdown import escape_markdown
from storage.store import Store
from training import assessments
from training.accounts import AccountError, Rater
from views.common import FLASH
from views.components import show_training_effect


def _percent(value: float) -> str:
    return "–" if value != value else f"{round(100 * value)}%"


def _over(value: float) -> str:
    """Overconfidence in words, "12 points over" or "3 points under" (no sign to pass for a formula)."""
    if value != value:
        return "–"
    points = round(100 * value)
    return "calibrated" if points == 0 else f"{abs(points)} points {'over' if points > 0 else 'under'}"


def _set_aside(store: Store, lead: Rater, bank: str, ids: list[str] | None, *, marked: bool = True) -> None:
    """Mark (or give back) pairs, then rerun with what happened said."""
    try:
        changed = assessments.mark_pairs(store, lead, bank, ids, marked=marked)
    except AccountError as refused:
        st.error(str(refused))
        return
    verb = "Set aside" if marked else "Gave back to drills"
    st.session_state[FLASH] = f"{verb} {changed} pairs of {bank}; the forms were split again."
    st.rerun()


def show_pairs_aside(store: Store, lead: Rater, bank: str, drill_bank: str | None) -> None:
    """How many pairs are set aside, the controls to change that, and how well the forms match."""
    pairs = store.load_bank(bank)
    forms = assessments.forms_of(store, lead.cohort_id, bank)
    held = assessments.hidden_pairs(store, lead.cohort_id, bank)
    counts = forms.value_counts().sort_index()
    split = ", ".join(f"form {label}: {n} pairs" for label, n in counts.items())
    st.write(
        f"{len(held)} of {len(pairs)} pairs of {escape_markdown(bank)} are set aside for assessment forms"
        + (f" ({split})." if split else ".")
        + " No drill, practice round or review of this cohort shows them."
    )
    free = sorted(set(pairs["id"].astype(str)) - held)
    c1, c2 = st.columns(2)
    with c1.form("aside_random"):
        n = st.number_input(
            "Set aside pairs at random", 4, max(4, len(free)), value=min(40, max(4, len(free))), key="aside_n"
        )
        if st.form_submit_button("Set them aside"):
            rng = np.random.default_rng(len(held) + lead.cohort_id)
            picked = [free[i] for i in rng.permutation(len(free))[: int(n)]]
            _set_aside(store, lead, bank, picked)
    with c2.form("aside_chosen"):
        chosen = st.multiselect("Or choose pairs", free, key="aside_ids")
        if st.form_submit_button("Set the chosen pairs aside"):
            _set_aside(store, lead, bank, chosen)
    c3, c4 = st.columns(2)
    whole = c3.button(
        "Set the whole bank aside",
        key="aside_bank",
        disabled=bank == drill_bank,
        help="For a bank kept for assessments only; not the bank the cohort drills on.",
    )
    if whole:
        _set_aside(store, lead, bank, None)
    if held and c4.button("Give every pair back to drills", key="aside_clear"):
        _set_aside(store, lead, bank, sorted(held), marked=False)
    if len(counts) >= 2:
        st.markdown("**How well the forms are matched**")
        balance = assessments.form_balance(store, lead.cohort_id, bank)
        shown = balance.drop(columns=[c for c in ("criterion", "kind") if c in balance.columns])
        # numbers as text with two decimals; the size row has no standardized difference: an
        # empty cell, not "None"
        for column in shown.columns:
            if pd.api.types.is_float_dtype(shown[column]):
                shown[column] = [
                    "" if pd.isna(v) else f"{v:.2f}".rstrip("0").rstrip(".") for v in shown[column]
                ]
        st.dataframe(spreadsheet_safe(shown), hide_index=True, key="form_balance")
        st.caption(
            "Each row compares the forms on one thing that makes a pair hard or tempting; smd is the "
            "largest difference between forms in standard deviations of the bank (below 0.1: well matched)."
        )
    elif held:
        st.caption("Set aside at least 4 pairs to split them into two forms.")


def show_schedule(store: Store, lead: Rater, bank: str) -> None:
    """The schedule and the qualification bar, as one form."""
    current = assessments.plan(store, lead.cohort_id) or {**assessments.DEFAULT_PLAN, "bank": bank}
    with st.form("assessment_plan"):
        c1, c2, c3 = st.columns(3)
        days = c1.number_input(
            "Post form after days (0: not by days)",
            0,
            365,
            value=int(current["post_after_days"] or 0),
            key="plan_days",
        )
        drills_n = c2.number_input(
            "…or after finished drills (0: not by drills)",
            0,
            365,
            value=int(current["post_after_drills"] or 0),
            key="plan_drills",
        )
        keep = c3.number_input(
            "Retention form after days (0: none)",
            0,
            365,
            value=int(current["retention_after_days"] or 0),
            key="plan_retention",
        )
        c4, c5, c6 = st.columns(3)
        minutes = c4.number_input(
            "Time limit per form (minutes)",
            1,
            240,
            value=int(current["time_limit_minutes"]),
            key="plan_minutes",
        )
        accuracy = c5.number_input(
            "Bar: accuracy at least (%)",
            50,
            100,
            value=round(100 * current["min_accuracy"]),
            key="plan_accuracy",
        )
        over = c6.number_input(
            "Bar: overconfidence within (points)",
            0,
            50,
            value=round(100 * current["max_overconfidence"]),
            key="plan_over",
        )
        if st.form_submit_button("Save the schedule"):
            try:
                assessments.save_plan(
                    store,
                    lead,
                    bank=bank,
                    post_after_days=int(days) if days else None,
                    post_after_drills=int(drills_n) if drills_n else None,
                    retention_after_days=int(keep) if keep else None,
                    time_limit_minutes=int(minutes),
                    min_accuracy=accuracy / 100,
                    max_overconfidence=over / 100,
                )
            except AccountError as refused:
                st.error(str(refused))
            else:
                st.session_state[FLASH] = "Assessment schedule saved."
                st.rerun()
    st.caption(
        "The baseline form is due when a rater joins, before the first drill; the post form at whichever "
        "comes first of the days and drills; each rater takes each form once. A rater passes the bar when "
        "the 95% confidence bound clears it (the lower bound of accuracy, the upper one of overconfidence), "
        "not the point estimate."
    )


def show_cohort_assessment(store: Store, lead: Rater) -> None:
    """The cohort's training effect and each rater's standing against the bar."""
    found = assessments.cohort_assessment(store, lead.cohort_id)
    if found is None:
        st.info("No form has been taken yet.")
        return
    raters = found["raters"]
    shown = pd.DataFrame(
        {
            "rater": [
                f"{name} (simulated)" if name in found["simulated"] else name for name in raters["rater"]
            ],
            "forms taken": raters["forms"],
            "accuracy (latest form)": [_percent(v) for v in raters["accuracy"]],
            "at least (95%)": [_percent(v) for v in raters["accuracy_low"]],
            "overconfidence": [_over(v) for v in raters["overconfidence"]],
            "bar": ["passed" if p else "not yet" for p in raters["passed"]],
            "chance of passing": [
                "–" if v != v or math.isnan(v) else _percent(v) for v in raters["readiness"]
            ],
        }
    )
    st.markdown("**Raters against the qualification bar**")
    st.dataframe(spreadsheet_safe(shown), hide_index=True, key="assessment_standing")
    st.markdown("**The cohort's training effect**")
    for line in (found["effect"] or {}).get("cohort", {}).get("summary", [])[:3]:
        st.caption(line)
    everyone_simulated = len(raters) > 0 and set(raters["rater"]) <= found["simulated"]
    show_training_effect(found["effect"], who="cohort", key="cohort_effect", simulated=everyone_simulated)


def show_assessment_console(store: Store, lead: Rater, drill_bank: str | None) -> None:
    """The whole tab."""
    current = assessments.plan(store, lead.cohort_id)
    names = store.bank_names(cohort_id=lead.cohort_id)
    default = current["bank"] if current else drill_bank
    bank = st.selectbox(
        "Bank of the assessment forms",
        names,
        index=names.index(default) if default in names else 0,
        key="assessment_bank",
    )
    if not bank:
        st.info("Import a bank first.")
        return
    st.subheader("Pairs set aside")
    show_pairs_aside(store, lead, bank, drill_bank)
    st.subheader("Schedule and qualification bar")
    show_schedule(store, lead, bank)
    st.subheader("Results")
    show_cohort_assessment(store, lead)
