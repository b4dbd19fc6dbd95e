"""Lead console: import banks, watch the cohort, audit doubtful gold, drill settings, export."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from calibration.leaderboard import MIN_RANKED, PRIOR_JUDGMENTS
from calibration.render import to_html
from calibration.report import build_report, to_json
from calibration.simulate import demo_cohort
from pairs.balance import balance_problems, bank_stats
from pairs.errors import InputError
from pairs.importers import FORMATS, check_bank_bytes
from pairs.judgments import spreadsheet_safe, to_csv
from pairs.markdown import escape_markdown
from storage.store import BankRefused
from training import accounts
from views import cohort_cache as cohort_data
from views.common import FLASH, get_store, load_bank, require_lead
from views.components import show_rater_report
from views.rich_text import show_markdown

MAX_FILE_NAME = 255  # longest upload file name taken (file systems allow 255 bytes; the database keeps 500)

store = get_store()
lead = require_lead()
info = accounts.cohort_info(store, lead.cohort_id)
st.title(f"Lead console: {escape_markdown(lead.cohort)}")
if flash := st.session_state.pop(FLASH, None):  # what the last action did, shown after its rerun
    st.success(flash)
invite_col, rotate_col = st.columns([4, 1], vertical_alignment="bottom")
with invite_col:
    st.caption("Invite code for raters (admits to this cohort only; copy it with the button on the right):")
    st.code(info["invite_code"], language=None)
with rotate_col.popover("New invite code"):
    st.write("The current code stops working at once; raters who joined stay.")
    if st.button("Replace the invite code", key="rotate_invite"):
        accounts.rotate_invite(store, lead)
        st.session_state[FLASH] = "The invite code was replaced; share the new one."
        st.rerun()

tab_names = ["Cohort", "Gold audit", "Import a bank", "Drill settings", "Raters", "Export"]
if lead.admin:
    tab_names.append("Server admin")
tabs = st.tabs(tab_names)
overview, audit, banks_tab, settings, raters_tab, export = tabs[:6]
bank_name = info["bank"]
today = pd.Timestamp.now(tz="UTC").date()
data = cohort_data.cohort_cache(lead.cohort, lead.cohort_id, bank_name) if bank_name else None
prepared = data.prepared() if data is not None else pd.DataFrame()


@st.cache_data(show_spinner="Building the cohort report...", max_entries=8)
def cohort_report(cohort: str, cohort_id: int, bank: str, version: tuple[int, int], day: date) -> dict:
    """The cohort's bias report, built once per version of its judgments (and day, for the streaks)."""
    cache = cohort_data.cohort_cache(cohort, cohort_id, bank)
    return build_report(cache.prepared(), n_boot=300, simulated=cache.simulated(), streaks=cache.streaks(day))


with overview:
    if prepared.empty:
        st.info(
            "No judgments yet. Share the invite code, or load a simulated demo cohort under Drill settings."
        )
    else:
        board = data.leaderboard(since=None, today=today, k=PRIOR_JUDGMENTS, min_n=MIN_RANKED)
        c = st.columns(3)
        c[0].metric("Raters", prepared["rater"].nunique())
        c[1].metric("Judgments", len(prepared))
        c[2].metric("Cohort agreement with experts", f"{prepared['correct'].mean():.0%}")
        st.dataframe(
            spreadsheet_safe(board),
            hide_index=True,
            width="stretch",
            column_config={
                "accuracy": st.column_config.NumberColumn("accuracy", format="percent"),
                "score": st.column_config.NumberColumn(format="%.3f"),
                "raw_score": st.column_config.NumberColumn(format="%.3f"),
                "ci_low": st.column_config.NumberColumn(format="%.3f"),
                "ci_high": st.column_config.NumberColumn(format="%.3f"),
                "overconfidence": st.column_config.NumberColumn(format="%+.3f"),
                "length_or": st.column_config.NumberColumn(format="%.2f"),
                "polish_or": st.column_config.NumberColumn(format="%.2f"),
            },
        )
        who = st.selectbox(
            "Open a rater's report", sorted(prepared["rater"].unique()), index=None, key="lead_rater"
        )
        if who:
            show_rater_report(data.rater_prepared(who), key=f"lead_{who}", simulated=who in data.simulated())

