"""Lead console: watch the cohort, act on doubtful gold, import banks, guidelines, drill settings, export."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import quote, urlsplit

import pandas as pd
import streamlit as st

from calibration.data import across_banks
from calibration.items import AUDIT_FDR, AUDIT_MIN_RATERS, audit_summary
from calibration.leaderboard import MIN_RANKED, PRIOR_JUDGMENTS
from calibration.render import to_html
from calibration.report import build_report, to_json
from calibration.simulate import demo_cohort
from pairs.balance import balance_problems, bank_stats
from pairs.errors import InputError
from pairs.importers import FORMATS, check_bank_bytes
from pairs.judgments import COLUMNS as JUDGMENT_COLUMNS
from pairs.judgments import spreadsheet_safe, to_csv
from pairs.markdown import escape_markdown
from pairs.probes import probe_counts
from storage.store import BankRefused
from training import accounts, assessments, cohort
from views import cohort_cache as cohort_data
from views.assessment_setup import show_assessment_console
from views.board import readable, show_board
from views.common import FLASH, get_store, load_bank, pair_texts, rater_prepared, require_lead
from views.components import show_rater_report
from views.coverage import bank_domains, choose_banks, covers, covers_sentence, judgments_for_csv
from views.guidelines import cohort_guidelines
from views.progress import show_cohort_progress
from views.rich_text import show_markdown

MAX_FILE_NAME = 255  # longest upload file name taken (file systems allow 255 bytes; the database keeps 500)

store = get_store()
lead = require_lead()
info = accounts.cohort_info(store, lead.cohort_id)
st.title(f"Lead console: {escape_markdown(lead.cohort)}")
if flash := st.session_state.pop(FLASH, None):  # what the last action did, shown after its rerun
    st.success(flash)
invite_col, rotate_col = st.columns([4, 1], vertical_alignment="bottom")


def join_link(code: str) -> str:
    """This server's address with ``?invite=CODE``: the sign-in page's Join tab has the code filled in."""
    here = urlsplit(st.context.url or "")
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    root = f"{here.scheme}://{here.netloc}/{base + '/' if base else ''}"
    return f"{root}?invite={quote(code, safe='')}"


with invite_col:
    st.caption("Invite code for raters (admits to this cohort only; copy it with the button on the right):")
    st.code(info["invite_code"], language=None)
    st.caption("Or send this join link: it fills in the code under Join a cohort on the sign-in page.")
    st.code(join_link(info["invite_code"]), language=None)
with rotate_col.popover("New invite code"):
    st.write("The current code stops working at once; raters who joined stay.")
    if st.button("Replace the invite code", key="rotate_invite"):
        accounts.rotate_invite(store, lead)
        st.session_state[FLASH] = "The invite code was replaced; share the new one."
        st.rerun()

bank_name = info["bank"]
today = pd.Timestamp.now(tz="UTC").date()
# above the tabs: the Cohort, Progress, Gold audit and Export tabs all follow it
shown_banks = choose_banks(cohort.figure_banks(store, lead.cohort, bank_name), bank_name, key="console_banks")
tab_names = [
    "Cohort",
    "Progress",
    "Gold audit",
    "Import a bank",
    "Guidelines",
    "Drill settings",
    "Raters",
    "Export",
    "Assessments",
]
if lead.admin:
    tab_names.append("Server admin")
tabs = st.tabs(tab_names, key="console_tab")  # the tab stays open across the reruns of its actions
overview, progress_tab, audit, banks_tab, guidelines_tab, settings, raters_tab, export, assess_tab = tabs[:9]
data = cohort_data.cohort_cache(lead.cohort, lead.cohort_id, shown_banks) if shown_banks else None
prepared = data.prepared() if data is not None else pd.DataFrame()
# the gold audit acts on one bank: the one picked above, else the drill bank
audit_bank = shown_banks[0] if len(shown_banks) == 1 else bank_name
audit_data = (
    data
    if data is not None and data.banks == (audit_bank,)
    else cohort_data.cohort_cache(lead.cohort, lead.cohort_id, audit_bank)
    if audit_bank
    else None
)
audit_prepared = audit_data.prepared() if audit_data is not None else pd.DataFrame()


@st.cache_data(show_spinner="Building the cohort report...", max_entries=8)
def cohort_report(
    cohort: str, cohort_id: int, banks: tuple[str, ...], version: tuple[int, ...], day: date
) -> dict:
    """The cohort's bias report, built once per version of its judgments and banks, and day (streaks)."""
    cache = cohort_data.cohort_cache(cohort, cohort_id, banks)
    frame = cache.prepared()
    # the probes' swap figure compares first answers with the repeats shown with the sides swapped
    repeats = across_banks(
        {b: store.cohort_judgments(cohort=cohort, bank=b, only_repeats=True) for b in banks}
    )
    answers = pd.concat([frame[list(JUDGMENT_COLUMNS)], repeats[list(JUDGMENT_COLUMNS)]], ignore_index=True)
    forms = assessments.cohort_form_answers(store, cohort_id)  # the report opens with their effect
    report = build_report(
        pd.concat([frame, forms], ignore_index=True) if len(forms) else frame,
        n_boot=300,
        simulated=cache.simulated(),
        streaks=cache.streaks(day),
        domains=bank_domains(banks),  # the per-track figures, where the banks have domains
        answers=answers,
    )
    report["covers"] = covers(banks, len(frame))
    return report


