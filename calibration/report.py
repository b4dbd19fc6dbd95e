"""The bias report: every statistic for a rater or a cohort, as JSON, Markdown or HTML.

:func:`build_report` gathers the statistics of the other modules into plain
Python data (the JSON schema, documented in the README). :func:`to_markdown`
and :func:`to_html` render it; the HTML is one self-contained file with its
charts as inline SVG, so it opens offline in any browser.

Schema (``build_report(..., rater=ID)`` gives one rater object; without
``rater``, ``{"raters": [...], "cohort": {...}}``)::

    rater object
      rater, simulated, n, n_ties, accuracy, accuracy_ci_low, accuracy_ci_high,
      bias: {length|polish|position: {odds_ratio, ci_low, ci_high, p_value,
             significant, estimable, unit, summary}},
      plain_rates: [{dimension, n_gold_less, rate_gold_less, ci_low_gold_less,
                     ci_high_gold_less, n_gold_more, rate_gold_more, ..., p_value, summary}],
      calibration: {n, n_excluded, brier, brier_skill, log_score, reliability,
                    resolution, uncertainty, ece, overconfidence,
                    overconfidence_ci_low, overconfidence_ci_high, slope,
                    intercept, calibration, verdict,
                    bins: [{bin, confidence, accuracy, n, ci_low, ci_high}]},
      agreement: {alpha_vs_gold, ci_low, ci_high, n, reason},
      tags: [{tag, n, accuracy, ci_low, ci_high, weak_spot}],
      verdict: [sentences, most important first]

    cohort object
      n_raters, n_judgments, n_ties, accuracy, simulated_raters,
      bias: {...as above, pooled with cluster-robust intervals},
      calibration: {...as above, over all judgments},
      agreement: {alpha, ci_low, ci_high, n_raters, n_pairs, reason},
      leaderboard: [rows of calibration.leaderboard.leaderboard],
      gold_audit: [rows of calibration.items.item_table flagged gold_doubtful],
      verdict: [sentences]

NaN is written as ``null``.
"""

from __future__ import annotations

import html
import json
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from calibration.agreement import alpha_by_rater, alpha_vs_gold, cohort_alpha
from calibration.bias import EFFECTS, bias_by_rater, plain_rates, pooled_bias, tag_accuracy
from calibration.confidence import calibration_summary
from calibration.data import split_ties
from calibration.intervals import wilson_interval
from calibration.items import item_table
from calibration.leaderboard import leaderboard

SIMULATED_PREFIX = "sim-"
CHARTS_FOR_AT_MOST = 30
"""A cohort HTML report draws per-rater charts only up to this many raters (tables beyond)."""

_BIAS_KEYS = ["odds_ratio", "ci_low", "ci_high", "p_value", "significant", "estimable", "unit", "summary"]
_PLAIN_KEYS = [
    "dimension",
    "n_gold_less",
    "rate_gold_less",
    "ci_low_gold_less",
    "ci_high_gold_less",
    "n_gold_more",
    "rate_gold_more",
    "ci_low_gold_more",
    "ci_high_gold_more",
    "p_value",
    "summary",
]
_TAG_KEYS = ["tag", "n", "accuracy", "ci_low", "ci_high", "weak_spot"]


def is_simulated(rater: str) -> bool:
    """Simulated raters (``calibration.simulate``) have ids starting with ``sim-``."""
    return str(rater).startswith(SIMULATED_PREFIX)


def build_report(prepared: pd.DataFrame, *, rater: str | None = None, n_boot: int = 1000) -> dict[str, Any]:
    """The report for one rater, or for every rater and the cohort.

    Parameters
    ----------
    prepared : DataFrame
        Output of :func:`calibration.data.prepare`.
    rater : str, optional
        Report only this rater (a single rater object).
    n_boot : int, default 1000
        Bootstrap resamples for the agreement intervals.

    Raises
    ------
    ValueError
        If ``rater`` has no judgments.
    """
    if rater is not None:
        one = prepared[prepared["rater"] == rater]
        if one.empty:
            raise ValueError(f"rater {rater!r} has no judgments.")
        return _rater_objects(one, n_boot=n_boot)[0]
    raters = _rater_objects(prepared, n_boot=n_boot)
    return {"raters": raters, "cohort": _cohort_object(prepared, n_boot=n_boot)}