with audit:
    if prepared.empty:
        st.info("No judgments yet.")
    else:
        items = data.audit()
        doubtful = items[items["gold_doubtful"]]
        st.write(
            "A pair is listed when strong raters contradict its gold more than their skill and the pair's "
            "length, polish and side pull predict (binomial test, false discovery rate 10 %). Review it: "
            "the gold may be wrong."
        )
        if doubtful.empty:
            st.success("No gold is in doubt.")
        bank = load_bank(bank_name).set_index("id")
        for row in doubtful.itertuples():
            pair = bank.loc[row.pair_id]
            with st.expander(
                f"{escape_markdown(row.pair_id)}: gold {row.gold}, votes A {row.votes_a} / B {row.votes_b}, "
                f"strong raters against gold {row.strong_against} of {row.strong_n}"
            ):
                st.markdown("**Prompt**")
                show_markdown(pair["prompt"])
                a, b = st.columns(2)
                a.caption("Response A")
                show_markdown(pair["response_a"], where=a)
                b.caption("Response B")
                show_markdown(pair["response_b"], where=b)
                show_markdown(pair["rationale"], label=f"Gold {pair['gold']}:")
        st.subheader("All pairs, hardest first")
        st.dataframe(spreadsheet_safe(items), hide_index=True, width="stretch")

with banks_tab:
    limit_mb = st.get_option("server.maxUploadSize")
    upload = st.file_uploader(
        "Pair bank file",
        type=["jsonl", "ndjson", "json", "csv"],
        key="bank_upload",
        help=f"Files up to {limit_mb} MB: the whole file is read and checked in the server's memory before "
        "anything is stored. Import larger banks with `python -m pairs import FILE --bank NAME`.",
    )
    fmt = st.selectbox("Format", ["auto", *FORMATS], key="bank_format")
    default_name = Path(upload.name).stem if upload else ""
    typed = st.text_input(
        "Bank name",
        placeholder=default_name or "e.g. llmbar-natural",
        key="bank_new_name",
        help="Leave empty to use the file's name. Importing into an existing bank adds or updates its pairs.",
    )
    new_name = typed.strip() or default_name
    if upload is not None and len(upload.name) > MAX_FILE_NAME:
        st.error(
            f"That file's name is {len(upload.name):,} characters long; rename the file to at most "
            f"{MAX_FILE_NAME} characters and upload it again."
        )
        upload = None
    if st.button("Import", type="primary", disabled=upload is None, key="bank_import"):
        bar = st.progress(0.0, text="Reading and validating...")
        bank, problems = check_bank_bytes(
            upload.getvalue(),
            upload.name,
            fmt,
            progress=lambda done, total: bar.progress(done / max(total, 1)),
        )
        bar.empty()
        if problems:
            st.error(f"{len(problems)} problem(s) found; nothing was imported. Fix them and upload again.")
            st.dataframe(
                spreadsheet_safe(
                    pd.DataFrame([{"line": p.line, "field": p.field, "message": p.message} for p in problems])
                ),
                hide_index=True,
                width="stretch",
            )
        elif not new_name.strip():
            st.error("Give the bank a name.")
        else:
            try:
                with st.spinner(f"Storing {len(bank)} pairs..."):
                    counts = store.import_bank(
                        new_name.strip(),
                        bank,
                        source_file=upload.name,
                        owner_cohort_id=lead.cohort_id,
                        as_server=False,
                    )
            except BankRefused as refused:
                if refused.reason == "read-only":
                    st.error(
                        f"Bank {escape_markdown(repr(refused.name))} is read-only. Import under a new name, "
                        "or make an editable copy under Drill settings."
                    )
                else:
                    st.error(
                        f"A bank named {escape_markdown(repr(refused.name))} exists and is not your "
                        "cohort's; choose another name."
                    )
                st.stop()
            except InputError as error:  # a name the database cannot hold, or answered pairs would change
                if error.problems[0].field == "bank name":
                    st.error(
                        f"The bank name cannot be stored: {error.problems[0].message}. Give another one."
                    )
                    st.stop()
                st.error(f"{len(error.problems)} problem(s); nothing was imported.")
                for problem in error.problems[:20]:
                    st.caption(f"{escape_markdown(problem.field or '')}: {escape_markdown(problem.message)}")
                st.stop()
            load_bank.clear()
            cohort_data.clear()  # prepared with the bank's old pairs
            st.session_state["bank_stats_name"] = new_name.strip()  # show the new bank's statistics below
            st.success(
                f"Bank {escape_markdown(repr(new_name.strip()))}: {counts['added']} pairs added, "
                f"{counts['updated']} updated, {counts['unchanged']} unchanged."
            )
    shown = st.selectbox("Bank statistics", store.bank_names(cohort_id=lead.cohort_id), key="bank_stats_name")
    if shown:
        stats = bank_stats(load_bank(shown))
        c = st.columns(4)
        c[0].metric("Pairs", stats["pairs"])
        c[1].metric("Gold A / B / tie", " / ".join(str(stats["gold"].get(g, 0)) for g in ("A", "B", "tie")))
        for col, key, label in (
            (c[2], "shorter_gold", "Shorter is gold"),
            (c[3], "plainer_gold", "Plainer is gold"),
        ):
            fig = stats[key]
            col.metric(
                label,
                "n/a" if not fig["n"] else f"{fig['share']:.0%}",
                help=f"{fig['count']} of {fig['n']} pairs",
            )
        t1, t2 = st.columns(2)
        tags = pd.Series(stats["tags"], name="pairs", dtype="int64").rename_axis("tag")
        domains = pd.Series(stats["domains"], name="pairs", dtype="int64").rename_axis("domain")
        t1.dataframe(spreadsheet_safe(tags), width="stretch")  # the tags and domains are the bank file's
        t2.dataframe(spreadsheet_safe(domains), width="stretch")
        for problem in balance_problems(stats):
            st.caption(f"Balance: {problem}")

