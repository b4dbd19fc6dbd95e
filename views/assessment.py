"""Assessment: the cohort's held-out forms, taken once each, timed, with no feedback until the form closes.

The attempt, its pairs, its deadline and every answer are in the database: a reload, another tab or
a restarted server resumes the form where it was, with the same time left. Once the form is closed
(every pair answered, or the time up) the results are shown: accuracy, score and overconfidence,
then each pair's gold and the expert's reason.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import streamlit as st

from pairs.judgments import spreadsheet_safe
from training import accounts, assessments, drills
from views.common import FLASH, current_user, get_store, pair_texts, require_user
from views.rich_text import show_markdown, show_pair_texts

EQUAL = "About equally good"
FORM_CHOICE = "assessment_choice"  # session keys of the answer being given, per item
FORM_CONFIDENCE = "assessment_confidence"

store = get_store()
user = require_user()
info = accounts.cohort_info(store, user.cohort_id)
st.title("Assessment")
if flash := st.session_state.pop(FLASH, None):
    st.warning(flash)
state = assessments.status(store, user.id)


def name_of(identity: object) -> str:
    """What the page calls an answer: "Response A", "Response B" or "About equally good"."""
    return EQUAL if identity == "tie" else f"Response {identity}"


def percent(value: float) -> str:
    return "–" if value != value else f"{round(100 * value)}%"


def show_results(stage: str) -> None:
    """A closed form's figures, then each pair with the rater's answer, the gold and the reason."""
    found = assessments.results(store, user.id, stage)
    if found is None:
        return
    title = assessments.STAGE_NAMES[stage]
    st.subheader(f"{title}: your results")
    st.caption(
        f"Form {found.attempt.form}, {found.answered} of {len(found.items)} pairs answered; "
        f"closed {found.attempt.closed_at:%Y-%m-%d %H:%M} UTC."
    )
    cols = st.columns(3)
    cols[0].metric("Accuracy", percent(found.accuracy))
    cols[1].metric(
        "Score per answer",
        "–" if math.isnan(found.score) else f"{found.score:+.2f}",
        help="+1 for a sure right answer, 0 for 50%, -3 for a sure wrong one.",
    )
    over = found.overconfidence
    cols[2].metric(
        "Overconfidence",
        "–" if math.isnan(over) else f"{100 * over:+.0f} points",
        help="Your mean confidence minus your accuracy: above 0, more sure than right.",
    )
    table = found.items.assign(
        pair=found.items["position"] + 1,
        answer=[name_of(c) if c is not None and c == c else "not answered" for c in found.items["choice"]],
        sure=[percent(c) for c in found.items["confidence"]],
        expert=[name_of(g) for g in found.items["gold"]],
        right=["–" if c != c else ("yes" if c == 1 else "no") for c in found.items["correct"]],
    )[["pair", "answer", "sure", "expert", "right"]]
    st.dataframe(spreadsheet_safe(table), hide_index=True, key=f"results_{stage}")
    with st.expander("Each pair, with the expert's reason"):
        bank = pair_texts(found.attempt.bank)
        for row in found.items.itertuples():
            st.markdown(f"**Pair {row.position + 1}**")
            show_pair_texts(bank.loc[row.pair_id], row.left)
            show_markdown(row.rationale or "No reason was given for this pair.", label="Why:")


def store_form_answer(stage: str, position: int) -> None:
    """Submit: keep the answer to the pair on screen, unless the form's time is up."""
    choice = st.session_state.get(f"{FORM_CHOICE}_{stage}_{position}")
    confidence = st.session_state.get(f"{FORM_CONFIDENCE}_{stage}_{position}")
    signed_in = current_user()
    if signed_in is None or signed_in.id != user.id:
        return
    if choice is None or confidence is None:
        st.session_state[FLASH] = "Pick the better response and how sure you are, then submit."
        return
    try:
        assessments.answer(store, user.id, stage, position, choice, int(confidence.rstrip("%")) / 100)
    except assessments.AssessmentClosed as closed:
        st.session_state[FLASH] = str(closed)