def forget_cached_statistics() -> None:
    """After a pair's gold changed: every cached figure that scored answers against the old gold."""
    cohort_data.clear()
    load_bank.clear()
    pair_texts.clear()
    rater_prepared.clear()
    cohort_report.clear()


def remove_demo_button(where: str) -> None:
    """The "Remove the demo data" action, with its confirmation (``where`` keeps the keys apart)."""
    simulated = int(accounts.list_raters(store, lead.cohort_id)["simulated"].sum())
    if not simulated:
        return
    with st.popover("Remove the demo data"):
        st.write(
            f"Deletes the {simulated} simulated raters of this cohort with all their judgments and drills. "
            "People's answers stay."
        )
        if st.button("Yes, remove the simulated raters", key=f"remove_demo_{where}"):
            removed = cohort.remove_demo_data(store, lead)
            cohort_data.clear()
            st.session_state[FLASH] = (
                f"Removed {removed['raters']} simulated raters and their {removed['judgments']} judgments."
            )
            st.rerun()


with overview:
    opening = assessments.cohort_assessment(store, lead.cohort_id)
    if opening is not None and opening["effect"] is not None:  # the cohort's report opens with it
        st.subheader("Training effect")
        for line in opening["effect"].get("cohort", {}).get("summary", [])[:4]:
            st.caption(line)
        st.caption("The whole pre/post table, and each rater against the bar, are under Assessments.")
    if prepared.empty:
        st.info(
            "No judgments yet. Share the invite code, or load a simulated demo cohort under Drill settings."
        )
    else:
        board = data.leaderboard(since=None, today=today, k=PRIOR_JUDGMENTS, min_n=MIN_RANKED)
        st.caption(covers_sentence(shown_banks, len(prepared)))
        c = st.columns(3)
        c[0].metric("Raters", prepared["rater"].nunique())
        c[1].metric("Judgments", len(prepared))
        c[2].metric("Cohort agreement with experts", f"{prepared['correct'].mean():.1%}")
        show_simulated = st.checkbox(
            "Show simulated raters",
            key="console_show_simulated",
            help="Simulated raters are left out of the board once people have answers.",
        )
        table = readable(
            board,
            data,
            store=store,
            cohort_id=lead.cohort_id,
            min_n=MIN_RANKED,
            show_simulated=show_simulated,
            keep=("accuracy", "overconfidence", "length_or", "polish_or"),
        )
        st.caption(
            f"All time. Ranked after {MIN_RANKED} answers with a confidence; the interval is the 95% "
            "interval of each rater's mean score per answer."
        )
        show_board(
            table,
            extra={
                "accuracy": st.column_config.TextColumn("Agreed"),
                "overconfidence": st.column_config.TextColumn(
                    "Overconfidence", help="Mean confidence minus accuracy, in percentage points"
                ),
                "length_or": st.column_config.TextColumn(
                    "Length OR", help="Odds ratio of picking the longer answer (n/a below 30 answers)"
                ),
                "polish_or": st.column_config.TextColumn(
                    "Polish OR", help="Odds ratio of picking the more polished answer (n/a below 30 answers)"
                ),
            },
        )
        remove_demo_button("overview")
        who = st.selectbox(
            "Open a rater's report", sorted(prepared["rater"].unique()), index=None, key="lead_rater"
        )
        if who:
            everything = {  # every answer, repeats included: the probes' swap figure
                b: store.cohort_judgments(cohort=lead.cohort, bank=b, names=[who], repeats=True)
                for b in shown_banks
            }
            show_rater_report(
                data.rater_prepared(who),
                key=f"lead_{who}",
                simulated=who in data.simulated(),
                domains=bank_domains(shown_banks),
                answers=across_banks(everything),
            )