with settings:
    with st.form("drill_settings"):
        size = st.number_input("Pairs per daily drill", 1, 50, value=int(info["drill_size"]), key="set_size")
        names = store.bank_names(cohort_id=lead.cohort_id)
        chosen = st.selectbox(
            "Bank for drills",
            names,
            index=names.index(bank_name) if bank_name in names else 0,
            key="set_bank",
        )
        if st.form_submit_button("Save"):
            accounts.set_drill_settings(store, lead.cohort_id, drill_size=int(size), bank=chosen)
            st.success("Saved. New drills use these settings; drills already started keep their pairs.")
    if bank_name:
        current = store.bank_info(bank_name)
        if current["owner_cohort_id"] != lead.cohort_id:
            st.subheader("An editable copy")
            st.write(
                f"Bank {escape_markdown(repr(bank_name))} is shared by the server"
                + (" and read-only" if current["read_only"] else "")
                + ": nobody's import changes it. To edit its pairs, make your cohort's own copy "
                "and drill on it (history on the shared bank stays where it is)."
            )
            copy_name = st.text_input(
                "Name of the copy", value=f"{lead.cohort}-{bank_name}"[:200], key="copy_bank_name"
            )
            if st.button("Make an editable copy and drill on it", key="copy_bank"):
                try:
                    copied = store.copy_bank(bank_name, copy_name.strip(), owner_cohort_id=lead.cohort_id)
                except BankRefused:
                    st.error("A bank of that name exists; choose another name.")
                except InputError as error:
                    st.error(f"That name cannot be stored: {escape_markdown(error.problems[0].message)}.")
                else:
                    accounts.set_drill_settings(store, lead.cohort_id, bank=copy_name.strip())
                    load_bank.clear()
                    st.session_state[FLASH] = f"Copied {copied} pairs; new drills use the copy."
                    st.rerun()
    st.subheader("Simulated demo cohort")
    st.write(
        "Adds 24 simulated raters (names start with `sim-`, always labelled as simulated) with planted "
        "length, polish and position biases and over- or underconfidence, so you can explore the console."
    )
    if st.button("Load simulated demo cohort", disabled=not bank_name, key="load_demo"):
        with st.spinner("Simulating..."):
            # drills of the last five weeks, none in the future
            now = pd.Timestamp.now(tz="UTC")
            judgments = demo_cohort(
                load_bank(bank_name), seed=lead.cohort_id, start=now - pd.Timedelta(days=36)
            )
            judgments = judgments[judgments["answered_at"] <= now]
            accounts.add_simulated_raters(store, lead.cohort_id, sorted(judgments["rater"].unique()))
            counts = store.import_judgments(judgments, bank=bank_name, cohort=lead.cohort)
        # The rerun refreshes the figures drawn above; the message is shown after it, here.
        st.session_state[FLASH] = (
            f"Loaded {counts['added']} simulated judgments."
            if counts["added"]
            else "The demo cohort is already loaded: nothing added."
        )
        st.rerun()

