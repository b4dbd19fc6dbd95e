"""Markdown and HTML renderings of a bias report (:func:`calibration.report.build_report`).

Rendering only reads the report dict: every number and sentence comes from
:mod:`calibration.report`, so a change of layout never touches a statistic.
The HTML is one self-contained file, inline CSS and charts as inline SVG (via
vl-convert), so it opens offline in any browser; it has no script.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from calibration.bias import EFFECTS
from calibration.explain import NOTE_KEYS, plain_notes
from pairs.export import signed_percent
from pairs.markdown import escape_markdown

__all__ = ["CHARTS_FOR_AT_MOST", "covers_text", "resolution_figures", "to_html", "to_markdown"]

CHARTS_FOR_AT_MOST = 30
"""A cohort HTML report draws per-rater charts only up to this many raters (tables beyond)."""


# --------------------------------------------------------------------------- Markdown


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def _fmt(x: Any, spec: str = ".2f") -> str:
    return "n/a" if _missing(x) else format(x, spec)


def _pct(x: Any) -> str:
    return "n/a" if _missing(x) else f"{x:.0%}"


def _audit_note(method: dict[str, Any]) -> str:
    """What the gold audit's flags promise, in one sentence."""
    return (
        f"Pairs listed at a false discovery rate of {method['fdr']:.0%}: about "
        f"{method['expected_false_flags']:.1f} of these {method['n_flagged']} golds are expected to be right "
        f"after all ({method['n_audited']} pairs with at least {method['min_raters']} raters audited)."
    )


def _cell(x: Any) -> str:
    """A table cell: "n/a" for a value not known (never "None" or "nan")."""
    return "n/a" if _missing(x) else str(x)


def _range(low: Any, high: Any, write: Callable[[Any], str] = _pct) -> str:
    """An interval "low-high", or "n/a" when either end is not known (never "n/a-n/a")."""
    return "n/a" if _missing(low) or _missing(high) else f"{write(low)}-{write(high)}"


def _bias_table_md(bias: dict[str, Any]) -> list[str]:
    rows = ["| effect | odds ratio | 95% CI | p | unit |", "| --- | --- | --- | --- | --- |"]
    for effect in EFFECTS:
        b = bias.get(effect)
        if not b:
            continue
        ci = _range(b["ci_low"], b["ci_high"], _fmt)
        rows.append(
            f"| {effect} | {_fmt(b['odds_ratio'])} | {ci} | {_fmt(b['p_value'], '.3f')} | "
            f"{_cell(b['unit'])} |"
        )
    return rows


def _bins_md(bins: list[dict[str, Any]]) -> list[str]:
    rows = [
        "| stated confidence | mean stated | agreed with expert | 95% CI | n |",
        "| --- | --- | --- | --- | --- |",
    ]
    for b in bins:
        ci = _range(b["ci_low"], b["ci_high"])
        rows.append(f"| {b['bin']} | {_pct(b['confidence'])} | {_pct(b['accuracy'])} | {ci} | {b['n']} |")
    return rows


_TRACK_HEADER = [
    "track",
    "n",
    "accuracy",
    "95% CI",
    *(f"{effect} odds ratio (95% CI)" for effect in EFFECTS),
]


_COHORT_TRACK_HEADER = [*_TRACK_HEADER[:1], "raters", *_TRACK_HEADER[1:]]

_COHORT_TRACK_NOTE = (
    "Accuracy pools every rater's decided judgments on the track; the odds ratios are the cohort's "
    "model fitted on the track's judgments, with intervals robust to each rater's own habits; "
    "(clear): the interval leaves out 1. n/a: fewer than 30 decided judgments on the track (or one rater)."
)


def _track_cells(t: dict[str, Any]) -> list[str]:
    """One row of a per-track table: accuracy with its interval, then each effect's odds ratio.

    A cohort's row (with ``n_raters``) has the number of raters after the track.
    """
    cells = [str(t["track"]), str(t["n"]), _pct(t["accuracy"]), _range(t["ci_low"], t["ci_high"])]
    if "n_raters" in t:
        cells.insert(1, str(t["n_raters"]))
    for effect in EFFECTS:
        odds = t.get(f"{effect}_or")
        if odds is None:
            cells.append("n/a")
            continue
        mark = " (clear)" if t.get(f"{effect}_significant") else ""
        cells.append(f"{odds:.2f} ({_range(t[f'{effect}_ci_low'], t[f'{effect}_ci_high'], _fmt)}){mark}")
    return cells


