"""How to rate: what "better" means, confidence and the score, the trap kinds, and three guided pairs.

A rater who has not finished it lands here instead of the drill (``app.py``);
anyone can open it again from the menu or the drill page. The guided pairs'
answers are kept in the database (``training.onboarding``), never as
judgments: they count in no score, report or leaderboard.
"""

from __future__ import annotations

import streamlit as st

from pairs.export import spreadsheet_safe
from training import drills, glossary, onboarding
from views.common import current_user, get_store, require_user
from views.guidelines import cohort_guidelines
from views.rich_text import show_markdown, show_pair_texts

# Session-state key: the guided pair on screen with its pick and confidence, not yet submitted.
PICKED = "paircal_guide_chosen"
LABELS = {"A": "Response A", "B": "Response B"}  # as the drill and the reasons name them

store = get_store()
user = require_user()
found = onboarding.state(store, user.id)

st.title("How to rate")
st.markdown(
    "You will see a prompt and two responses. Pick the better one, say how sure you are, "
    "then see the expert's choice and why. A few minutes here make every drill make sense."
)

st.header("1. What makes a response better", divider="gray")
st.markdown("Check these in order; a later point decides only when the earlier ones are a tie.")
for number, (name, detail) in enumerate(onboarding.RUBRIC, start=1):
    st.markdown(f"{number}. **{name}.** {detail}")
st.info(
    "Length and formatting earn nothing by themselves: a longer or prettier answer is better only if it "
    "is also more correct or more helpful."
)

st.header("2. Confidence and the score", divider="gray")
st.markdown(
    "Confidence is how often you expect to be right. "
    + onboarding.worked_example()
    + " Right on all ten means you could have said more; "
    + "right on only five means 80% was too sure."
)
table = onboarding.score_table()
st.markdown(
    "The leaderboard scores each answer from your confidence. Being sure pays when you are right "
    "and costs more when you are wrong:"
)
st.table(spreadsheet_safe(table.set_index("Confidence")))  # numbers written by us: left as they are
high = table.iloc[-1]
st.caption(
    f"At 90% a right answer scores {high['Right answer']} "
    f"and a wrong one {high['Wrong answer']}; a 50% answer scores "
    f"{onboarding.points(True, 0.5):.0f} either way. "
    "The best you can do is to say the confidence you really have."
)

st.header("3. The traps", divider="gray")
st.markdown("Every pair is tagged with the trap it tests. In plain words:")
for trap in glossary.GLOSSARY.values():
    st.markdown(f"- **{trap.name}.** {trap.sentence}")

rules = cohort_guidelines(user.cohort_id)
if rules:
    st.header("4. Your cohort's guidelines", divider="gray")
    st.caption("Your lead wrote these; they are also one click away above every drill pair.")
    with st.container(border=True):
        show_markdown(rules["text"])

step = 5 if rules else 4
st.header(f"{step}. Three practice pairs", divider="gray")
st.markdown(
    "Answer these like drill pairs. They are practice: they count in no score, report or leaderboard."
)


def chosen_for(pair_id: str) -> dict:
    """The pick and confidence chosen on screen for this guided pair and not yet submitted."""
    chosen = st.session_state.get(PICKED)
    if chosen is None or chosen["pair"] != pair_id:
        return {"pair": pair_id, "pick": None, "confidence": None}
    return chosen


def choose(pair_id: str, field: str, value: str | int) -> None:
    """A pick or confidence button: remember it until Submit."""
    st.session_state[PICKED] = {**chosen_for(pair_id), field: value}


def submit(rater_id: int, pair_id: str) -> None:
    """Submit: keep the answer to the guided pair in the database (not as a judgment)."""
    chosen = chosen_for(pair_id)
    signed_in = current_user()
    if (
        chosen["pick"] is None
        or chosen["confidence"] is None
        or signed_in is None
        or signed_in.id != rater_id
    ):
        return
    onboarding.answer(get_store(), rater_id, pair_id, chosen["pick"], chosen["confidence"] / 100)
    st.session_state.pop(PICKED, None)


def show_explanation(pair, choice: str, confidence: float) -> None:
    """Right or wrong, why, the trap in plain words and what the answer would have scored."""
    feedback = onboarding.explain(pair["id"], choice, confidence)
    if feedback.correct:
        st.success(f"You agreed with the expert: {LABELS[feedback.gold]} is better.")
    else:
        st.error(f"The expert preferred {LABELS[feedback.gold]}.")
    st.markdown("**Why:**")
    show_markdown(feedback.rationale)
    names, sentences = glossary.describe(feedback.tags)
    st.markdown(f"**Trap:** {names}")  # the guided pairs' kinds are the glossary's own words
    if sentences:
        st.caption(sentences)
    if feedback.note:
        st.warning(feedback.note)
    st.caption(
        f"You said {LABELS[choice]} at {confidence:.0%}: in a drill this answer would score "
        f"{feedback.points:+.2f} on the leaderboard."
    )


guided = onboarding.guided_pairs()
answered = [pid for pid in guided["id"] if pid in found.answers]
for number, pair in enumerate(guided.to_dict("records"), start=1):
    answer = found.answers.get(pair["id"])
    if answer is not None:  # the latest explanation open, the earlier ones a click away
        latest = pair["id"] == answered[-1]
        with st.expander(f"Practice pair {number} of {len(guided)}: answered", expanded=latest):
            show_pair_texts(pair)
            show_explanation(pair, *answer)
        continue
    st.subheader(f"Practice pair {number} of {len(guided)}")
    show_pair_texts(pair)
    chosen = chosen_for(pair["id"])
    st.markdown("**Which response is better?**")
    with st.container(horizontal=True):
        for side, label in LABELS.items():
            st.button(
                label,
                key=f"guide_pick_{side}",
                type="primary" if chosen["pick"] == side else "secondary",
                icon=":material/check:" if chosen["pick"] == side else None,
                on_click=choose,
                args=(pair["id"], "pick", side),
            )
    st.markdown("**How sure are you?**", help="50% = a coin flip, 100% = certain.")
    with st.container(horizontal=True):
        for percent in drills.CONFIDENCE_PERCENTS:
            st.button(
                f"{percent}%",
                key=f"guide_confidence_{percent}",
                type="primary" if chosen["confidence"] == percent else "secondary",
                icon=":material/check:" if chosen["confidence"] == percent else None,
                on_click=choose,
                args=(pair["id"], "confidence", percent),
            )
    if st.button("Submit", key="guide_submit", type="primary", on_click=submit, args=(user.id, pair["id"])):
        if chosen_for(pair["id"])["pick"] is None:
            st.error("Pick the better response first.")
        if chosen_for(pair["id"])["confidence"] is None:
            st.error("Choose how sure you are before submitting.")
    st.stop()  # one pair at a time

st.divider()
if found.finished:
    st.page_link("views/drill.py", label="Back to the drill", icon=":material/fitness_center:")
elif st.button("Start my first drill", key="finish_onboarding", type="primary"):
    onboarding.finish(store, user.id)
    st.switch_page("views/drill.py")