with raters_tab:
    people = accounts.list_raters(store, lead.cohort_id)
    people = people[people["kind"] == "account"]
    shown_people = people.assign(
        status=["removed" if pd.notna(t) else "active" for t in people["removed_at"]]
    )[["name", "role", "status", "created_at"]]
    st.dataframe(spreadsheet_safe(shown_people), hide_index=True, width="stretch")
    removable = people[(people["role"] == "rater") & people["removed_at"].isna()]
    if len(removable):
        with st.form("remove_rater"):
            who = st.selectbox("Remove a rater", removable["name"].tolist(), index=None, key="remove_who")
            sure = st.checkbox(
                "They can no longer sign in; their judgments are kept and labelled removed.",
                key="remove_sure",
            )
            if st.form_submit_button("Remove"):
                if who is None or not sure:
                    st.error("Choose the rater and tick the box.")
                else:
                    rater_id = int(removable.loc[removable["name"] == who, "id"].iloc[0])
                    try:
                        removed = accounts.remove_rater(store, lead, rater_id)
                    except accounts.AccountError as exc:
                        st.error(str(exc))
                    else:
                        st.session_state[FLASH] = f"Removed {removed}."
                        st.rerun()

if lead.admin:
    with tabs[6]:
        st.write(
            "You are this server's admin: you create cohorts and invite their leads. A lead invite is "
            "shown once and admits one lead; it expires in "
            f"{accounts.LEAD_INVITE_DAYS} days."
        )
        st.dataframe(
            spreadsheet_safe(accounts.cohorts_overview(store, lead)), hide_index=True, width="stretch"
        )
        shared = [b for b in store.bank_names() if store.bank_info(b)["owner_cohort_id"] is None]
        with st.form("admin_create_cohort"):
            new_cohort = st.text_input("New cohort's name", max_chars=60, key="admin_cohort_name")
            new_bank = st.selectbox("Bank for drills", shared, key="admin_cohort_bank")
            if st.form_submit_button("Create the cohort and a lead invite"):
                try:
                    _, code = accounts.create_cohort_with_invite(store, new_cohort, bank=new_bank, by=lead)
                except accounts.AccountError as exc:
                    st.error(str(exc))
                else:
                    st.success("Created. Send this one-time lead invite to the cohort's lead (shown once):")
                    st.code(code, language=None)
        overview_frame = accounts.cohorts_overview(store, lead)
        target = st.selectbox(
            "Another lead for a cohort",
            overview_frame["name"].tolist(),
            index=None,
            key="admin_invite_cohort",
        )
        if target and st.button("Make a lead invite", key="admin_invite"):
            cohort_id = int(overview_frame.loc[overview_frame["name"] == target, "id"].iloc[0])
            st.success("One-time lead invite (shown once):")
            st.code(accounts.lead_invite(store, cohort_id, by=lead), language=None)

with export:
    if prepared.empty:
        st.info("No judgments to export yet.")
    else:
        if st.button("Build the cohort report", key="build_cohort_report"):
            st.session_state["cohort_report_ready"] = True
        if st.session_state.get("cohort_report_ready"):
            report = cohort_report(lead.cohort, lead.cohort_id, bank_name, data.version(), today)
            c = st.columns(3)
            c[0].download_button(
                "Cohort report (HTML)",
                lambda: to_html(report),
                "paircal-cohort-report.html",
                "text/html",
                key="dl_html",
            )
            c[1].download_button(
                "Report data (JSON)",
                lambda: to_json(report),
                "paircal-cohort-report.json",
                "application/json",
                key="dl_json",
            )
            c[2].download_button(
                "Judgments (CSV)",
                lambda: to_csv(prepared.sort_values("answered_at", kind="stable")),  # oldest first
                "paircal-judgments.csv",
                "text/csv",
                key="dl_csv",
            )
