"""Numbers and words read the same everywhere: CLI help, the reports, the CSV files.

No ``%%`` in any command's ``--help`` (argparse formats only some strings), no
``None``/``nan`` cell and no "1 days" in a report, overconfidence written as a
signed percent, a percent written one way ("80%", "95% CI", "+20%": no space
before the sign), and CSV floats without binary noise (0.8200000000000001).
"""

from __future__ import annotations

import argparse
import html
import json
import re
from types import SimpleNamespace

import pandas as pd
import pytest

from calibration.data import prepare
from calibration.render import to_html, to_markdown
from calibration.report import build_report
from calibration.simulate import RaterSpec, simulate_judgments, synthetic_bank
from cli import calibration as calibration_cli
from cli import pairs as pairs_cli


def every_parser(parser: argparse.ArgumentParser):
    """The parser and each subcommand's, depth first."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from every_parser(sub)


@pytest.mark.parametrize("cli", [calibration_cli, pairs_cli], ids=["calibration", "pairs"])
def test_no_command_help_shows_a_doubled_percent_sign(cli):
    parsers = list(every_parser(cli.build_parser()))
    assert len(parsers) > 3
    for parser in parsers:
        text = parser.format_help()
        assert "%%" not in text, (parser.prog, text)
        assert "%(" not in text, parser.prog  # every placeholder filled in


# --------------------------------------------------------------------------- reports


SINGULAR_NOUNS = r"(day|rater|judgment|pair|answer|bank)s"
OVERCONFIDENCE = re.compile(r"[+-][1-9]\d*%|0%|n/a")


@pytest.fixture(scope="module")
def small_reports():
    """A lone rater with a handful of answers (intervals, bins and the bias model not estimable),
    alone in a cohort of one, and a cohort of two with enough answers for every figure."""
    bank = synthetic_bank(120, seed=3)
    few = simulate_judgments(bank, [RaterSpec("solo", skill=1.0)], n_per_rater=6, seed=3)
    many = simulate_judgments(
        bank, [RaterSpec("ana", confidence_scale=3.0), RaterSpec("ben")], n_per_rater=100, seed=4
    )
    one = prepare(bank, few)
    two = prepare(bank, many)
    return [
        build_report(one, rater="solo", n_boot=20),
        build_report(one, n_boot=20),
        build_report(two, rater="ana", n_boot=20),
        build_report(two, n_boot=20),
    ]


def markdown_cells(text: str) -> list[str]:
    return [
        c.strip() for line in text.splitlines() if line.startswith("|") for c in line.strip("|").split("|")
    ]


def html_cells(text: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", text, flags=re.DOTALL)]


def test_report_tables_have_no_none_or_nan_cell(small_reports):
    for report in small_reports:
        for cells in (markdown_cells(to_markdown(report)), html_cells(to_html(report))):
            assert cells
            bad = [c for c in cells if re.search(r"\b(None|nan|NaN|null)\b", c) or "n/a-n/a" in c]
            assert bad == []


def test_reports_say_one_day_not_one_days(small_reports):
    for report in small_reports:
        for text in (to_markdown(report), re.sub(r"<svg.*?</svg>", "", to_html(report), flags=re.DOTALL)):
            assert not re.search(rf"(?<![\d.,])1 {SINGULAR_NOUNS}\b", text), re.findall(
                rf".{{40}}1 {SINGULAR_NOUNS}.{{10}}", text
            )
            assert "(s)" not in text


def test_overconfidence_is_a_signed_percent_in_every_report(small_reports):
    report = small_reports[3]
    md = to_markdown(report)
    page = to_html(report)
    over = [r["overconfidence"] for r in report["cohort"]["leaderboard"]]
    assert any(o is not None and abs(o) >= 0.01 for o in over)
    # the leaderboard's overconfidence column
    board = md.split("### Leaderboard")[1].split("###")[0]
    lines = [line.strip().strip("|").split("|") for line in board.splitlines() if line.startswith("|")]
    header = [h.strip() for h in lines[0]]
    written = [cells[header.index("overconfidence")].strip() for cells in lines[2:]]
    assert written and all(OVERCONFIDENCE.fullmatch(w) for w in written), written
    expected = [("n/a" if o is None else f"{o:+.0%}".replace("+0%", "0%").replace("-0%", "0%")) for o in over]
    assert written == expected
    for text in (md, page):
        for found in re.findall(r"overconfidence ([+-]?[\d.]+%?|n/a)", text, flags=re.IGNORECASE):
            assert OVERCONFIDENCE.fullmatch(found), found
        assert "points (95% CI" not in text


# --------------------------------------------------------------------------- percent signs


SPACED_PERCENT = re.compile(r"\d[ \u00a0\u202f]%")  # "80 %", also with a no-break or thin space
PERCENT = re.compile(r"\d+%")


def spaced_percents(text: str) -> list[str]:
    """The places in ``text`` where a number and its percent sign are apart, with some context."""
    return [text[max(m.start() - 30, 0) : m.end() + 10] for m in SPACED_PERCENT.finditer(text)]


def texts_a_user_reads(small_reports) -> dict[str, str]:
    """The reports, the debrief and onboarding sentences, the confidence verdict, the reliability
    bins and every command's help, by where they come from."""
    from calibration.confidence import calibration_summary
    from calibration.reliability import reliability_bins
    from training import debrief, onboarding

    texts = {}
    for i, report in enumerate(small_reports):
        texts[f"report {i} markdown"] = to_markdown(report)
        texts[f"report {i} html"] = html.unescape(to_html(report))
    texts["debrief"] = "\n".join(
        debrief.calibration_sentence(sure, right) for sure, right in [(0.85, 0.6), (0.72, 0.7), (0.6, 0.8)]
    )
    texts["onboarding"] = "\n".join(
        [onboarding.worked_example(), *onboarding.score_table()["Confidence"].astype(str)]
    )
    frame = pd.DataFrame(
        {
            "rater": "ana",
            "confidence": [0.9] * 40 + [0.8, float("nan")],
            "correct": [1.0] * 28 + [0.0] * 12 + [float("nan"), 1.0],
            "tie": [False] * 40 + [True, False],
        }
    )
    texts["confidence verdict"] = calibration_summary(frame)["verdict"]
    bins = reliability_bins([1, 0, 1, 1, 0], [0.55, 0.6, 0.7, 0.95, 1.0])
    texts["reliability bins"] = "\n".join(bins["bin"].astype(str))
    for name, cli in [("calibration", calibration_cli), ("pairs", pairs_cli)]:
        texts[f"{name} help"] = "\n".join(p.format_help() for p in every_parser(cli.build_parser()))
    return texts