def _rater_objects(prepared: pd.DataFrame, *, n_boot: int) -> list[dict[str, Any]]:
    bias = bias_by_rater(prepared)
    plain = plain_rates(prepared)
    tags = tag_accuracy(prepared)
    many = prepared["rater"].nunique() > 1
    alphas = alpha_by_rater(prepared, n_boot=n_boot).set_index("rater") if many else None
    out = []
    for rater, rows in prepared.groupby("rater", sort=False):
        decided, ties = split_ties(rows)
        k = int(decided["correct"].sum())
        low, high = wilson_interval(k, len(decided))
        if alphas is not None:
            a = alphas.loc[rater]
            agreement = {
                "alpha_vs_gold": a["alpha"],
                "ci_low": a["ci_low"],
                "ci_high": a["ci_high"],
                "n": a["n"],
                "reason": a["reason"],
            }
        else:
            a = alpha_vs_gold(rows, n_boot=n_boot)
            agreement = {
                "alpha_vs_gold": a["alpha"],
                **{key: a[key] for key in ("ci_low", "ci_high", "n", "reason")},
            }
        obj = {
            "rater": rater,
            "simulated": is_simulated(rater),
            "n": len(rows),
            "n_ties": len(ties),
            "accuracy": k / len(decided) if len(decided) else math.nan,
            "accuracy_ci_low": float(low),
            "accuracy_ci_high": float(high),
            "bias": {
                r["effect"]: {key: r[key] for key in _BIAS_KEYS}
                for r in bias[bias["rater"] == rater].to_dict("records")
            },
            "plain_rates": plain.loc[plain["rater"] == rater, _PLAIN_KEYS].to_dict("records"),
            "calibration": calibration_summary(rows),
            "agreement": agreement,
            "tags": tags.loc[tags["rater"] == rater, _TAG_KEYS].to_dict("records"),
        }
        obj["verdict"] = _rater_verdict(obj)
        out.append(_clean(obj))
    return out


def _cohort_object(prepared: pd.DataFrame, *, n_boot: int) -> dict[str, Any]:
    decided, ties = split_ties(prepared)
    pooled = pooled_bias(prepared)
    agreement = cohort_alpha(prepared, n_boot=n_boot)
    items = item_table(prepared)
    board = leaderboard(prepared)
    raters = pd.unique(prepared["rater"])
    cal = calibration_summary(prepared.assign(rater="cohort"))
    obj = {
        "n_raters": len(raters),
        "simulated_raters": int(sum(is_simulated(r) for r in raters)),
        "n_judgments": len(prepared),
        "n_ties": len(ties),
        "accuracy": float(decided["correct"].mean()) if len(decided) else math.nan,
        "bias": {r["effect"]: {key: r[key] for key in _BIAS_KEYS} for r in pooled.to_dict("records")},
        "calibration": cal,
        "agreement": {
            "alpha": agreement["alpha"],
            **{key: agreement[key] for key in ("ci_low", "ci_high", "n_raters", "n_pairs", "reason")},
        },
        "leaderboard": board.to_dict("records"),
        "gold_audit": items[items["gold_doubtful"]].to_dict("records"),
    }
    obj["verdict"] = _cohort_verdict(obj)
    return _clean(obj)


def _rater_verdict(obj: dict[str, Any]) -> list[str]:
    lines = []
    if obj["simulated"]:
        lines.append("This is a simulated rater (demo data), not a person.")
    n_dec = obj["n"] - obj["n_ties"]
    if n_dec:
        lines.append(
            f"You agreed with the expert on {obj['accuracy']:.0%} of {n_dec} pairs "
            f"(95 % CI {obj['accuracy_ci_low']:.0%}-{obj['accuracy_ci_high']:.0%})."
        )
    significant = [e for e in EFFECTS if obj["bias"].get(e, {}).get("significant")]
    lines += _bias_lines(obj["bias"], significant + [e for e in EFFECTS if e not in significant])
    if obj["calibration"].get("verdict"):
        lines.append(obj["calibration"]["verdict"])
    weak = [t["tag"] for t in obj["tags"] if t.get("weak_spot")]
    if weak:
        lines.append("You miss these trap kinds more than others: " + ", ".join(weak) + ".")
    return lines


