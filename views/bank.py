"""Pair bank (leads only: it shows gold): the pairs, gold and trap kinds of the banks the cohort may use."""

from __future__ import annotations

import streamlit as st

from pairs.balance import bank_stats
from pairs.judgments import spreadsheet_safe
from training import cohort
from views.common import get_store, load_bank, require_lead
from views.rich_text import show_markdown

store = get_store()
lead = require_lead()
st.title("Pair bank")
names = store.bank_names(cohort_id=lead.cohort_id)  # the cohort's own banks and the server's shared ones
if not names:
    st.info("No bank yet.")
    st.stop()
name = st.selectbox("Bank", names, key="bank_name")
bank = load_bank(name)
stats = bank_stats(bank)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Pairs", stats["pairs"])
c2.metric("Gold A / B / tie", " / ".join(str(stats["gold"].get(g, 0)) for g in ("A", "B", "tie")))
for col, key, label in (
    (c3, "shorter_gold", "Shorter answer is gold"),
    (c4, "plainer_gold", "Plainer answer is gold"),
):
    fig = stats[key]
    value = "n/a" if not fig["n"] else f"{fig['share']:.0%}"
    col.metric(
        label,
        value,
        help=f"{fig['count']} of {fig['n']} pairs; about 50% means the surface feature "
        "tells a rater nothing about which answer is better.",
    )

tags = sorted({t for ts in bank["tags"] for t in ts})
domains = sorted(d for d in bank["domain"].unique() if d)
c1, c2 = st.columns(2)
chosen_tags = c1.multiselect("Trap kinds", tags, key="bank_tags")
chosen_domains = c2.multiselect("Domains", domains, key="bank_domains")
view = bank
if chosen_tags:
    view = view[view["tags"].map(lambda ts: any(t in ts for t in chosen_tags))]
if chosen_domains:
    view = view[view["domain"].isin(chosen_domains)]

retired = cohort.retired_pairs(store, name)
table = view[["id", "domain", "gold", "prompt"]].assign(
    tags=view["tags"].map(", ".join), in_drills=["retired" if p in retired else "yes" for p in view["id"]]
)
st.dataframe(spreadsheet_safe(table), hide_index=True, width="stretch")

if len(view):
    pid = st.selectbox("Show pair", list(view["id"]), key="bank_pair")
    pair = view.set_index("id").loc[pid]
    st.markdown("**Prompt**")
    with st.container(border=True):
        show_markdown(pair["prompt"])
    left, right = st.columns(2)
    with left.container(border=True):
        st.caption("Response A")
        show_markdown(pair["response_a"])
    with right.container(border=True):
        st.caption("Response B")
        show_markdown(pair["response_b"])
    with st.container(border=True):
        show_markdown(pair["rationale"], label=f"Gold: {pair['gold']}.")
    if pid in retired:
        st.caption("Retired in the gold audit: no drill draws this pair again (its answers still count).")