def test_every_text_a_user_reads_writes_a_percent_without_a_space(small_reports):
    texts = texts_a_user_reads(small_reports)
    spaced = {where: found for where, text in texts.items() if (found := spaced_percents(text))}
    assert not spaced, spaced
    # and the percentages are there: the check above is not passed by texts without any
    written = {where for where, text in texts.items() if PERCENT.search(text)}
    assert written == set(texts) - {"pairs help"}, set(texts) - written
    assert "80%" in texts["onboarding"] and "95% CI" in texts["confidence verdict"]
    assert texts["reliability bins"].split("\n") == ["50-59%", "60-69%", "70-79%", "80-89%", "90-100%"]
    assert "95% CIs" in texts["calibration help"]


def test_the_starter_banks_expert_reasons_write_a_percent_without_a_space():
    """The reasons are in English in every track (the French and Spanish pairs' own texts keep
    their languages' "20 %")."""
    from pairs.bank import STARTER_BANK_PATH
    from pairs.importers import read_bank

    reasons = read_bank(STARTER_BANK_PATH).set_index("id")["rationale"]
    spaced = {pid: found for pid, text in reasons.items() if (found := spaced_percents(text))}
    assert not spaced, spaced
    assert reasons.str.contains(PERCENT).sum() >= 5  # there are percentages to check


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_drill_and_onboarding_confidence_buttons_read_50_to_100_percent(app_store):
    from tests.test_app import app_as, text_of
    from training import accounts, onboarding

    store = app_store
    _, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    new = accounts.join_cohort(store, invite, "nia", "nia-password")
    rater = accounts.join_cohort(store, invite, "ravi", "rater-password")
    onboarding.finish(store, rater.id)
    labels = ["50%", "60%", "70%", "80%", "90%", "100%"]

    at = app_as(store, rater, "views/drill.py")
    assert not at.exception, at.exception
    assert [b.label for b in at.button if b.key and b.key.startswith("confidence_")] == labels
    captions = " ".join(str(c.value) for c in at.caption)
    assert "50 to 90%, 0 for 100%" in captions and not spaced_percents(captions)

    at = app_as(store, new)  # a rater who has not finished onboarding lands on it
    assert not at.exception, at.exception
    assert [b.label for b in at.button if b.key and b.key.startswith("guide_confidence_")] == labels
    # the page's own words (the pair's texts, in the bank's languages, are left out: no HTML)
    words = "\n".join(str(m.value) for kind in (at.markdown, at.caption) for m in kind)
    assert "each at 80%" in words and "At 90% a right answer" in words
    assert not spaced_percents(words), spaced_percents(words)
    assert "\u00a0%" not in text_of(at)