def _bias_lines(bias: dict[str, Any], order: list[str]) -> list[str]:
    """One sentence per effect; effects sharing a sentence (e.g. "not enough data yet") share one line."""
    by_summary: dict[str, list[str]] = {}
    for effect in order:
        summary = bias.get(effect, {}).get("summary")
        if summary:
            by_summary.setdefault(summary, []).append(effect)
    lines = []
    for summary, effects in by_summary.items():
        if len(effects) == 1:
            lines.append(summary)
        else:
            names = ", ".join(effects[:-1]) + " and " + effects[-1]
            lines.append(f"{names.capitalize()} bias: {summary[0].lower()}{summary[1:]}")
    return lines


def _cohort_verdict(obj: dict[str, Any]) -> list[str]:
    lines = [
        f"{obj['n_raters']} raters, {obj['n_judgments']} judgments; the cohort agreed with the experts on "
        f"{obj['accuracy']:.0%} of decided pairs."
        if obj["n_judgments"]
        else "No judgments yet."
    ]
    if obj["simulated_raters"]:
        lines.append(f"{obj['simulated_raters']} of the raters are simulated (demo data).")
    lines += ["Cohort: " + line for line in _bias_lines(obj["bias"], list(EFFECTS))]
    if obj["gold_audit"]:
        lines.append(f"{len(obj['gold_audit'])} pair(s) have a gold that strong raters dispute: review them.")
    return lines