def _tracks_md(tracks: list[dict[str, Any]], header: list[str]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for t in tracks:
        cells = _track_cells(t)
        lines.append("| " + " | ".join([_md(cells[0]), *cells[1:]]) + " |")
    return lines


_PROBE_HEADER = [
    "probe",
    "n",
    "picked the styled copy",
    "95% CI",
    "expected without a pull",
    "p",
    "clear pull",
]
_PROBE_NAMES = {"polish": "formatting only", "padding": "padding only", "authority": "appeal to authority"}
_PROBE_NOTE = (
    "Probes show a pair again with one answer restyled and nothing else changed, so a switch is due to "
    "style alone. p: Fisher's exact test given where the style sat; clear pull: after Holm's "
    "correction over the kinds."
)


def _probe_rows(probes: dict[str, Any]) -> list[list[str]]:
    """One table row per probe kind answered (the report's ``probes`` object)."""
    rows = []
    for kind, name in _PROBE_NAMES.items():
        p = probes.get(kind)
        if not p:
            continue
        rows.append(
            [
                name,
                str(p["n"]),
                f"{p['picked_styled']} ({_pct(p['rate'])})",
                _range(p["ci_low"], p["ci_high"]),
                _pct(p["expected"]),
                _fmt(p["p_value"], ".3f"),
                "yes" if p["significant"] else "no",
            ]
        )
    return rows


def _probe_sentences(probes: dict[str, Any]) -> list[str]:
    """The summary sentence of each probe kind, then the swap's."""
    keys = [*_PROBE_NAMES, "swap"]
    return [probes[k]["summary"] for k in keys if probes.get(k) and probes[k].get("summary")]


def _probes_md(probes: dict[str, Any], title: str = "### Probes") -> list[str]:
    if not probes:
        return []
    lines = [title, "", _PROBE_NOTE, ""]
    rows = _probe_rows(probes)
    if rows:
        lines += [
            "| " + " | ".join(_PROBE_HEADER) + " |",
            "| " + " | ".join("---" for _ in _PROBE_HEADER) + " |",
        ]
        lines += ["| " + " | ".join(row) + " |" for row in rows] + [""]
    return lines + [f"- {_md(s)}" for s in _probe_sentences(probes)] + [""]


def _probes_html(probes: dict[str, Any], title: str = "<h3>Probes</h3>") -> str:
    if not probes:
        return ""
    rows = _probe_rows(probes)
    table = _table_html(rows, _PROBE_HEADER) if rows else ""
    sentences = "".join(f"<li>{html.escape(s)}</li>" for s in _probe_sentences(probes))
    return f"{title}<p class='muted'>{html.escape(_PROBE_NOTE)}</p>{table}<ul>{sentences}</ul>"


def resolution_figures(cal: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The calibration figures beside the Brier score: (measure, value as text, what it means).

    CORP's decomposition and the two tests behind the verdict
    (:mod:`calibration.confidence`); "n/a" where a figure is not defined.

    Parameters
    ----------
    cal : dict
        A report's ``calibration``.

    Returns
    -------
    list of tuple of str

    Examples
    --------
    >>> rows = resolution_figures({"mcb": 0.04, "dsc": 0.0, "unc": 0.1875, "auc": 0.5,
    ...                            "auc_p_value": 0.5, "spiegelhalter_z": 5.0,
    ...                            "spiegelhalter_p_value": 5.7e-07})
    >>> [(measure, value) for measure, value, _ in rows]  # doctest: +NORMALIZE_WHITESPACE
    [('miscalibration, CORP MCB (lower is better)', '0.0400'),
     ('discrimination, CORP DSC (higher is better)', '0.0000'),
     ('uncertainty, CORP UNC', '0.1875'),
     ('resolution: right answers more confident (AUC)', '50% (p = 0.500)'),
     ("Spiegelhalter's z (0 = calibrated)", '+5.00 (p = 0.000)')]
    """

    def p_value(key: str) -> str:
        return "" if _missing(cal.get(key)) else f" (p = {cal[key]:.3f})"

    auc = "n/a" if _missing(cal.get("auc")) else f"{cal['auc']:.0%}{p_value('auc_p_value')}"
    z = cal.get("spiegelhalter_z")
    return [
        (
            "miscalibration, CORP MCB (lower is better)",
            _fmt(cal.get("mcb"), ".4f"),
            "How much your Brier score would drop if each confidence you use were replaced by how "
            "often you are right when you use it (the CORP curve); 0 is calibrated.",
        ),
        (
            "discrimination, CORP DSC (higher is better)",
            _fmt(cal.get("dsc"), ".4f"),
            "How much better those replaced confidences do than always stating your overall "
            "accuracy; 0 means your confidence does not tell right answers from wrong ones.",
        ),
        (
            "uncertainty, CORP UNC",
            _fmt(cal.get("unc"), ".4f"),
            "The Brier score of always stating your overall accuracy: accuracy x (1 - accuracy).",
        ),
        (
            "resolution: right answers more confident (AUC)",
            auc,
            "The chance that one of your right answers carried more confidence than one of your wrong "
            "ones; 50% is chance. p: one-sided Mann-Whitney test that it is above 50%.",
        ),
        (
            "Spiegelhalter's z (0 = calibrated)",
            "n/a" if _missing(z) else f"{z:+.2f}{p_value('spiegelhalter_p_value')}",
            "Tests every stated confidence at once against how often you were right; above 0 your "
            "surest answers are too sure, below 0 not sure enough.",
        ),
    ]


def _score_interval(row: dict[str, Any]) -> str:
    """A leaderboard row's 95% interval of its score, "0.412 to 0.655" ("n/a" when not known).

    Examples
    --------
    >>> _score_interval({"ci_low": -0.2, "ci_high": 0.31}), _score_interval({"ci_low": None})
    ('-0.200 to 0.310', 'n/a')
    """
    low, high = row.get("ci_low"), row.get("ci_high")
    return "n/a" if _missing(low) or _missing(high) else f"{low:.3f} to {high:.3f}"


def _notes(r: dict[str, Any]) -> list[str]:
    """The plain line on each statistic (:func:`calibration.explain.plain_notes`), in reading order."""
    notes = plain_notes(r)
    return [notes[key] for key in NOTE_KEYS]


def _alpha_sentence(a: dict[str, Any]) -> str:
    ci = (
        f" (95% CI {_range(a['ci_low'], a['ci_high'], lambda x: _fmt(x, '.3f'))})"
        if not (_missing(a["ci_low"]) or _missing(a["ci_high"]))
        else ""
    )
    reason = f"; {a['reason']}" if a.get("reason") else ""
    return f"Krippendorff's alpha against gold: {_fmt(a['alpha_vs_gold'], '.3f')}{ci}{reason}."


def _md(text: Any) -> str:
    """Names, tags, pair ids and sentences that quote them, shown as written: a name written as a
    Markdown image or link, or holding a ``|``, neither fetches anything nor breaks a table."""
    return escape_markdown(text)


def _rater_md(r: dict[str, Any]) -> list[str]:
    cal = r["calibration"]
    lines = [f"## {_md(r['rater'])}" + (" (simulated)" if r["simulated"] else ""), ""]
    lines += [f"- {_md(s)}" for s in r["verdict"]] + [""]
    if r.get("effect"):
        lines += effect_markdown({"cohort": _effect_object(r)}, title="### Training effect")
    lines += ["### Bias", ""] + _bias_table_md(r["bias"]) + [""]
    if r.get("bias_method"):
        lines += ["How these verdicts were made: " + _md(" ".join(r["bias_method"])), ""]
    lines += [f"- {_md(p['summary'])}" for p in r["plain_rates"] if p.get("summary")] + [""]
    lines += _probes_md(r.get("probes") or {})
    lines += ["### Confidence", ""]
    lines += [
        f"Brier score {_fmt(cal['brier'], '.3f')} (0.25 = always 50%), "
        f"log score {_fmt(cal['log_score'], '.3f')}, "
        f"reliability {_fmt(cal['reliability'], '.4f')}, resolution {_fmt(cal['resolution'], '.4f')}, "
        f"uncertainty {_fmt(cal['uncertainty'], '.4f')}, ECE {_fmt(cal['ece'], '.3f')}, "
        f"overconfidence {signed_percent(cal['overconfidence'])} (mean confidence minus accuracy).",
        "",
    ]
    lines += _bins_md(cal["bins"]) + [""]
    lines += ["| measure | value | what it means |", "| --- | --- | --- |"]
    lines += [f"| {m} | {v} | {w} |" for m, v, w in resolution_figures(cal)] + [""]
    lines += ["What these figures mean for you:", ""] + [f"- {n}" for n in _notes(r)] + [""]
    a = r["agreement"]
    lines += [
        "### Agreement and trap kinds",
        "",
        _alpha_sentence(a),
        "",
        "| trap kind | n | accuracy | 95% CI | weak spot |",
        "| --- | --- | --- | --- | --- |",
    ]
    for t in r["tags"]:
        lines.append(
            f"| {_md(t['tag'])} | {t['n']} | {_pct(t['accuracy'])} | "
            f"{_range(t['ci_low'], t['ci_high'])} | {'yes' if t['weak_spot'] else ''} |"
        )
    if r.get("tracks"):
        lines += ["", "### Tracks", "", *_tracks_md(r["tracks"], _TRACK_HEADER)]
    return lines + [""]


def covers_text(report: dict[str, Any], *, quote: Callable[[str], str] = str) -> str:
    """What the report covers, from its optional ``covers`` object (``{"banks": [...], "judgments": n}``).

    Parameters
    ----------
    report : dict
        A report, possibly with ``covers`` (the app adds it; the CLI's
        reports cover the one bank file given).
    quote : callable, default str
        Applied to each bank name (e.g. Markdown escaping).

    Returns
    -------
    str
        E.g. "Covers 2 banks (starter, llmbar): 2,892 judgments.", or "" without ``covers``.

    Examples
    --------
    >>> covers_text({"covers": {"banks": ["starter"], "judgments": 1200}})
    'Covers the bank starter: 1,200 judgments.'
    """
    scope = report.get("covers")
    if not scope:
        return ""
    banks = [quote(str(b)) for b in scope.get("banks", [])]
    names = ", ".join(banks)
    where = f"the bank {names}" if len(banks) == 1 else f"{len(banks)} banks ({names})"
    n = int(scope.get("judgments", 0))
    return f"Covers {where}: {n:,} judgment{'s' if n != 1 else ''}."


def to_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: one rater, or the cohort and then each rater.

    Parameters
    ----------
    report : dict
        Output of :func:`calibration.report.build_report`.

    Returns
    -------
    str
        Markdown text with tables for bias, confidence bins and trap kinds.
    """
    lines = ["# PairCal bias report", "", f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.", ""]
    if scope := covers_text(report, quote=_md):
        lines += [scope, ""]
    if "raters" not in report:
        return "\n".join(lines + _rater_md(report))
    c = report["cohort"]
    lines += ["## Cohort", ""] + [f"- {_md(s)}" for s in c["verdict"]] + [""]
    if c.get("effect"):
        lines += effect_markdown({"cohort": _effect_object(c)}, title="### Training effect")
    lines += ["### Cohort bias (pooled, cluster-robust intervals)", ""] + _bias_table_md(c["bias"]) + [""]
    lines += _probes_md(c.get("probes") or {}, "### Cohort probes")
    if c.get("tracks"):
        lines += ["### Cohort by track", "", _COHORT_TRACK_NOTE, ""]
        lines += _tracks_md(c["tracks"], _COHORT_TRACK_HEADER) + [""]
    lines += [
        "### Leaderboard",
        "",
        "| rank | rater | n | score | 95% interval | accuracy | overconfidence |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in c["leaderboard"]:
        rank = "-" if row["rank"] is None else str(int(row["rank"]))
        lines.append(
            f"| {rank} | {_md(row['rater'])} | {row['n']} | {_fmt(row['score'], '.3f')} | "
            f"{_score_interval(row)} | {_pct(row['accuracy'])} | "
            f"{signed_percent(row['overconfidence'])} |"
        )
    lines.append("")
    if c["gold_audit"]:
        lines += [
            "### Gold audit: gold may be wrong",
            "",
            *([_audit_note(c["gold_audit_method"]), ""] if c.get("gold_audit_method") else []),
            "| pair | gold | votes A | votes B | chance gold is wrong | strong raters against |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for it in c["gold_audit"]:
            lines.append(
                f"| {_md(it['pair_id'])} | {it['gold']} | {it['votes_a']} | {it['votes_b']} | "
                f"{_pct(it.get('p_gold_wrong'))} | {it['strong_against']} of {it['strong_n']} |"
            )
        lines.append("")
    for r in report["raters"]:
        lines += _rater_md(r)
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:980px;margin:2rem auto;
padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.7rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;display:block;max-width:100%;overflow-x:auto}
th,td{border:1px solid #ddd;padding:.25rem .55rem;text-align:left;font-size:.92rem}
th{background:#f4f4f4}.verdict li{margin:.2rem 0}
.sim{background:#fff3cd;padding:.1rem .4rem;border-radius:4px;font-size:.85rem}
.charts{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}.charts svg{max-width:100%;height:auto}
.muted{color:#666;font-size:.9rem}
"""


def _table_html(rows: list[list[str]], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    cells = ("".join(f"<td>{html.escape(_cell(c))}</td>" for c in row) for row in rows)
    body = "".join(f"<tr>{row}</tr>" for row in cells)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _bias_html(bias: dict[str, Any]) -> str:
    rows = []
    for effect in EFFECTS:
        b = bias.get(effect)
        if not b:
            continue
        ci = _range(b["ci_low"], b["ci_high"], _fmt)
        rows.append([effect, _fmt(b["odds_ratio"]), ci, _fmt(b["p_value"], ".3f"), b["unit"], b["summary"]])
    return _table_html(rows, ["effect", "odds ratio", "95% CI", "p", "unit", "what it means"])


_BIAS_COLUMNS = ["effect", "odds_ratio", "ci_low", "ci_high", "p_value", "significant", "estimable"]
_BIN_COLUMNS = ["bin", "confidence", "accuracy", "n", "ci_low", "ci_high"]
_TAG_COLUMNS = ["tag", "n", "accuracy", "ci_low", "ci_high", "weak_spot"]
_CORP_COLUMNS = ["confidence", "calibrated", "accuracy", "n"]


def _number(x: Any) -> float | None:
    return None if _missing(x) else float(x)


#: Chart titles of the cohort's section (a rater's section keeps the charts' own, which say "you").
_COHORT_TITLES = {
    "forest": "What sways the cohort's choices",
    "reliability": "Is the cohort's confidence right?",
    "corp": "How often the cohort is right at each confidence",
}


def _charts_html(r: dict[str, Any], *, cohort: bool = False) -> str:
    from calibration import charts

    def title(chart: str) -> dict[str, Any]:
        return {"title": _COHORT_TITLES[chart]} if cohort else {}

    drawn = [
        charts.forest_plot(
            pd.DataFrame([{"effect": e, **v} for e, v in r["bias"].items()], columns=_BIAS_COLUMNS),
            **title("forest"),
        ),
        charts.reliability_diagram(
            pd.DataFrame(r["calibration"]["bins"], columns=_BIN_COLUMNS), **title("reliability")
        ),
        charts.corp_diagram(
            pd.DataFrame(r["calibration"].get("corp") or [], columns=_CORP_COLUMNS),
            mcb=_number(r["calibration"].get("mcb")),
            dsc=_number(r["calibration"].get("dsc")),
            unc=_number(r["calibration"].get("unc")),
            **title("corp"),
        ),
        charts.tag_accuracy_chart(pd.DataFrame(r["tags"], columns=_TAG_COLUMNS)),
    ]
    # a chart without rows (no estimable bias, no confidence, no decided pair) is left out, not drawn empty
    parts = [charts.to_svg(chart) for chart in drawn if charts.drawn_rows(chart)]
    return f'<div class="charts">{"".join(parts)}</div>' if parts else ""


def _rater_html(r: dict[str, Any], *, with_charts: bool) -> str:
    cal = r["calibration"]
    sim = ' <span class="sim">simulated rater</span>' if r["simulated"] else ""
    out = [f"<h2>{html.escape(r['rater'])}{sim}</h2>"]
    out.append('<ul class="verdict">' + "".join(f"<li>{html.escape(s)}</li>" for s in r["verdict"]) + "</ul>")
    if with_charts:
        out.append(_charts_html(r))
    if r.get("effect"):
        out.append(effect_html(_effect_object(r)))
    out.append("<h3>Bias</h3>" + _bias_html(r["bias"]))
    if r.get("bias_method"):
        out.append(
            '<p class="muted">How these verdicts were made: '
            + html.escape(" ".join(r["bias_method"]))
            + "</p>"
        )
    plain = [p["summary"] for p in r["plain_rates"] if p.get("summary")]
    if plain:
        out.append("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in plain) + "</ul>")
    if probes := _probes_html(r.get("probes") or {}):
        out.append(probes)
    out.append(
        "<h3>Confidence</h3>"
        + _table_html(
            [
                [
                    _fmt(cal["brier"], ".3f"),
                    _fmt(cal["log_score"], ".3f"),
                    _fmt(cal["reliability"], ".4f"),
                    _fmt(cal["resolution"], ".4f"),
                    _fmt(cal["uncertainty"], ".4f"),
                    _fmt(cal["ece"], ".3f"),
                    signed_percent(cal["overconfidence"]),
                    _fmt(cal["slope"], ".2f"),
                ]
            ],
            [
                "Brier (0.25 = coin)",
                "log score",
                "reliability",
                "resolution",
                "uncertainty",
                "ECE",
                "overconfidence",
                "slope",
            ],
        )
    )
    out.append(
        _table_html([list(row) for row in resolution_figures(cal)], ["measure", "value", "what it means"])
    )
    out.append(
        _table_html(
            [
                [
                    b["bin"],
                    _pct(b["confidence"]),
                    _pct(b["accuracy"]),
                    _range(b["ci_low"], b["ci_high"]),
                    b["n"],
                ]
                for b in cal["bins"]
            ],
            ["stated confidence", "mean stated", "agreed with expert", "95% CI", "n"],
        )
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in _notes(r))
    out.append(f"<p class='muted'>What these figures mean for you:</p><ul class='muted'>{notes}</ul>")
    a = r["agreement"]
    out.append(f"<p>{html.escape(_alpha_sentence(a))}</p>")
    out.append(
        "<h3>Trap kinds</h3>"
        + _table_html(
            [
                [
                    t["tag"],
                    t["n"],
                    _pct(t["accuracy"]),
                    _range(t["ci_low"], t["ci_high"]),
                    "yes" if t["weak_spot"] else "",
                ]
                for t in r["tags"]
            ],
            ["trap kind", "n", "accuracy", "95% CI", "weak spot"],
        )
    )
    if r.get("tracks"):
        out.append("<h3>Tracks</h3>" + _table_html([_track_cells(t) for t in r["tracks"]], _TRACK_HEADER))
    return "\n".join(out)


def to_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML file: inline CSS and SVG charts, no script, no network.

    Parameters
    ----------
    report : dict
        Output of :func:`calibration.report.build_report`. A cohort report with
        more than :data:`CHARTS_FOR_AT_MOST` raters draws the cohort's charts
        and each rater's tables, without per-rater charts.

    Returns
    -------
    str
        The HTML document.
    """
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>PairCal bias report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>PairCal bias report</h1>",
        f"<p class='muted'>Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
        "Odds ratios above 1 mean the feature "
        "pulls your choice toward it beyond what answer quality (the expert's gold) explains.</p>",
    ]
    if scope := covers_text(report):
        parts.append(f"<p>{html.escape(scope)}</p>")
    if "raters" not in report:
        parts.append(_rater_html(report, with_charts=True))
    else:
        c = report["cohort"]
        simulated = {r["rater"] for r in report["raters"] if r["simulated"]}
        parts.append("<h2>Cohort</h2>")
        parts.append(
            '<ul class="verdict">' + "".join(f"<li>{html.escape(s)}</li>" for s in c["verdict"]) + "</ul>"
        )
        if c.get("effect"):
            parts.append(effect_html(_effect_object(c)))
        parts.append(
            _charts_html({"bias": c["bias"], "calibration": c["calibration"], "tags": []}, cohort=True)
        )
        parts.append("<h3>Cohort bias (pooled, cluster-robust intervals)</h3>" + _bias_html(c["bias"]))
        if probes := _probes_html(c.get("probes") or {}, "<h3>Cohort probes</h3>"):
            parts.append(probes)
        if c.get("tracks"):
            parts.append(
                f"<h3>Cohort by track</h3><p class='muted'>{html.escape(_COHORT_TRACK_NOTE)}</p>"
                + _table_html([_track_cells(t) for t in c["tracks"]], _COHORT_TRACK_HEADER)
            )
        board = [
            [
                "-" if row["rank"] is None else int(row["rank"]),
                row["rater"] + (" (simulated)" if row["rater"] in simulated else ""),
                row["n"],
                _fmt(row["score"], ".3f"),
                _score_interval(row),
                _pct(row["accuracy"]),
                signed_percent(row["overconfidence"]),
                _fmt(row["length_or"]),
                _fmt(row["polish_or"]),
                row["streak"],
            ]
            for row in c["leaderboard"]
        ]
        parts.append(
            "<h3>Leaderboard</h3><p class='muted'>Ranked by Brier skill "
            "(a proper score: honest confidence pays), "
            "shrunk toward the cohort mean for raters with few judgments (empirical Bayes); the 95% "
            "interval is the interval of the score shown.</p>"
            + _table_html(
                board,
                [
                    "rank",
                    "rater",
                    "n",
                    "score",
                    "95% interval",
                    "accuracy",
                    "overconfidence",
                    "length OR",
                    "polish OR",
                    "streak (days)",
                ],
            )
        )
        if c["gold_audit"]:
            parts.append(
                "<h3>Gold audit: gold may be wrong</h3>"
                + (
                    f"<p>{html.escape(_audit_note(c['gold_audit_method']))}</p>"
                    if c.get("gold_audit_method")
                    else ""
                )
                + _table_html(
                    [
                        [
                            it["pair_id"],
                            it["gold"],
                            it["votes_a"],
                            it["votes_b"],
                            _pct(it.get("p_gold_wrong")),
                            f"{it['strong_against']} of {it['strong_n']}",
                        ]
                        for it in c["gold_audit"]
                    ],
                    [
                        "pair",
                        "gold",
                        "votes A",
                        "votes B",
                        "chance gold is wrong",
                        "strong raters against gold",
                    ],
                )
            )
        with_charts = len(report["raters"]) <= CHARTS_FOR_AT_MOST
        if not with_charts:
            parts.append(
                f"<p class='muted'>Per-rater charts are drawn for cohorts of up to {CHARTS_FOR_AT_MOST} "
                "raters; the tables follow.</p>"
            )
        parts += [_rater_html(r, with_charts=with_charts) for r in report["raters"]]
    parts.append("</body></html>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- training effect

__all__ += ["effect_html", "effect_markdown", "effect_rows"]

_EFFECT_COMPARISONS = {
    "effect": "post vs pre",
    "retention": "retention vs post",
    "retention_vs_pre": "retention vs pre",
}
_EFFECT_HEADER = ["comparison", "measure", "before", "after", "change", "95% CI", "p", "effect size", "n"]


def _effect_value(measure: str, x: Any, *, change: bool = False) -> str:
    """A value of the training effect as a reader reads it: accuracy in %, overconfidence and
    changes of rates in points, odds ratios and their ratios as x1.23, scores to 2 decimals."""
    if _missing(x):
        return "n/a"
    if measure in ("length", "polish", "position"):
        return f"x{x:.2f}"
    if measure == "overconfidence" or (change and (measure == "accuracy" or measure.startswith("probe_"))):
        return f"{int(round(100 * x)) + 0:+d} pts"  # never "-0 pts"
    if measure == "accuracy" or measure.startswith("probe_"):
        return f"{x:.0%}"
    return f"{x:+.2f}" if change else f"{x:.2f}"


def effect_rows(obj: dict[str, Any]) -> list[list[str]]:
    """Table rows (:data:`_EFFECT_HEADER`) of one rater's or the cohort's training effect.

    Parameters
    ----------
    obj : dict
        A rater's or the cohort's object of :func:`calibration.effect.training_effect`.

    Returns
    -------
    list of list of str
        One row per comparison and measure; "n/a" where a value is not known.
    """
    rows = []
    for key, label in _EFFECT_COMPARISONS.items():
        for measure, e in (obj.get(key) or {}).items():
            ci = (
                "n/a"
                if _missing(e["ci_low"]) or _missing(e["ci_high"])
                else f"{_effect_value(measure, e['ci_low'], change=True)} to "
                f"{_effect_value(measure, e['ci_high'], change=True)}"
            )
            p = (
                "n/a"
                if _missing(e["p_value"])
                else ("<0.001" if e["p_value"] < 0.001 else f"{e['p_value']:.3f}")
                + (" *" if e["significant"] else "")
            )
            rows.append(
                [
                    label,
                    measure,
                    _effect_value(measure, e["pre"]),
                    _effect_value(measure, e["post"]),
                    _effect_value(measure, e["change"], change=True),
                    ci,
                    p,
                    _fmt(e["effect_size"]),
                    _cell(e["n"]),
                ]
            )
    return rows


_EFFECT_NOTE = (
    "Changes between assessment forms answered without feedback: before = the earlier form, after = the "
    "later one; odds ratio changes are ratios (after / before). A change is adjusted for the forms' "
    "difficulty (learnt from every rater who took both forms), so it can differ from after minus before. "
    "* significant at 5%. Effect size: "
    "Cohen's h (rates), standardized difference (scores), log odds ratio (bias); for the cohort d_z."
)


def _effect_object(obj: dict[str, Any]) -> dict[str, Any]:
    """A report object's training effect fields in the shape of :func:`calibration.effect.training_effect`."""
    return {
        "effect": obj.get("effect") or {},
        "retention": obj.get("effect_retention") or {},
        "retention_vs_pre": obj.get("effect_retention_vs_pre") or {},
        "summary": [],  # the sentences are in the verdict
    }


def effect_markdown(effect: dict[str, Any], *, title: str = "## Training effect") -> list[str]:
    """Markdown lines of the training effect: the cohort's table and sentences, then each rater's table.

    Parameters
    ----------
    effect : dict
        Output of :func:`calibration.effect.training_effect` (or ``{"cohort": ...}`` alone).
    title : str, default "## Training effect"

    Returns
    -------
    list of str
    """
    lines = [title, "", _EFFECT_NOTE, ""]
    cohort = effect.get("cohort") or {}
    if cohort:
        if cohort.get("summary"):
            lines += [f"- {_md(s)}" for s in cohort["summary"]] + [""]
        lines += _effect_table_md(effect_rows(cohort)) + [""]
    for rater, obj in (effect.get("raters") or {}).items():
        lines += [f"### {_md(rater)}", ""] + _effect_table_md(effect_rows(obj)) + [""]
    return lines


def _effect_table_md(rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(_EFFECT_HEADER) + " |", "|" + " --- |" * len(_EFFECT_HEADER)]
    return out + ["| " + " | ".join(row) + " |" for row in rows]  # numbers and measure names only


def effect_html(obj: dict[str, Any], *, title: str = "<h3>Training effect</h3>") -> str:
    """HTML of one rater's or the cohort's training effect: its sentences and table.

    Parameters
    ----------
    obj : dict
        A rater's or the cohort's object of :func:`calibration.effect.training_effect`.
    title : str, default "<h3>Training effect</h3>"

    Returns
    -------
    str
    """
    sentences = obj.get("summary") or [
        e["summary"] for e in (obj.get("effect") or {}).values() if e.get("significant")
    ]
    listed = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    return (
        title
        + (f'<ul class="verdict">{listed}</ul>' if listed else "")
        + f"<p class='muted'>{html.escape(_EFFECT_NOTE)}</p>"
        + _table_html(effect_rows(obj), _EFFECT_HEADER)
    )