# --------------------------------------------------------------------------- CSV


def test_csv_floats_carry_no_binary_noise():
    from pairs.judgments import to_csv

    frame = pd.DataFrame(
        {
            "rater": ["ana"],
            "pair_id": ["p1"],
            "choice": ["A"],
            "confidence": [1 - 0.18],
            "seconds": [0.1 + 0.2],
        }
    )
    assert repr(1 - 0.18) == "0.8200000000000001"  # the noise this is about
    assert to_csv(frame).splitlines()[1] == "ana,p1,A,0.82,,,0.3"


def test_leaderboard_csv_from_the_cli_rounds_its_figures(tmp_path, capsys):
    import json as _json

    from cli.calibration import main
    from pairs.bank import bank_to_records
    from pairs.judgments import to_csv

    bank = synthetic_bank(120, seed=3)
    judged = simulate_judgments(bank, [RaterSpec("ana"), RaterSpec("ben", skill=0.3)], n_per_rater=60, seed=5)
    (tmp_path / "bank.jsonl").write_text("".join(_json.dumps(r) + "\n" for r in bank_to_records(bank)))
    (tmp_path / "j.csv").write_text(to_csv(judged))
    args = ["leaderboard", "--bank", str(tmp_path / "bank.jsonl"), "--judgments", str(tmp_path / "j.csv")]
    assert main([*args, "--format", "csv"]) == 0
    text = capsys.readouterr().out
    numbers = re.findall(r"(?<![\w.])-?\d+\.\d+", text)
    assert numbers and all(len(n.split(".")[1]) <= 4 for n in numbers), numbers
    assert not re.search(r",(nan|None)(,|$)", text, flags=re.MULTILINE)


# --------------------------------------------------------------------------- app pages


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_app_table_shows_none_or_nan(app_store):
    """Every table of every page a lead and a rater open, on a cohort with people, imported raters
    who have few answers, and the simulated demo."""
    from tests.test_app import app_as
    from tests.test_charts import seed_answers
    from tests.test_lead_progress import seed_cohort
    from training import accounts

    store = app_store
    lead = seed_cohort(store, people=4, weeks=3)
    listed = accounts.list_raters(store, lead.cohort_id)
    rosa = SimpleNamespace(id=int(listed.loc[listed["name"] == "rosa", "id"].iloc[0]))
    seed_answers(store, lead.id, "lena", n=40)
    pages = [(rosa, "views/report.py"), (rosa, "views/leaderboard.py"), (lead, "views/report.py")]
    pages += [(lead, "views/leaderboard.py"), (lead, "views/lead.py"), (lead, "views/bank.py")]
    seen = 0
    for user, page in pages:
        at = app_as(store, user, page)
        assert not at.exception, (page, at.exception)
        for table in at.dataframe:
            frame = table.value
            cells = [str(c) for c in frame.to_numpy().ravel()] + [str(c) for c in frame.columns]
            seen += len(cells)
            bad = sorted({c for c in cells if re.fullmatch(r"None|nan|NaN|<NA>|NaT|n/a-n/a", c)})
            assert not bad, (page, list(frame.columns), bad)
    assert seen > 100


def test_cli_messages_count_one_in_the_singular(tmp_path, capsys):
    from cli.calibration import main
    from pairs.bank import bank_to_records

    bank = tmp_path / "bank.jsonl"
    bank.write_text("".join(json.dumps(r) + "\n" for r in bank_to_records(synthetic_bank(20, seed=1))))
    out = tmp_path / "j.csv"
    assert (
        main(["simulate", "--bank", str(bank), "--out", str(out), "--raters", "1", "--per-rater", "1"]) == 0
    )
    assert capsys.readouterr().err.startswith("wrote 1 simulated judgment by 1 rater to ")
