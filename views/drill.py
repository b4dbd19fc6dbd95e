"""Today's drill: a prompt, two responses side by side (A and B, in either order), pick one and say how sure.

The gold, the rationale and the trap kind are read from the database only
after the judgment is stored, so nothing about the answer reaches the browser
before the rater submits.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from storage.engine import DatabaseUnavailable
from training import accounts, debrief, drills, glossary
from views.common import CHOSEN, FLASH, OUTAGE, REVEAL, current_user, get_store, pair_texts, require_user
from views.guidelines import show_guideline_section, show_guidelines
from views.rich_text import show_literal, show_markdown, show_pair_texts

store = get_store()
user = require_user()
info = accounts.cohort_info(store, user.cohort_id)
bank_name = info["bank"]
if not bank_name:
    st.info("Your cohort has no pair bank yet; ask your lead to choose one.")
    st.stop()
today = datetime.now(UTC).date()

# Once the daily drill is done, the day's latest practice round is the one on screen: it is read
# from the database, so a reload resumes it where it was.
page = drills.open_drill(store, user.id, bank_name, today, size=info["drill_size"])
daily, drill = page.daily, page.drill
title = f"Practice round {page.latest_round}" if drill is not daily else "Today's drill"

top = st.columns([3, 1])
top[0].title(title)
top[1].metric(
    "Streak",
    f"{page.streak} day" + ("" if page.streak == 1 else "s"),
    help="Days in a row with a finished daily drill.",
)
if top[1].button("How to rate", key="how_to_rate", type="tertiary", icon=":material/help:"):
    st.switch_page("views/onboarding.py")  # a button, not a page link: this page also runs on its own


def texts_of(drill: drills.Drill) -> pd.DataFrame:
    """The texts of the drill's own bank (a drill drawn before the lead switched the cohort's bank
    keeps its pairs), shared by every run of this server and read only."""
    bank = pair_texts(drill.bank)
    wanted = list({item.pair_id for item in drill.items})
    if int(bank.index.isin(wanted).sum()) < len(wanted):  # imported through another server since
        pair_texts.clear()
        bank = pair_texts(drill.bank)
    return bank


def show_progress(drill: drills.Drill) -> None:
    st.progress(drill.answered / drill.size, text=f"{drill.answered} of {drill.size} pairs done")
    if flash := st.session_state.pop(FLASH, None):
        st.warning(flash)


def show_pair(bank: pd.DataFrame, item: drills.DrillItem) -> None:
    """The prompt and the two responses, in the drill's order, each under its own letter."""
    show_pair_texts(bank.loc[item.pair_id], item.left)


# A response is called by its own letter, wherever the drill places it: the expert's reason says
# "A" and "B" for the pair's two responses, and so does the screen, in either order and in either
# layout (side by side, or stacked on a narrow screen), so the page never says "left" or "right".
EQUAL = "About equally good"
PICK_KEYS = {"A": "A", "B": "B", "tie": "E"}  # the key that picks each answer (a button shortcut)
KEY_HINT = "Keys: A or B picks that response · 5 to 9 for 50 to 90%, 0 for 100% · Enter submits"


def order_of(item: drills.DrillItem) -> tuple[str, str]:
    """The item's two responses by letter, in the order the page shows them (the drill's ``left`` first)."""
    return (item.left, "B" if item.left == "A" else "A")


def name_of(identity: str) -> str:
    """What the page calls an answer: "Response A", "Response B" or "About equally good"."""
    return EQUAL if identity == "tie" else f"Response {identity}"


