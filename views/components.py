"""Pieces that more than one page shows: a rater's bias report, and the track controls."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from calibration import charts
from calibration.explain import plain_notes
from calibration.render import resolution_figures, to_html
from calibration.report import build_report, to_json
from calibration.trend import trend
from pairs.bank import PROBE_KINDS
from pairs.export import count_of, csv_text, signed_percent
from pairs.judgments import spreadsheet_safe, to_csv
from pairs.markdown import escape_markdown
from storage.store import Store
from training import tracks
from training.accounts import AccountError, Rater


@st.cache_data(show_spinner="Computing the report...", max_entries=64)
def rater_report(
    prepared_rater: pd.DataFrame,
    simulated: bool,
    domains: pd.Series | None = None,
    answers: pd.DataFrame | None = None,
    forms: pd.DataFrame | None = None,
) -> dict:
    """The bias report of one rater's prepared judgments (cached by their content).

    Parameters
    ----------
    prepared_rater : DataFrame
        One rater's rows of :func:`calibration.data.prepare`.
    simulated : bool
        Whether the database marks the rater as simulated.
    domains : Series of str, optional
        The bank's ``domain`` by pair id: the report then has figures per track.
    answers : DataFrame, optional
        Every answer of the rater, repeats included: the probes' swap figure.
    forms : DataFrame, optional
        The cohort's prepared answers in closed assessment forms: the report then
        has the rater's training effect, fitted on the whole cohort's forms as
        the cohort report's is (so both adjust alike for a harder form).

    Returns
    -------
    dict
        :func:`calibration.report.build_report` for the rater.
    """
    rater = str(prepared_rater["rater"].iloc[0])
    labelled = {rater} if simulated else set()
    rows = prepared_rater
    if forms is not None and not forms.empty:  # drill answers are in no form
        drills = prepared_rater if "form" in prepared_rater.columns else prepared_rater.assign(form="")
        rows = pd.concat([drills, forms], ignore_index=True)
    return build_report(rows, rater=rater, simulated=labelled, domains=domains, answers=answers)


def show_rater_report(
    prepared_rater: pd.DataFrame,
    *,
    key: str,
    simulated: bool,
    domains: pd.Series | None = None,
    answers: pd.DataFrame | None = None,
    forms: pd.DataFrame | None = None,
) -> None:
    """Everything the bias report says about one rater, with charts and downloads.

    Parameters
    ----------
    prepared_rater : DataFrame
        The rater's prepared judgments (empty: a note to do a drill first).
    key : str
        Prefix of the download buttons' widget keys, unique on the page.
    simulated : bool
        Whether the database marks the rater as simulated (labelled so).
    domains : Series of str, optional
        The bank's ``domain`` by pair id; with it the report shows accuracy and
        bias per track, and its downloads carry them.
    answers : DataFrame, optional
        Every answer of the rater, repeats included, for the probes' swap figure.
    forms : DataFrame, optional
        The cohort's prepared answers in closed assessment forms, for the training
        effect in the downloaded report (:func:`rater_report`).
    """
    if prepared_rater.empty:
        st.info("No judgments yet: finish a drill and your report appears here.")
        return
    report = rater_report(prepared_rater, simulated, domains, answers, forms)
    name = report["rater"]
    if report["simulated"]:
        st.warning("Simulated rater: demo data, not a person.")
    cal = report["calibration"]
    m = st.columns(4)
    m[0].metric("Judgments", report["n"])
    m[1].metric(
        "Agreed with the expert", "n/a" if report["accuracy"] is None else f"{report['accuracy']:.0%}"
    )
    m[2].metric(
        "Brier score",
        "n/a" if cal["brier"] is None else f"{cal['brier']:.3f}",
        help="0 is perfect; always saying 50% scores 0.25.",
    )
    over = cal["overconfidence"]
    m[3].metric("Overconfidence", signed_percent(over), help="Mean confidence minus accuracy.")
    notes = plain_notes(report)
    st.caption(notes["brier"])
    st.caption(notes["overconfidence"])

    st.subheader("In short")
    for line in report["verdict"]:  # sentences that name the rater's tags: shown as written
        st.markdown(f"- {escape_markdown(line)}")

    st.subheader("What sways your choices")
    forest = charts.forest_plot(
        pd.DataFrame([{"effect": e, **v} for e, v in report["bias"].items()]), title=None
    )
    if not charts.drawn_rows(forest):
        st.info("Not enough data yet for the bias model: it needs 30 judgments on decided pairs.")
    else:
        st.altair_chart(forest, width="stretch")
    st.caption(notes["odds_ratio"])
    if report.get("bias_method"):
        st.caption("How these verdicts were made: " + escape_markdown(" ".join(report["bias_method"])))
    with st.expander("The odds ratios in detail"):
        st.dataframe(spreadsheet_safe(bias_table(report["bias"])), hide_index=True, key=f"{key}_bias")
        st.caption(
            "An odds ratio of 1 means the feature does not sway you; 2 means your odds of picking the answer "
            "with it double, beyond what the expert's gold explains. The 95% interval is the range the "
            "figure likely lies in; a bias is clear when the interval leaves out 1 (p below 0.05)."
        )
    for row in report["plain_rates"]:
        if row.get("summary"):
            st.caption(row["summary"])

    show_probes(report.get("probes") or {})

    st.subheader("Is your confidence right?")
    left, right = st.columns([3, 2])
    reliability = charts.reliability_diagram(pd.DataFrame(cal["bins"]), title=None)
    if charts.drawn_rows(reliability):
        left.altair_chart(reliability, width="stretch")
    right.markdown(cal.get("verdict") or "")
    right.caption(notes["ece"])
    with right.expander("The Brier score in detail"):
        st.dataframe(spreadsheet_safe(calibration_table(cal, notes)), hide_index=True, key=f"{key}_brier")
    corp = charts.corp_diagram(
        pd.DataFrame(cal.get("corp") or [], columns=["confidence", "calibrated", "accuracy", "n"]),
        mcb=cal.get("mcb"),
        dsc=cal.get("dsc"),
        unc=cal.get("unc"),
    )
    if charts.drawn_rows(corp):
        left, right = st.columns([3, 2])
        left.altair_chart(corp, width="stretch")
        right.caption(
            "The same question without bins (the CORP diagram): the orange steps estimate how often you "
            "are right at each confidence you used, rising or flat, never falling back. On the dashed "
            "line your confidence is right; steps that stay flat while your confidence rises mean your "
            "confidence does not tell your right answers from your wrong ones. The grey band is where the "
            "steps of a perfectly calibrated rater with your answers' confidences would fall 9 times in 10: "
            "steps outside it are more than chance. The dots are the raw share right at each confidence, "
            "sized by how often you used it."
        )

    st.subheader("Agreement with the experts")
    st.markdown(notes["alpha"])
    agreement = report["agreement"]
    if agreement.get("alpha_vs_gold") is not None:
        with st.expander("Krippendorff's alpha in detail"):
            low, high = agreement.get("ci_low"), agreement.get("ci_high")
            interval = "" if low is None or high is None else f" (95% interval {low:.2f} to {high:.2f})"
            st.caption(
                f"Alpha {agreement['alpha_vs_gold']:.3f}{interval}, over your answers counted as a second "
                "rater beside the expert's gold. Unlike plain accuracy, alpha discounts the agreement two "
                "raters would reach by chance: 1 is perfect agreement, 0 chance, below 0 systematic "
                "disagreement. 0.8 is the usual bar for reliable data, 0.667 for tentative conclusions."
            )

    st.subheader("Over time")
    days = (
        prepared_rater["answered_at"].dt.floor("D").nunique()
        if prepared_rater["answered_at"].notna().any()
        else 0
    )
    series = trend(prepared_rater, freq="D" if days <= 21 else "W")
    if series.empty or series["period"].nunique() < 2:
        st.info("Not enough days yet to show a trend.")
    else:
        st.altair_chart(charts.trend_chart(series, title="Is the bias shrinking?"), width="stretch")
    # each point rests on few judgments: the test of a change is the verdict, not the chart
    for effect in ("length", "polish"):
        summary = (report.get("trend") or {}).get(effect, {}).get("summary")
        if summary:
            st.caption(escape_markdown(summary))

    st.subheader("Accuracy by trap kind")
    tags = pd.DataFrame(report["tags"])
    tag_chart = charts.tag_accuracy_chart(tags, title=None)
    if not charts.drawn_rows(tag_chart):
        st.info("No decided pairs yet.")
    else:
        st.altair_chart(tag_chart, width="stretch")
        weak = tags.loc[tags["weak_spot"].astype(bool), "tag"].tolist()
        if weak:
            weak_list = escape_markdown(", ".join(weak))
            st.warning(f"You miss these trap kinds more than others: {weak_list}.")

    if report.get("tracks"):
        st.subheader("Accuracy and bias by track")
        st.dataframe(spreadsheet_safe(track_table(report["tracks"])), hide_index=True, key=f"{key}_tracks")
        st.caption(
            "Accuracy with its 95% interval; each bias is an odds ratio (1 = no pull) with its 95% "
            "interval, marked clear when the interval leaves out 1. A track needs about 30 judgments "
            "before its bias is estimated."
        )

    st.subheader("Download")
    # The files are built when a button is clicked, not on every rerun (the HTML renders its charts).
    d = st.columns(3)
    d[0].download_button(
        "Bias report (HTML)",
        lambda: to_html(report),
        file_name=f"paircal-report-{name}.html",
        mime="text/html",
        key=f"{key}_html",
    )
    d[1].download_button(
        "Report data (JSON)",
        lambda: to_json(report),
        file_name=f"paircal-report-{name}.json",
        mime="application/json",
        key=f"{key}_json",
    )
    d[2].download_button(
        "My judgments (CSV)",
        lambda: to_csv(prepared_rater),
        file_name=f"paircal-judgments-{name}.csv",
        mime="text/csv",
        key=f"{key}_csv",
    )


def bias_table(bias: dict) -> pd.DataFrame:
    """The odds ratios a reader sees: one row per effect, figures as text ("n/a" when not estimated).

    Parameters
    ----------
    bias : dict
        A report's ``bias`` (effect to odds ratio, interval, p-value, summary).

    Returns
    -------
    DataFrame
        Columns ``effect``, ``odds ratio``, ``95% interval``, ``p``, ``what it means``.
    """

    def figure(b: dict, field: str, spec: str) -> str:
        return "n/a" if b.get(field) is None else format(b[field], spec)

    rows = [(effect, b) for effect, b in bias.items() if b]
    return pd.DataFrame(
        {
            "effect": [charts.EFFECT_LABELS.get(e, e) for e, _ in rows],
            "odds ratio": [figure(b, "odds_ratio", ".2f") for _, b in rows],
            "95% interval": [
                "n/a"
                if b.get("ci_low") is None or b.get("ci_high") is None
                else f"{b['ci_low']:.2f} to {b['ci_high']:.2f}"
                for _, b in rows
            ],
            "p": [figure(b, "p_value", ".3f") for _, b in rows],
            "what it means": [b.get("summary") or "n/a" for _, b in rows],
        },
        columns=["effect", "odds ratio", "95% interval", "p", "what it means"],
    )


def calibration_table(cal: dict, notes: dict[str, str]) -> pd.DataFrame:
    """The Brier decomposition a reader sees: measure, value as text ("n/a" when unknown), meaning.

    Parameters
    ----------
    cal : dict
        A report's ``calibration``.
    notes : dict of str to str
        :func:`calibration.explain.plain_notes` of the report.

    Returns
    -------
    DataFrame
        Columns ``measure``, ``value``, ``what it means``: the Brier decomposition, then
        :func:`calibration.render.resolution_figures`.
    """
    rows = [
        ("Brier score", "brier", ".3f"),
        ("reliability (lower is better)", "reliability", ".4f"),
        ("resolution (higher is better)", "resolution", ".4f"),
        ("uncertainty", "uncertainty", ".4f"),
        ("log score (higher is better)", "log_score", ".3f"),
        ("ECE (lower is better)", "ece", ".3f"),
    ]
    extra = resolution_figures(cal)
    return pd.DataFrame(
        {
            "measure": [label for label, _, _ in rows] + [m for m, _, _ in extra],
            "value": ["n/a" if cal.get(k) is None else format(cal[k], spec) for _, k, spec in rows]
            + [v for _, v, _ in extra],
            "what it means": [notes[k] for _, k, _ in rows] + [w for _, _, w in extra],
        }
    )


def track_table(rows: list[dict]) -> pd.DataFrame:
    """The per-track table a reader sees: one row per track, figures formatted.

    Parameters
    ----------
    rows : list of dict
        A report's ``tracks`` (:func:`calibration.tracks.track_accuracy` rows).

    Returns
    -------
    DataFrame
        Columns ``track``, ``judgments``, ``accuracy``, ``95% CI`` and one per
        bias (``length bias``, ``polish bias``, ``position bias``): the odds
        ratio and its interval, "clear" when significant, "n/a" when not estimated.
    """

    def percent(x) -> str:
        return "n/a" if x is None else f"{x:.0%}"

    def odds(row: dict, effect: str) -> str:
        if row.get(f"{effect}_or") is None:
            return "n/a"
        clear = ", clear" if row.get(f"{effect}_significant") else ""
        return (
            f"{row[f'{effect}_or']:.2f} ({row[f'{effect}_ci_low']:.2f}-{row[f'{effect}_ci_high']:.2f}{clear})"
        )

    return pd.DataFrame(
        {
            "track": [r["track"] for r in rows],
            "judgments": [r["n"] for r in rows],
            "accuracy": [percent(r["accuracy"]) for r in rows],
            "95% CI": [f"{percent(r['ci_low'])}-{percent(r['ci_high'])}" for r in rows],
            **{f"{e} bias": [odds(r, e) for r in rows] for e in ("length", "polish", "position")},
        }
    )


def _track_label(track: str | None, sizes: dict[str, int]) -> str:
    if track is None:
        return "Let each rater choose"
    if track == tracks.ALL:
        return "All domains"
    return f"{track} ({count_of(sizes.get(track, 0), 'pair')})"


def show_track_picker(store: Store, user: Rater, bank: str) -> None:
    """The rater's track: a selectbox to pick one, and which track applies and who chose it.

    Parameters
    ----------
    store : Store
    user : Rater
        The signed-in rater.
    bank : str
        Their cohort's bank, whose domains are the tracks.
    """
    sizes = tracks.bank_sizes(store, bank)
    options = [tracks.ALL, *sizes]
    choice = tracks.current_track(store, user.id)
    st.subheader("Track")
    shown = choice.picked if choice.picked in options else tracks.ALL  # a pick the bank no longer has
    picked = st.selectbox(
        "Lean my drills to",
        options,
        index=options.index(shown),
        format_func=lambda t: _track_label(t, sizes),
        key="track_pick",
        help="New drills take 7 of 10 pairs from your track while you have fresh pairs of it, "
        "and the rest from the other domains.",
    )
    if picked != shown:
        choice = tracks.choose_track(store, user, picked, bank=bank)
    track = escape_markdown(choice.track)
    if choice.track not in options:
        st.caption(
            f"Your track, {track} (chosen by {choice.chosen_by}), is not a domain of your cohort's bank "
            "now: your drills draw from every domain."
        )
    elif choice.track == tracks.ALL:
        st.caption(f"Your drills draw from every domain (chosen by {choice.chosen_by}).")
    else:
        st.caption(
            f"Your track is **{track}**, chosen by {choice.chosen_by}: new drills lean to it "
            "while you have fresh pairs of it; a drill already started keeps its pairs."
        )
    if choice.locked and choice.picked != choice.track:
        st.caption(
            f"Your own pick, {escape_markdown(choice.picked)}, applies again if your lead removes theirs."
        )


_CHOSEN_BY_LEAD_VIEW = {"lead": "you, for them", "cohort": "you, for the cohort", "rater": "the rater"}


def show_cohort_tracks(store: Store, lead: Rater, bank: str) -> None:
    """The lead's track controls: a track for the whole cohort or one rater, and everyone's track.

    Parameters
    ----------
    store : Store
    lead : Rater
        The signed-in lead.
    bank : str
        The cohort's bank.
    """
    sizes = tracks.bank_sizes(store, bank)
    options: list[str | None] = [None, tracks.ALL, *sizes]
    cohort_track, table = tracks.cohort_tracks(store, lead)
    st.subheader("Tracks of the cohort")
    st.caption("A track you assign wins over the rater's own pick; one for a rater wins over the cohort's.")
    with st.form("track_cohort_form"):
        chosen = st.selectbox(
            "Track for the whole cohort",
            options,
            index=options.index(cohort_track) if cohort_track in options else 0,
            format_func=lambda t: _track_label(t, sizes),
            key="track_cohort",
        )
        if st.form_submit_button("Save the cohort's track"):
            tracks.assign_track(store, lead, chosen, bank=bank)
            st.rerun()
    if table.empty:
        st.info("No raters have joined yet.")
        return
    with st.form("track_rater_form"):
        left, right = st.columns(2)
        names = dict(zip(table["rater_id"].tolist(), table["name"].tolist(), strict=True))
        who = left.selectbox(
            "Rater", list(names), format_func=lambda rater_id: str(names[rater_id]), key="track_rater"
        )
        chosen = right.selectbox(
            "Track for this rater",
            options,
            format_func=lambda t: (
                "Follow the cohort's track or their own pick" if t is None else _track_label(t, sizes)
            ),
            key="track_rater_track",
        )
        if st.form_submit_button("Assign the track"):
            try:
                tracks.assign_track(store, lead, chosen, bank=bank, rater_id=int(who or 0))
            except AccountError as refused:
                st.error(str(refused))
            else:
                st.rerun()
    shown = pd.DataFrame(
        {
            "rater": table["name"],
            "track": table["track"],
            "chosen by": [_CHOSEN_BY_LEAD_VIEW.get(s, "nobody (every domain)") for s in table["chosen_by"]],
            "their own pick": table["picked"],
        }
    )
    st.dataframe(spreadsheet_safe(shown), hide_index=True, key="track_cohort_table")


def show_probes(probes: dict) -> None:
    """The matched pairs a rater answered: how often the styled copy won, and swapped repeats.

    Parameters
    ----------
    probes : dict
        The report's ``probes`` object (empty: the section is left out).
    """
    if not probes:
        return
    st.subheader("Matched pairs")
    st.caption(
        "Some pairs in your drills differ from another pair only in style: the same answer with "
        "formatting or padding added, or a pair shown again with its sides swapped. Only the style "
        "can change your choice there, so these figures measure its pull directly."
    )
    for kind in PROBE_KINDS:  # derived kinds, in the bank format's order
        if kind in probes and probes[kind].get("summary"):
            line = probes[kind]["summary"]
            if probes[kind].get("significant"):
                st.warning(line)  # a pull the matched pairs show clearly
            else:
                st.markdown(escape_markdown(line))
    if "swap" in probes and probes["swap"].get("summary"):
        st.markdown(escape_markdown(probes["swap"]["summary"]))


# -- assessments: the training effect and the qualification bar -----------------------------------

_PERCENT_MEASURES = ("accuracy", "overconfidence")
_RATIO_MEASURES = ("length", "polish", "position")
EFFECT_MEASURE_NAMES = {
    "accuracy": "Accuracy",
    "score": "Score per answer",
    "brier_skill": "Brier skill",
    "overconfidence": "Overconfidence",
    "length": "Length pull (odds ratio)",
    "polish": "Polish pull (odds ratio)",
    "position": "Position pull (odds ratio)",
}


def _effect_value(measure: str, value: float, *, change: bool = False) -> str:
    """One cell of the pre/post table: percentages for rates, "×" for a ratio of odds ratios.

    A change is written in words ("up 9 points"): a cell starting with a sign would be taken for a
    formula by a spreadsheet, and :func:`spreadsheet_safe` would put an apostrophe before it.
    """
    if value != value:  # NaN
        return "–"
    if measure in _RATIO_MEASURES:
        return f"×{value:.2f}" if change else f"{value:.2f}"
    percent = measure in _PERCENT_MEASURES or measure.startswith("probe")
    if not change:  # a plain number ("-0.15", "12%") is no formula to a spreadsheet
        return f"{round(100 * value) + 0:d}%" if percent else f"{value + 0.0:.2f}".replace("-0.00", "0.00")
    size = f"{abs(100 * value):.0f} points" if percent else f"{abs(value):.2f}"
    if size in ("0 points", "0.00"):
        return "no change"
    return ("up " if value > 0 else "down ") + size


def _interval(measure: str, low: float, high: float) -> str:
    """The 95% interval of a change, "between −3 and +12 points" (signed inside, a word first)."""
    if low != low or high != high:
        return "–"
    if measure in _RATIO_MEASURES:
        return f"between ×{low:.2f} and ×{high:.2f}"
    if measure in _PERCENT_MEASURES or measure.startswith("probe"):
        return f"between {100 * low:+.0f} and {100 * high:+.0f} points"
    return f"between {low:+.2f} and {high:+.2f}"


def effect_rows(effect: dict, who: str) -> pd.DataFrame:
    """The tidy pre/post rows of one rater (or ``"cohort"``) from a training effect, as the CSV has them."""
    from calibration.effect import effect_table

    table = effect_table(effect)
    return table[table["rater"].astype(str) == who].reset_index(drop=True)


def show_training_effect(effect: dict | None, *, who: str, key: str, simulated: bool = False) -> None:
    """The change between assessment forms (post against pre, and retention) with 95% intervals.

    ``who`` is a rater's name or ``"cohort"``; ``effect`` None before any post form. A table per
    comparison, then the pre/post table as CSV.
    """
    rows = effect_rows(effect, who) if effect is not None else pd.DataFrame()
    if rows.empty:
        st.info("No change to show yet: it needs answers in both the baseline and the post form.")
        return
    if simulated:
        st.caption("Simulated raters: these forms were answered by the demo's simulated raters, not people.")
    for comparison, part in rows.groupby("comparison", sort=False):
        st.markdown(f"**{escape_markdown(str(comparison)).capitalize()}**")
        shown = pd.DataFrame(
            {
                "measure": [EFFECT_MEASURE_NAMES.get(m, m) for m in part["measure"]],
                "before": [_effect_value(m, v) for m, v in zip(part["measure"], part["pre"], strict=True)],
                "after": [_effect_value(m, v) for m, v in zip(part["measure"], part["post"], strict=True)],
                "change": [
                    _effect_value(m, v, change=True)
                    for m, v in zip(part["measure"], part["change"], strict=True)
                ],
                "95% interval": [
                    _interval(m, lo, hi)
                    for m, lo, hi in zip(part["measure"], part["ci_low"], part["ci_high"], strict=True)
                ],
                "clear change": ["yes" if s else "no" for s in part["significant"]],
            }
        )
        st.dataframe(spreadsheet_safe(shown), hide_index=True, key=f"{key}_{comparison}")
    st.caption(
        "A change is clear when its 95% interval leaves out no change (0 points, or ×1.00 for an odds "
        "ratio). Odds ratios above 1 mean the longer, more polished or left-hand answer was picked more "
        "often than its quality explains. A change is adjusted for how hard each form was (learnt from "
        "everyone who took both), so it can differ from after minus before."
    )
    st.download_button(
        "Pre/post table (CSV)",
        csv_text(rows),
        f"paircal-training-effect-{who}.csv",
        "text/csv",
        key=f"{key}_effect_csv",
    )


def show_qualification(passed: dict, ready: dict | None) -> None:
    """The qualification bar, judged on the confidence bounds, and the readiness estimate."""
    if passed.get("passed"):
        st.success(passed["summary"])
    else:
        st.warning(passed["summary"])
    if ready is not None and ready.get("summary"):
        st.info(ready["summary"])