def show_item(attempt: assessments.Attempt) -> None:
    """The next unanswered pair of the open form and its answer controls; no feedback after."""
    now = datetime.now(UTC)
    left = attempt.seconds_left(now)
    st.progress(
        attempt.answered / len(attempt.items), text=f"{attempt.answered} of {len(attempt.items)} pairs done"
    )
    st.info(
        f"Time left: about {math.ceil(left / 60)} min (the form closes at {attempt.deadline:%H:%M} UTC; "
        "answers after that are not kept). No feedback is shown until the form closes."
    )
    position = attempt.next_position
    assert position is not None
    item = attempt.items[position]
    if item.shown_at is None:
        assessments.mark_shown(store, user.id, attempt.stage, position)
    st.subheader(f"Pair {position + 1} of {len(attempt.items)}")
    first = item.left
    show_pair_texts(pair_texts(attempt.bank).loc[item.pair_id], first)
    order = [first, "B" if first == "A" else "A"] + (["tie"] if info["tie_answers"] else [])
    with st.form(key=f"form_{attempt.stage}_{position}", border=True):
        st.radio(
            "Which response is better?",
            order,
            index=None,
            format_func=name_of,
            horizontal=True,
            key=f"{FORM_CHOICE}_{attempt.stage}_{position}",
        )
        st.radio(
            "How sure are you?",
            [f"{p}%" for p in drills.CONFIDENCE_PERCENTS],
            index=None,
            horizontal=True,
            key=f"{FORM_CONFIDENCE}_{attempt.stage}_{position}",
        )
        st.form_submit_button(
            "Submit answer", type="primary", on_click=store_form_answer, args=(attempt.stage, position)
        )


the_plan = assessments.plan(store, user.cohort_id)
open_attempt = state.open_attempt
if open_attempt is not None:
    attempt = assessments.attempt(store, user.id, open_attempt.stage)
    assert attempt is not None
    st.header(assessments.STAGE_NAMES[attempt.stage])
    show_item(attempt)
    st.stop()
if state.due is not None and the_plan is not None:
    form = assessments.stage_form(store, user.id, state.due)
    size = int((assessments.forms_of(store, user.cohort_id, the_plan["bank"]) == form).sum())
    st.header(assessments.STAGE_NAMES[state.due])
    intro = {
        "pre": "Before your first drill, a short baseline form measures where you start.",
        "post": "Time for the post-training form: a different set of pairs of the same kind.",
        "retention": "The retention form shows how much of your training has stayed with you.",
    }[state.due]
    st.markdown(
        f"{intro} It has {size} pairs and {the_plan['time_limit_minutes']} minutes. "
        "You take it once; nothing about its pairs (the expert's choice, right or wrong) is shown until "
        "it closes. The clock starts when you press Start."
    )
    if st.button("Start the form", type="primary", key="start_form"):
        assessments.open_form(store, user.id)
        st.rerun()
    st.stop()

closed = [stage for stage in assessments.STAGES if stage in state.attempts and state.attempts[stage].closed]
if not closed:
    if user.is_lead:
        st.info("Leads take no forms: set them up and see the results under Assessments in the console.")
    elif the_plan is None:
        st.info("Your cohort has no assessment forms.")
    else:
        st.info(state.next_note or "No form is due for you now.")
    st.stop()
if state.next_note:
    st.info(state.next_note)
else:
    st.success("No form is due for you now.")
st.page_link("views/drill.py", label="Go to the drill", icon=":material/fitness_center:")
for stage in reversed(closed):
    show_results(stage)
    st.divider()
taken = (f"{assessments.STAGE_NAMES[s]} ({state.attempts[s].started_at:%Y-%m-%d})" for s in closed)
st.caption("Forms taken: " + ", ".join(taken))