def confidence_key(percent: int) -> str:
    """The key that sets a confidence: its tens digit, 0 for 100%."""
    return str(percent // 10 % 10)


def split_sentence(feedback: drills.Feedback) -> str | None:
    """The sentence "Experts split 60/40: ..." for a pair the experts split on; None when they agreed."""
    if feedback.split is None:
        return None
    majority, minority = feedback.split.split("/")
    if feedback.gold == "tie":
        view = f"{majority}% rated them about equally good, {minority}% preferred one of them"
    else:
        view = f"{majority}% preferred {name_of(feedback.gold)}, {minority}% the other one"
    best = drills.best_offered_confidence(int(majority))
    advice = (
        f"so an honest {best}% earns the most on average"
        if best == int(majority)
        else f"and of the choices here {best}%, the nearest to {majority}%, earns the most on average"
    )
    return (
        f"Experts split {feedback.split}: {view}. On a pair like this the best confidence is the "
        f"experts' own split, {advice}."
    )


def other_confidences(feedback: drills.Feedback, confidence: float | None) -> str:
    """What the same answer would have scored at each confidence the drill offers, the rater's in bold."""
    yours = None if confidence is None else round(100 * confidence)
    cells = [
        f"**{percent}%: {points:+.2f} (yours)**" if percent == yours else f"{percent}%: {points:+.2f}"
        for percent, points in feedback.points_at
    ]
    return "The same answer at each confidence would have earned " + " · ".join(cells)


def show_debrief(found: debrief.Debrief) -> None:
    """The drill's figures beside the last 7 days', then a line on calibration and one on traps."""
    mine, week = found.drill, found.week
    if mine["n"] == 0:
        st.caption("Every pair of this round had been answered before, so nothing in it is scored.")
        return
    before = week["n"] > 0

    def compared(col, label: str, value: str, field: str, scale: float, unit: str, **kwargs) -> None:
        """A metric with its change from the last 7 days; no arrow or colour when it rounds to nothing."""
        change = None
        if before and not math.isnan(mine[field]) and not math.isnan(week[field]):
            change = round(scale * (mine[field] - week[field]), 0 if scale == 100 else 2)
        if change is None:
            text = None
        elif change == 0:  # no arrow, no colour
            text = "same as the last 7 days"
            kwargs.update(delta_color="off", delta_arrow="off")
        else:
            text = f"{change:+.{0 if scale == 100 else 2}f}{unit} vs last 7 days"
        col.metric(label, value, delta=text, **kwargs)

    st.subheader("Debrief")
    cols = st.columns(4)
    compared(cols[0], "Accuracy", percent(mine["accuracy"]), "accuracy", 100, " points")
    compared(
        cols[1],
        "Score per answer",
        signed(mine["score"]),
        "score",
        1,
        "",
        help="The leaderboard's score: +1 for a sure right answer, 0 for 50%, -3 for a sure wrong one.",
    )
    compared(
        cols[2],
        "Mean confidence",
        percent(mine["mean_confidence"]),
        "mean_confidence",
        100,
        " points",
        delta_color="off",
    )
    cols[3].metric(
        "Time per pair",
        seconds(mine["seconds"]),
        delta=None
        if not before or math.isnan(week["seconds"])
        else f"{seconds(week['seconds'])} in the last 7 days",
        delta_color="off",
        help="The median time from a pair shown to its answer.",
    )
    st.markdown(found.calibration)
    show_literal(found.trap)  # it names a trap kind, which a bank's author wrote: drawn as written
    if before:
        st.caption(
            f"Last 7 days: {int(week['n'])} answers, accuracy {percent(week['accuracy'])}, "
            f"score {signed(week['score'])} per answer."
        )
    else:
        st.caption("No answers in the 7 days before today to compare with.")
    if found.repeats:
        st.caption(f"{found.repeats} answers to pairs you had answered before are not counted.")


def percent(value: float) -> str:
    return "–" if math.isnan(value) else f"{round(100 * value)}%"


def seconds(value: float) -> str:
    if math.isnan(value):
        return "–"
    return "under 1 s" if value < 0.5 else f"{value:.0f} s"


def signed(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:+.2f}"


# Submit and Next act in callbacks, which Streamlit runs before the page's next run: one run per
# click draws the result, where acting in the page and then calling st.rerun() would take two.


def chosen_for(key: str, position: int) -> dict:
    """The answer and confidence chosen on screen for this item and not yet submitted (None: not yet)."""
    chosen = st.session_state.get(CHOSEN)
    if chosen is None or chosen["item"] != (key, position):
        return {"item": (key, position), "pick": None, "confidence": None}
    return chosen


def choose(key: str, position: int, field: str, value: str | int) -> None:
    """A pick or confidence button: remember the choice for this item until Submit."""
    st.session_state[CHOSEN] = {**chosen_for(key, position), field: value}


def store_answer(rater_id: int, key: str, position: int) -> None:
    """Submit: store the answer to the pair that was on screen (bound when the buttons were drawn).

    That may not be the next unanswered pair if another tab answered it meanwhile. Without a
    pick and a confidence, nothing happens here and the page says what is missing. With the
    database out of reach nothing is stored, and the page says so (an error raised in a
    callback would stop it).
    """
    try:
        _store_answer(rater_id, key, position)
    except DatabaseUnavailable:
        st.session_state[FLASH] = (
            "Your last answer was NOT saved: the database could not be reached. "
            "Submit it once more (your choices stay selected until a reload)."
        )


def _store_answer(rater_id: int, key: str, position: int) -> None:
    chosen = chosen_for(key, position)
    signed_in = current_user()  # checked again: the session may have ended since the page was drawn
    if chosen["pick"] is None or chosen["confidence"] is None:
        return
    if signed_in is None or signed_in.id != rater_id:
        return
    confidence = chosen["confidence"] / 100
    stored = drills.submit(get_store(), rater_id, key, position, chosen["pick"], confidence)
    if stored is None:
        st.session_state[FLASH] = "You already answered this pair; an answer cannot be changed."
    # The feedback on the answer just stored is shown as it is; after a reload it is read back.
    st.session_state[REVEAL] = (key, position, stored)
    st.session_state.pop(CHOSEN, None)


def hide_feedback() -> None:
    """Next pair: the page goes on to the next unanswered pair."""
    st.session_state.pop(REVEAL, None)


revealing = st.session_state.get(REVEAL)
if drill.finished and not (revealing and revealing[0] == drill.key):
    show_progress(drill)
    st.success(
        "Today's drill is done. Come back tomorrow to keep your streak."
        if drill is daily
        else "Practice round done."
    )
    show_debrief(debrief.drill_debrief(store, user.id, drill))
    c1, c2 = st.columns(2)
    if c1.button("Practice more pairs", key="practice_more", shortcut="P"):
        drills.get_or_create_drill(
            store,
            user.id,
            bank_name,
            today,
            size=info["drill_size"],
            kind="practice",
            round=page.latest_round + 1,
        )
        st.rerun()
    c2.page_link("views/report.py", label="See my report", icon=":material/insights:")
    st.stop()


PAGE_READ = "drill_page_read"  # session key: the drill the page's run read, taken by the fragment

# The answer area is a fragment: a pick, a confidence, Submit and Next rerun only it, not the router
# and the page's header, so each click does a third of the work. The page as a whole runs again
# when the drill is finished (the debrief and the streak are outside the fragment).


@st.fragment
def answer_area() -> None:
    """The pair on screen and its answer, or the feedback on the answer just given.

    A rerun of the fragment alone runs outside the router, which says plainly when the database
    is out of reach: the fragment says it itself.
    """
    try:
        _answer_area()
    except DatabaseUnavailable:
        st.error(OUTAGE)


def _answer_area() -> None:
    # the page's own run has just read the drill; a rerun of the fragment alone reads it again
    page = st.session_state.pop(PAGE_READ, None) or drills.open_drill(
        store, user.id, bank_name, today, size=info["drill_size"]
    )
    drill = page.drill
    reveal = st.session_state.get(REVEAL)
    revealing = bool(reveal) and reveal[0] == drill.key
    if drill.finished and not revealing:
        st.rerun()  # the drill was just finished: the whole page shows the debrief
    bank = texts_of(drill)
    show_progress(drill)
    if revealing:
        item = drill.items[reveal[1]]
        feedback = reveal[2] if len(reveal) > 2 and reveal[2] is not None else None
        if feedback is None:
            feedback = drills.feedback_for(store, user.id, drill.key, item.position)
        if feedback is not None:
            show_pair(bank, item)
            with st.container(border=True):
                if feedback.correct is None:
                    st.info("The expert rated these two responses as equally good.")
                elif feedback.correct and feedback.gold == "tie":
                    st.success("You agreed with the expert: the two responses are about equally good.")
                elif feedback.correct:
                    st.success(f"You agreed with the expert: {name_of(feedback.gold)} is better.")
                elif feedback.gold == "tie":
                    st.error("The expert rated these two responses as equally good.")
                else:
                    st.error(f"The expert preferred {name_of(feedback.gold)}.")
                if split := split_sentence(feedback):
                    st.info(split)
                why = feedback.rationale or "No reason was given for this pair."
                show_markdown(why, label="Why:")  # label and reason in one block: one element to draw
                if feedback.tags:  # in plain words; a kind the glossary lacks is drawn as the bank wrote it
                    names, sentences = glossary.describe(feedback.tags)
                    show_literal(names, label="Trap:")
                    if sentences:
                        st.caption(sentences)
                show_guideline_section(user.cohort_id, feedback.tags)
                if feedback.note:
                    st.warning(feedback.note)
                said = f"You said {name_of(item.choice)} with {item.confidence:.0%} confidence" + (
                    f"; this answer scores {feedback.points:+.2f} on the leaderboard."
                    if feedback.points is not None and not feedback.repeat
                    else "."
                )
                if feedback.points_at and not feedback.repeat:  # one caption, two lines: one element
                    said += "  \n" + other_confidences(feedback, item.confidence)
                if feedback.repeat:
                    said += "  \nPractice: you had answered this pair before, so this answer is not scored."
                st.caption(said)
            label = "Next pair" if not drill.finished else "Finish"
            # the button shows its key (Enter) itself
            st.button(label, type="primary", key="next_pair", shortcut="Enter", on_click=hide_feedback)
            return

    item = drill.items[drill.next_position]
    if item.shown_at is None:  # set once, never overwritten: no write on later runs
        drills.mark_shown(store, user.id, drill.key, item.position)
    st.subheader(f"Pair {item.position + 1} of {drill.size}")
    # A pair answered before is not marked until it is answered (the feedback then says it is not
    # scored): a pair coming back with its sides swapped is a probe, and nothing may tell it apart.
    show_guidelines(user.cohort_id)  # the lead's guidelines, above the pair
    show_pair(bank, item)
    chosen = chosen_for(drill.key, item.position)
    ref = (drill.key, item.position)
    st.markdown("**Which response is better?**")
    with st.container(horizontal=True):
        answers = [*order_of(item), "tie"] if info["tie_answers"] else list(order_of(item))
        for place, answer in enumerate(answers, start=1):  # keys by place: pick_1 is the first shown
            st.button(
                name_of(answer),
                key=f"pick_{place}",
                shortcut=PICK_KEYS[answer],
                type="primary" if chosen["pick"] == answer else "secondary",
                icon=":material/check:" if chosen["pick"] == answer else None,
                on_click=choose,
                args=(*ref, "pick", answer),
            )
    st.markdown(
        "**How sure are you?**",
        help="50% = a coin flip, 100% = certain. Honest confidence scores best on the leaderboard."
        + (
            ' With "About equally good" it is how sure you are that neither is clearly better.'
            if info["tie_answers"]
            else ""
        ),
    )
    with st.container(horizontal=True):
        for percent in drills.CONFIDENCE_PERCENTS:
            st.button(
                f"{percent}%",
                key=f"confidence_{percent}",
                shortcut=confidence_key(percent),
                type="primary" if chosen["confidence"] == percent else "secondary",
                icon=":material/check:" if chosen["confidence"] == percent else None,
                on_click=choose,
                args=(*ref, "confidence", percent),
            )
    submitted = st.button(
        "Submit",
        key="submit",
        shortcut="Enter",
        type="primary",
        on_click=store_answer,
        args=(user.id, drill.key, item.position),
    )
    st.caption(KEY_HINT + (" · E about equally good" if info["tie_answers"] else ""))
    if submitted:  # store_answer stored nothing: say what is missing
        missing = chosen_for(drill.key, item.position)
        if missing["pick"] is None:
            st.error("Pick the better response first.")
        if missing["confidence"] is None:
            st.error(
                "Choose how sure you are before submitting: no confidence is preselected, "
                "so that your answer is your own."
            )


st.session_state[PAGE_READ] = page  # handed to the fragment below, in this same run
answer_area()