with progress_tab:
    show_cohort_progress(
        prepared,
        accounts.list_raters(store, lead.cohort_id),
        simulated=data.simulated() if data is not None else set(),
        streaks=data.streaks(today) if data is not None else {},
        today=pd.Timestamp.now(tz="UTC"),
        banks=shown_banks,
        version=(lead.cohort_id, *data.version(), *(store.bank_revision(b) for b in shown_banks))
        if data
        else None,
    )


def show_audit_pair(pair_id: str, evidence, *, editable: bool, key: str) -> None:
    """One pair whole, as raters saw it, with the cohort's votes, the evidence, its history and actions."""
    pair = bank.loc[pair_id]
    st.markdown("**Prompt**")
    with st.container(border=True):
        show_markdown(pair["prompt"])
    a, b = st.columns(2)
    with a.container(border=True):
        st.caption("Response A")
        show_markdown(pair["response_a"])
    with b.container(border=True):
        st.caption("Response B")
        show_markdown(pair["response_b"])
    with st.container(border=True):
        show_markdown(pair["rationale"] or "No reason was given.", label=f"Gold {pair['gold']}:")
    if pair_id in retired:
        st.warning("Retired: no drill draws this pair again (its answers still count).")
    if evidence is not None:
        model = (
            f"Chance the better answer is not the gold: {evidence['p_gold_wrong']:.0%}, weighing each "
            f"rater's reliability on the other pairs and their pull toward the longer, more formatted or "
            f"left answer; clarity {evidence['clarity']:.2f} (1 = as clear as the bank's clearest pairs, "
            "0 = a typical rater guesses, below 0 = a trap that fools a typical rater)."
            if pd.notna(evidence["fdr_q"])
            else f"Fewer than {AUDIT_MIN_RATERS} raters have answered it: not audited yet."
        )
        strong = (
            f" {int(evidence['strong_against'])} of {int(evidence['strong_n'])} strong raters chose against "
            f"the gold, where {evidence['expected_against']:.1f} were expected."
            if evidence["strong_n"]
            else ""
        )
        st.caption(
            f"{int(evidence['n'])} answers: A {int(evidence['votes_a'])}, B {int(evidence['votes_b'])}. "
            + model
            + strong
        )
    votes = audit_prepared[audit_prepared["pair_id"].to_numpy() == pair_id]
    if len(votes):
        labels = {r: f"{r} (simulated)" for r in audit_data.simulated()}
        shown_votes = pd.DataFrame(
            {
                "rater": [labels.get(r, r) for r in votes["rater"]],
                "choice": votes["choice"].to_numpy(),
                "confidence": votes["confidence"].to_numpy(),
                "agrees with gold": ["tie" if pd.isna(c) else "yes" if c else "no" for c in votes["correct"]],
            }
        )
        with st.expander(f"The cohort's {len(votes)} votes"):
            st.dataframe(
                spreadsheet_safe(shown_votes),
                hide_index=True,
                width="stretch",
                column_config={"confidence": st.column_config.NumberColumn(format="percent")},
            )
    changes = history[history["pair_id"] == pair_id]
    if len(changes):
        st.caption("Changes to this pair:")
        st.dataframe(
            spreadsheet_safe(
                changes.assign(changed_at=changes["changed_at"].dt.strftime("%Y-%m-%d %H:%M UTC"))[
                    ["changed_at", "changed_by", "field", "old", "new"]
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    if not editable:
        return
    with st.form(f"correct_{key}"):
        gold = st.radio(
            "Gold",
            list(cohort.GOLDS),
            index=list(cohort.GOLDS).index(pair["gold"]),
            horizontal=True,
            key=f"gold_{key}",
        )
        reason = st.text_area("Reason (Markdown)", value=pair["rationale"], key=f"reason_{key}")
        sure = st.checkbox(
            "I checked the pair: past answers to it are scored against this gold from now on.",
            key=f"sure_{key}",
        )
        if st.form_submit_button("Save the correction"):
            if gold != pair["gold"] and not sure:
                st.error("Tick the box to change the gold: it re-scores every past answer to this pair.")
            else:
                done = []
                if cohort.correct_gold(store, lead, audit_bank, pair_id, gold):
                    done.append(f"gold {pair['gold']} → {gold}")
                if cohort.correct_reason(store, lead, audit_bank, pair_id, reason):
                    done.append("reason rewritten")
                forget_cached_statistics()
                st.session_state[FLASH] = (
                    f"Pair {escape_markdown(pair_id)}: {', '.join(done)}; recorded."
                    if done
                    else f"Pair {escape_markdown(pair_id)}: nothing changed."
                )
                st.rerun()
    is_retired = pair_id in retired
    if st.button(
        "Bring the pair back into drills" if is_retired else "Retire the pair (never drawn again)",
        key=f"retire_{key}",
    ):
        try:
            cohort.retire_pair(store, lead, audit_bank, pair_id, retired=not is_retired)
        except accounts.AccountError as refused:
            st.error(str(refused))
        else:
            state = "back in drills." if is_retired else "retired."
            st.session_state[FLASH] = f"Pair {escape_markdown(pair_id)}: {state}"
            st.rerun()


with audit:
    if audit_prepared.empty:
        st.info("No judgments yet.")
    else:
        st.caption(
            f"Auditing the bank {escape_markdown(audit_bank)}"
            + (": pick one bank under Figures cover to audit another." if len(shown_banks) > 1 else ".")
        )
        items = audit_data.audit()
        doubtful = items[items["gold_doubtful"]]
        editable = cohort.can_edit(store, lead, audit_bank)
        bank = load_bank(audit_bank).set_index("id")
        retired = cohort.retired_pairs(store, audit_bank)
        history = cohort.pair_history(store, audit_bank)
        summary = audit_summary(items)
        st.write(
            "A pair is listed when the raters who are reliable on the other pairs contradict its gold "
            "beyond what its difficulty and its length, polish and side pull explain (a model of raters "
            f"and pairs, needing {AUDIT_MIN_RATERS} raters a pair). At most {AUDIT_FDR:.0%} of the listed "
            f"golds are expected to be right after all (here about {summary['expected_false_flags']:.1f} "
            f"of {summary['n_flagged']}; {summary['n_audited']} pairs audited). Review each: the gold may "
            "be wrong. Correct its gold or reason, or retire it; every change is recorded."
        )
        if not editable:
            st.info(cohort.NOT_EDITABLE)
        if doubtful.empty:
            st.success("No gold is in doubt.")
        evidence_of = items.set_index("pair_id")
        for row in doubtful.itertuples():
            with st.expander(
                f"{escape_markdown(row.pair_id)}: gold {row.gold}, votes A {row.votes_a} / B {row.votes_b}, "
                f"chance the gold is wrong {row.p_gold_wrong:.0%}"
            ):
                show_audit_pair(
                    row.pair_id, evidence_of.loc[row.pair_id], editable=editable, key=f"flag_{row.pair_id}"
                )
        st.subheader("Any pair")
        opened = st.selectbox(
            "Open a pair of the bank",
            list(bank.index),
            index=None,
            key="audit_open",
            format_func=lambda p: f"{p} (retired)" if p in retired else p,
        )
        if opened:
            with st.container(border=True):
                show_audit_pair(
                    opened,
                    evidence_of.loc[opened] if opened in evidence_of.index else None,
                    editable=editable,
                    key=f"any_{opened}",
                )
        if len(history):
            st.subheader("Changes made in the audit")
            st.dataframe(
                spreadsheet_safe(
                    history.assign(changed_at=history["changed_at"].dt.strftime("%Y-%m-%d %H:%M UTC"))
                ),
                hide_index=True,
                width="stretch",
            )
        st.subheader("All pairs, hardest first")
        st.dataframe(spreadsheet_safe(cohort.readable_items(items)), hide_index=True, width="stretch")


def show_probe_section(name: str) -> None:
    """The bank's matched pairs (probes) and, for the cohort's own banks, the action that adds them."""
    st.subheader("Matched pairs (probes)")
    held = probe_counts(load_bank(name))
    st.caption(
        "A matched pair is a pair of the bank with one answer restyled: formatted, padded or given an "
        "appeal to authority, the content unchanged. Drills mix them in (at most a fifth of a drill, "
        "never on the day of their base pair), and pairs a rater answered rightly come back after a "
        "week with the sides swapped. Raters cannot tell them apart; their reports show how often the "
        "styled copy won. "
        + (
            "This bank holds " + ", ".join(f"{n} {kind}" for kind, n in held.items()) + "."
            if held
            else "This bank holds none yet."
        )
    )
    if not cohort.can_edit(store, lead, name):
        st.caption(
            "Only your cohort's own banks take matched pairs: this one is shared or read-only. Make an "
            "editable copy under Drill settings, then add them to the copy."
        )
        return
    kinds = st.multiselect(
        "Kinds", ["polish", "padding", "authority"], default=["polish", "padding"], key="probe_kinds"
    )
    if st.button("Add matched pairs", key="add_probes", disabled=not kinds):
        with st.spinner("Deriving matched pairs..."):
            done = cohort.add_probes(store, lead, name, kinds)
        load_bank.clear()
        pair_texts.clear()
        cohort_data.clear()
        made = ", ".join(f"{n} {kind}" for kind, n in done["derived"].items()) or "none"
        st.success(
            f"{done['added']} matched pairs added ({made} derived; {done['unchanged']} were there already)."
        )
        if done["skipped"]:
            st.caption(
                "Base pairs left without a matched pair, by reason: "
                + "; ".join(f"{reason}: {n}" for reason, n in done["skipped"].items())
            )


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
                    pd.DataFrame(
                        [{"where": p.where, "field": p.field, "message": p.message} for p in problems]
                    )
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
            pair_texts.clear()
            cohort_data.clear()  # prepared with the bank's old pairs
            st.session_state["bank_stats_name"] = new_name.strip()  # show the new bank's statistics below
            shown_name = escape_markdown(repr(new_name.strip()))
            bare = int(bank["rationale"].fillna("").astype(str).str.strip().eq("").sum())
            said = cohort.import_message(new_name.strip(), counts, shown_name=shown_name, no_rationale=bare)
            st.success(said)
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
        show_probe_section(shown)

with guidelines_tab:
    current_guidelines = cohort.guidelines(store, lead.cohort_id)
    st.write(
        "Your rating guidelines, in Markdown: raters see them on the drill page, in a "
        '"Guidelines" box above each pair. Leave the text empty to remove them.'
    )
    with st.form("guidelines_form"):
        text = st.text_area(
            "Guidelines",
            value=current_guidelines["text"] if current_guidelines else "",
            height=240,
            max_chars=cohort.MAX_GUIDELINES,
            key="guidelines_text",
        )
        if st.form_submit_button("Save the guidelines"):
            cohort.set_guidelines(store, lead, text)
            cohort_guidelines.clear()
            st.session_state[FLASH] = "Guidelines saved." if text.strip() else "Guidelines removed."
            st.rerun()
    if current_guidelines:
        by = current_guidelines["updated_by"] or "a removed account"
        st.caption(
            f"Last saved {current_guidelines['updated_at']:%Y-%m-%d %H:%M} UTC by {escape_markdown(by)}."
        )
        st.markdown("**As raters see them**")
        with st.container(border=True):
            show_markdown(current_guidelines["text"])

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
        ties = st.checkbox(
            'Raters may answer "About equally good"',
            value=bool(info["tie_answers"]),
            key="set_tie_answers",
            help="A third answer beside the two responses. It is right when the experts rated the pair "
            "a tie, and costs less than a sure wrong pick when they did not.",
        )
        if st.form_submit_button("Save"):
            accounts.set_drill_settings(
                store, lead.cohort_id, drill_size=int(size), bank=chosen, tie_answers=bool(ties)
            )
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
        "length, polish and position biases and over- or underconfidence, so you can explore the console; "
        "they also take baseline, post and retention forms with planted learning (see Assessments)."
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
            # and their assessment forms, with planted learning: pre, post and retention
            forms_bank = (assessments.plan(store, lead.cohort_id) or {}).get("bank") or bank_name
            assessments.load_demo_forms(store, lead, forms_bank, seed=lead.cohort_id)
        # The rerun refreshes the figures drawn above; the message is shown after it, here.
        st.session_state[FLASH] = (
            f"Loaded {counts['added']} simulated judgments."
            if counts["added"]
            else "The demo cohort is already loaded: nothing added."
        )
        st.rerun()
    remove_demo_button("settings")

with assess_tab:
    show_assessment_console(store, lead, bank_name)

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
    with tabs[9]:
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
            version = (
                *data.version(),
                *(store.bank_revision(b) for b in shown_banks),
                *assessments.forms_version(store, lead.cohort_id),
            )
            report = cohort_report(lead.cohort, lead.cohort_id, shown_banks, version, today)
            st.caption(covers_sentence(shown_banks, len(prepared)))
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
                lambda: to_csv(*judgments_for_csv(prepared, shown_banks)),
                "paircal-judgments.csv",
                "text/csv",
                key="dl_csv",
            )
