"""Review: the pairs the signed-in rater missed (or all their answers), newest first, with the reason.

Only the rater's own first answers are read (as My report reads them), so
nothing is shown of a pair they have not answered. The gold is the bank's gold
as it is now: a pair the lead re-scored as right is no longer missed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from calibration.data import across_banks
from training import accounts, assessments, cohort, drills, glossary, review
from views.common import get_store, load_bank, rater_prepared, rater_version, require_user
from views.coverage import covers_sentence
from views.rich_text import show_literal, show_markdown, show_pair_texts

EQUAL = "About equally good"

store = get_store()
user = require_user()
info = accounts.cohort_info(store, user.cohort_id)
st.title("Review")
banks = cohort.figure_banks(store, user.cohort, info["bank"])
if not banks:
    st.info("Your cohort has no pair bank yet.")
    st.stop()


def answers_on(bank: str) -> pd.DataFrame:
    """The rater's first answers on one bank, with the pair's own id (``pair_id`` may become BANK / ID).

    Pairs the lead has since set aside for the cohort's assessment forms are left out: their gold
    and reason are not shown again before the forms are taken.
    """
    prepared = rater_prepared(user.cohort, bank, user.name, rater_version(user.cohort, bank, user.name))
    prepared = prepared[~prepared["pair_id"].isin(assessments.hidden_pairs(store, user.cohort_id, bank))]
    return prepared.assign(own_id=prepared["pair_id"])


mine = across_banks({bank: answers_on(bank) for bank in banks})
if mine.empty:
    st.info("You have not answered any pair yet. Your answers appear here once you have drilled.")
    st.stop()


def label_of(left: object, identity: str) -> str:
    """What the drill called response ``identity``: "Response A" or "Response B", wherever it was shown."""
    return EQUAL if identity == "tie" else f"Response {identity}"


def verdict(row: pd.Series, found: drills.Feedback) -> None:
    """Right or wrong, the rater's answer and confidence, and the expert's choice (and split)."""
    said = f"You said {label_of(row.left, row.choice)}"
    if row.confidence == row.confidence:  # not NaN
        said += f" with {row.confidence:.0%} confidence"
    gold = (
        "The expert rated the two responses as equally good"
        if found.gold == "tie"
        else f"The expert preferred {label_of(row.left, found.gold)}"
    )
    if found.split is not None:
        gold += f" (experts split {found.split})"
    text = f"{said}. {gold}."
    if found.correct is None:
        st.info(text)
    elif found.correct:
        st.success(text)
    else:
        st.error(text)


def show_answer(row: pd.Series, pair: pd.Series, several: bool, corrected: pd.DataFrame) -> None:
    """One answer: when and where, the pair as the drill showed it, the verdict, the reason and traps."""
    when = "date unknown" if pd.isna(row.answered_at) else f"{row.answered_at:%Y-%m-%d}"
    where = f"bank {row.bank} · " if several else ""
    with st.container(border=True):
        show_literal(f"{where}pair {row.own_id}", label=f"{when} ·")  # ids a bank's author wrote: as written
        show_pair_texts(pair, row.left)  # as the drill showed it
        found = drills.feedback(pair.to_dict(), row.choice, confidence=None)
        verdict(row, found)
        st.markdown("**Why:**")
        show_markdown(found.rationale or "No reason was given for this pair.")
        if found.tags:
            show_literal(glossary.describe(found.tags)[0], label="Trap:")  # in plain words, as the drill
        if found.note:
            st.warning(found.note)
        for fix in corrected[corrected["pair_id"] == row.pair_id].itertuples():
            st.caption(f"Your lead corrected the gold of this pair on {fix.changed_at:%Y-%m-%d}.")


several = len(banks) > 1
corrected = across_banks({bank: cohort.corrections_for(store, user, bank) for bank in banks})
first_day = mine["answered_at"].min()
today = datetime.now(UTC).date()
first_day = today if pd.isna(first_day) else min(first_day.date(), today)

filters = st.columns([2, 2, 3])
shown = filters[0].radio("Show", ["Missed pairs", "All my answers"], key="review_show", horizontal=True)
kinds = filters[1].multiselect(
    "Trap kind", review.trap_kinds(mine), key="review_kinds", placeholder="All trap kinds"
)
picked = filters[2].date_input(
    "Answered between", value=(first_day, today), min_value=first_day, max_value=today, key="review_dates"
)
start, end = (tuple(picked) + (None, None))[:2] if isinstance(picked, (tuple, list)) else (picked, picked)
if (start, end) == (first_day, today):  # the whole history: answers of unknown time stay in
    start = end = None
elif start is not None and end is None:  # the range is being picked: one day so far
    end = start
missed_only = shown == "Missed pairs"
page = int(st.session_state.get("review_page", 1))
found = review.review(mine, missed_only=missed_only, kinds=kinds, start=start, end=end, page=page)
st.caption(
    f"{found.missed} missed pair{'' if found.missed == 1 else 's'} of {found.answered} answered"
    + (" (with these filters)." if kinds or start is not None else ".")
    + " First answers only: an answer to a pair you had answered before is practice."
    + (f" Page {found.page} of {found.pages}, newest first." if found.pages > 1 else "")
)
if several:
    st.caption(covers_sentence(banks, len(mine)))
if found.listed == 0:
    st.info("Nothing to review with these filters." if missed_only else "No answers with these filters.")
    st.stop()
# the page's pairs, read from the banks as they are now (a corrected gold or reason shows as corrected)
texts = {bank: load_bank(bank, store.bank_revision(bank)).set_index("id") for bank in set(found.rows["bank"])}
for _, row in found.rows.iterrows():
    show_answer(row, texts[row.bank].loc[row.own_id], several, corrected)
if found.pages > 1:
    if page > found.pages:
        st.session_state["review_page"] = found.pages
    st.number_input(
        f"Page (of {found.pages}, {review.PAGE_SIZE} a page, newest first)",
        min_value=1,
        max_value=found.pages,
        step=1,
        key="review_page",
    )