def _clean(value: Any) -> Any:
    """Plain JSON-ready Python: numpy scalars unwrapped, NaN and NaT as None, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_clean(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NaT or (
        value is not None and not isinstance(value, (str, bool, int, float)) and pd.isna(value)
    ):
        return None
    return value


def to_json(report: dict[str, Any]) -> str:
    """Strict JSON (no NaN) with two-space indentation."""
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False)


# --------------------------------------------------------------------------- Markdown


def _fmt(x: Any, spec: str = ".2f") -> str:
    return "n/a" if x is None else format(x, spec)


def _pct(x: Any) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _bias_table_md(bias: dict[str, Any]) -> list[str]:
    rows = ["| effect | odds ratio | 95 % CI | p | unit |", "| --- | --- | --- | --- | --- |"]
    for effect in EFFECTS:
        b = bias.get(effect)
        if not b:
            continue
        ci = "n/a" if b["ci_low"] is None else f"{b['ci_low']:.2f}-{b['ci_high']:.2f}"
        rows.append(
            f"| {effect} | {_fmt(b['odds_ratio'])} | {ci} | {_fmt(b['p_value'], '.3f')} | {b['unit']} |"
        )
    return rows


def _bins_md(bins: list[dict[str, Any]]) -> list[str]:
    rows = [
        "| stated confidence | mean stated | agreed with expert | 95 % CI | n |",
        "| --- | --- | --- | --- | --- |",
    ]
    for b in bins:
        ci = "n/a" if b["ci_low"] is None else f"{b['ci_low']:.0%}-{b['ci_high']:.0%}"
        rows.append(f"| {b['bin']} | {_pct(b['confidence'])} | {_pct(b['accuracy'])} | {ci} | {b['n']} |")
    return rows


def _alpha_sentence(a: dict[str, Any]) -> str:
    ci = (
        f" (95 % CI {_fmt(a['ci_low'], '.3f')}-{_fmt(a['ci_high'], '.3f')})"
        if a["ci_low"] is not None
        else ""
    )
    reason = f"; {a['reason']}" if a.get("reason") else ""
    return f"Krippendorff's alpha against gold: {_fmt(a['alpha_vs_gold'], '.3f')}{ci}{reason}."


def _rater_md(r: dict[str, Any]) -> list[str]:
    cal = r["calibration"]
    lines = [f"## {r['rater']}" + (" (simulated)" if r["simulated"] else ""), ""]
    lines += [f"- {s}" for s in r["verdict"]] + [""]
    lines += ["### Bias", ""] + _bias_table_md(r["bias"]) + [""]
    lines += [f"- {p['summary']}" for p in r["plain_rates"] if p.get("summary")] + [""]
    lines += ["### Confidence", ""]
    lines += [
        f"Brier score {_fmt(cal['brier'], '.3f')} (0.25 = always 50 %), "
        f"log score {_fmt(cal['log_score'], '.3f')}, "
        f"reliability {_fmt(cal['reliability'], '.4f')}, resolution {_fmt(cal['resolution'], '.4f')}, "
        f"uncertainty {_fmt(cal['uncertainty'], '.4f')}, ECE {_fmt(cal['ece'], '.3f')}, "
        f"overconfidence {_fmt(cal['overconfidence'], '+.3f')}.",
        "",
    ]
    lines += _bins_md(cal["bins"]) + [""]
    a = r["agreement"]
    lines += [
        "### Agreement and trap kinds",
        "",
        _alpha_sentence(a),
        "",
        "| trap kind | n | accuracy | 95 % CI | weak spot |",
        "| --- | --- | --- | --- | --- |",
    ]
    for t in r["tags"]:
        lines.append(
            f"| {t['tag']} | {t['n']} | {_pct(t['accuracy'])} | {_pct(t['ci_low'])}-{_pct(t['ci_high'])} | "
            f"{'yes' if t['weak_spot'] else ''} |"
        )
    return lines + [""]


def to_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown (one rater, or the cohort then each rater)."""
    lines = ["# PairCal bias report", "", f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.", ""]
    if "raters" not in report:
        return "\n".join(lines + _rater_md(report))
    c = report["cohort"]
    lines += ["## Cohort", ""] + [f"- {s}" for s in c["verdict"]] + [""]
    lines += ["### Cohort bias (pooled, cluster-robust intervals)", ""] + _bias_table_md(c["bias"]) + [""]
    lines += [
        "### Leaderboard",
        "",
        "| rank | rater | n | score | accuracy | overconfidence |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in c["leaderboard"]:
        rank = "-" if row["rank"] is None else str(int(row["rank"]))
        lines.append(
            f"| {rank} | {row['rater']} | {row['n']} | {_fmt(row['score'], '.3f')} | "
            f"{_pct(row['accuracy'])} | "
            f"{_fmt(row['overconfidence'], '+.3f')} |"
        )
    lines.append("")
    if c["gold_audit"]:
        lines += [
            "### Gold audit: gold may be wrong",
            "",
            "| pair | gold | votes A | votes B | strong raters against |",
            "| --- | --- | --- | --- | --- |",
        ]
        for it in c["gold_audit"]:
            lines.append(
                f"| {it['pair_id']} | {it['gold']} | {it['votes_a']} | {it['votes_b']} | "
                f"{it['strong_against']} of {it['strong_n']} |"
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
table{border-collapse:collapse;margin:.6rem 0 1rem}
th,td{border:1px solid #ddd;padding:.25rem .55rem;text-align:left;font-size:.92rem}
th{background:#f4f4f4}.verdict li{margin:.2rem 0}
.sim{background:#fff3cd;padding:.1rem .4rem;border-radius:4px;font-size:.85rem}
.charts{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start}.charts svg{max-width:100%;height:auto}
.muted{color:#666;font-size:.9rem}
"""


def _table_html(rows: list[list[str]], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _bias_html(bias: dict[str, Any]) -> str:
    rows = []
    for effect in EFFECTS:
        b = bias.get(effect)
        if not b:
            continue
        ci = "n/a" if b["ci_low"] is None else f"{b['ci_low']:.2f}-{b['ci_high']:.2f}"
        rows.append([effect, _fmt(b["odds_ratio"]), ci, _fmt(b["p_value"], ".3f"), b["unit"], b["summary"]])
    return _table_html(rows, ["effect", "odds ratio", "95 % CI", "p", "unit", "what it means"])


def _charts_html(r: dict[str, Any]) -> str:
    from calibration import charts

    bias = pd.DataFrame([{"effect": e, **v} for e, v in r["bias"].items()])
    parts = []
    if not bias.empty and bias["estimable"].astype(bool).any() and bias["odds_ratio"].notna().any():
        parts.append(
            charts.to_svg(
                charts.forest_plot(bias.astype({"odds_ratio": float, "ci_low": float, "ci_high": float}))
            )
        )
    bins = pd.DataFrame(r["calibration"]["bins"])
    if not bins.empty and (bins["n"] > 0).any():
        parts.append(
            charts.to_svg(
                charts.reliability_diagram(
                    bins.astype({"accuracy": float, "ci_low": float, "ci_high": float, "confidence": float})
                )
            )
        )
    tags = pd.DataFrame(r["tags"])
    if not tags.empty:
        parts.append(
            charts.to_svg(
                charts.tag_accuracy_chart(tags.astype({"accuracy": float, "ci_low": float, "ci_high": float}))
            )
        )
    return f'<div class="charts">{"".join(parts)}</div>' if parts else ""


def _rater_html(r: dict[str, Any], *, with_charts: bool) -> str:
    cal = r["calibration"]
    sim = ' <span class="sim">simulated rater</span>' if r["simulated"] else ""
    out = [f"<h2>{html.escape(r['rater'])}{sim}</h2>"]
    out.append('<ul class="verdict">' + "".join(f"<li>{html.escape(s)}</li>" for s in r["verdict"]) + "</ul>")
    if with_charts:
        out.append(_charts_html(r))
    out.append("<h3>Bias</h3>" + _bias_html(r["bias"]))
    plain = [p["summary"] for p in r["plain_rates"] if p.get("summary")]
    if plain:
        out.append("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in plain) + "</ul>")
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
                    _fmt(cal["overconfidence"], "+.3f"),
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
        _table_html(
            [
                [
                    b["bin"],
                    _pct(b["confidence"]),
                    _pct(b["accuracy"]),
                    f"{_pct(b['ci_low'])}-{_pct(b['ci_high'])}",
                    b["n"],
                ]
                for b in cal["bins"]
            ],
            ["stated confidence", "mean stated", "agreed with expert", "95 % CI", "n"],
        )
    )
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
                    f"{_pct(t['ci_low'])}-{_pct(t['ci_high'])}",
                    "yes" if t["weak_spot"] else "",
                ]
                for t in r["tags"]
            ],
            ["trap kind", "n", "accuracy", "95 % CI", "weak spot"],
        )
    )
    return "\n".join(out)


def to_html(report: dict[str, Any]) -> str:
    """One self-contained HTML file: inline CSS and SVG charts, no script, no network."""
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
    if "raters" not in report:
        parts.append(_rater_html(report, with_charts=True))
    else:
        c = report["cohort"]
        parts.append("<h2>Cohort</h2>")
        parts.append(
            '<ul class="verdict">' + "".join(f"<li>{html.escape(s)}</li>" for s in c["verdict"]) + "</ul>"
        )
        parts.append(_charts_html({"bias": c["bias"], "calibration": c["calibration"], "tags": []}))
        parts.append("<h3>Cohort bias (pooled, cluster-robust intervals)</h3>" + _bias_html(c["bias"]))
        board = [
            [
                "-" if row["rank"] is None else int(row["rank"]),
                row["rater"] + (" (simulated)" if is_simulated(row["rater"]) else ""),
                row["n"],
                _fmt(row["score"], ".3f"),
                _pct(row["accuracy"]),
                _fmt(row["overconfidence"], "+.3f"),
                _fmt(row["length_or"]),
                _fmt(row["polish_or"]),
                row["streak"],
            ]
            for row in c["leaderboard"]
        ]
        parts.append(
            "<h3>Leaderboard</h3><p class='muted'>Ranked by Brier skill "
            "(a proper score: honest confidence pays), "
            "shrunk toward the cohort mean for raters with few judgments.</p>"
            + _table_html(
                board,
                [
                    "rank",
                    "rater",
                    "n",
                    "score",
                    "accuracy",
                    "overconfidence",
                    "length OR",
                    "polish OR",
                    "streak",
                ],
            )
        )
        if c["gold_audit"]:
            parts.append(
                "<h3>Gold audit: gold may be wrong</h3>"
                + _table_html(
                    [
                        [
                            it["pair_id"],
                            it["gold"],
                            it["votes_a"],
                            it["votes_b"],
                            f"{it['strong_against']} of {it['strong_n']}",
                        ]
                        for it in c["gold_audit"]
                    ],
                    ["pair", "gold", "votes A", "votes B", "strong raters against gold"],
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


FORMATS = {"json": to_json, "md": to_markdown, "html": to_html}
