"""The bias report (JSON schema, Markdown, offline HTML) and ``python -m calibration``."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.data import prepare
from calibration.report import build_report, to_html, to_json, to_markdown
from calibration.simulate import RaterSpec, simulate_judgments, synthetic_bank
from cli.calibration import main
from pairs.bank import bank_to_records
from pairs.judgments import to_csv
from pairs.markdown import escape_markdown

ROOT = Path(__file__).resolve().parent.parent
BIAS_KEYS = {"odds_ratio", "ci_low", "ci_high", "p_value", "significant", "unit", "summary"}
BIN_KEYS = {"confidence", "accuracy", "n", "ci_low", "ci_high"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    bank = synthetic_bank(300, seed=7)
    raters = [
        RaterSpec("sim-long", skill=1.5, length_bias=np.log(2.5)),
        RaterSpec("sim-over", skill=1.0, confidence_scale=3.0),
        RaterSpec("sim-fair", skill=1.5),
    ]
    judgments = simulate_judgments(bank, raters, n_per_rater=250, seed=7)
    bank_path = tmp / "bank.jsonl"
    bank_path.write_text("".join(json.dumps(r) + "\n" for r in bank_to_records(bank)))
    j_path = tmp / "j.csv"
    j_path.write_text(to_csv(judgments))
    return bank_path, j_path, bank, judgments


def check_rater_object(obj):
    assert {"rater", "n", "accuracy", "bias", "calibration", "verdict", "agreement"} <= set(obj)
    assert set(obj["bias"]) == {"length", "polish", "position"}
    for effect in obj["bias"].values():
        assert BIAS_KEYS <= set(effect)
    cal = obj["calibration"]
    assert {"brier", "log_score", "ece", "overconfidence", "bins", "verdict"} <= set(cal)
    assert all(BIN_KEYS <= set(b) for b in cal["bins"])
    assert "alpha_vs_gold" in obj["agreement"]


def test_json_schema_for_one_rater_and_for_a_cohort(files, capsys):
    bank_path, j_path, *_ = files
    assert main(["report", "--bank", str(bank_path), "--judgments", str(j_path), "--rater", "sim-long"]) == 0
    one = json.loads(capsys.readouterr().out)
    check_rater_object(one)
    assert one["rater"] == "sim-long" and one["n"] == 250
    assert main(["report", "--bank", str(bank_path), "--judgments", str(j_path), "--format", "json"]) == 0
    everyone = json.loads(capsys.readouterr().out)
    assert set(everyone) == {"raters", "cohort"}
    assert [r["rater"] for r in everyone["raters"]] == ["sim-long", "sim-over", "sim-fair"]
    for r in everyone["raters"]:
        check_rater_object(r)
    assert {"bias", "calibration", "agreement", "leaderboard", "gold_audit"} <= set(everyone["cohort"])


def test_report_flags_the_planted_biases(files):
    _, _, bank, judgments = files
    report = build_report(prepare(bank, judgments), n_boot=200)
    by = {r["rater"]: r for r in report["raters"]}
    assert by["sim-long"]["bias"]["length"]["significant"]
    assert by["sim-long"]["bias"]["length"]["odds_ratio"] > 1.5
    assert by["sim-over"]["calibration"]["calibration"] == "overconfident"
    assert not by["sim-fair"]["bias"]["length"]["significant"]
    assert any("longer" in s for s in by["sim-long"]["verdict"])
    direction = "The bias verdicts look first for the pulls the drills' traps set"
    assert sum(s.startswith(direction) for s in by["sim-fair"]["bias_method"]) == 1
    assert not any(s.startswith(direction) for r in by.values() for s in r["verdict"])  # beside, not in it
    few = build_report(prepare(bank, judgments.groupby("rater").head(10)), n_boot=50)["raters"]
    assert all(r["bias_method"] == [] for r in few)  # no bias line estimable
    # the exports show them beside the bias figures
    page, text = to_html(report), to_markdown(report)
    for r in report["raters"]:
        assert "How these verdicts were made: " + html.escape(" ".join(r["bias_method"])) in page
        assert "How these verdicts were made: " + escape_markdown(" ".join(r["bias_method"])) in text
    # the numbers in the report are those of the statistics modules
    from calibration.scoring import brier_loss

    rows = prepare(bank, judgments).query("rater == 'sim-over' and not tie")
    assert by["sim-over"]["calibration"]["brier"] == pytest.approx(
        brier_loss(rows["correct"], rows["confidence"])
    )


def test_json_is_strict_and_html_is_self_contained(files):
    _, _, bank, judgments = files
    report = build_report(prepare(bank, judgments), n_boot=100)
    text = to_json(report)
    json.loads(text)  # no NaN: strict JSON
    assert "NaN" not in text
    page = to_html(report)
    assert page.count("<svg") >= 6
    # nothing that would load or run: no script, no stylesheet link, no remote src/href/url()
    fetches = r"<script|<link|<iframe|(?:src|href)\s*=\s*[\"']?(?:https?:|//)|url\(\s*[\"']?(?:https?:|//)"
    assert not re.search(fetches, page, flags=re.I)
    md = to_markdown(report)
    assert md.startswith("# PairCal bias report") and "| length |" in md


def test_html_cohort_charts_speak_of_the_cohort_and_each_raters_of_you(files):
    _, _, bank, judgments = files
    page = to_html(build_report(prepare(bank, judgments), n_boot=0))
    cohort, raters = page.split("<h2>Cohort</h2>")[1].split("<h2>", 1)
    for title in (
        "What sways the cohort's choices",
        "Is the cohort's confidence right?",
        "How often the cohort is right at each confidence",
    ):
        assert f">{title}</text>" in cohort
    assert "your" not in cohort  # no chart or line of the cohort speaks to a rater
    assert raters.count(">What sways your choices</text>") == 3  # one per rater
    assert "cohort's" not in raters


def test_cohort_verdict_counts_flags_and_simulated_raters_in_plain_words(files):
    _, _, bank, judgments = files
    everyone = build_report(prepare(bank, judgments), n_boot=0, simulated={"sim-fair"})["cohort"]["verdict"]
    assert "1 of the raters is simulated (demo data)." in everyone
    flagged = [line for line in everyone if "flagged for a bias across the cohort" in line]
    assert len(flagged) == 1 and flagged[0].startswith("1 rater flagged")  # sim-long, planted
    assert flagged[0].endswith("about 1 flag in 20 may be chance.")
    unbiased = judgments[judgments["rater"] != "sim-long"]
    rest = build_report(prepare(bank, unbiased), n_boot=0, simulated={"sim-fair", "sim-over"})["cohort"]
    assert "2 of the raters are simulated (demo data)." in rest["verdict"]
    assert rest["bias_flags"] == []
    none = [line for line in rest["verdict"] if "flagged for a bias across the cohort" in line]
    assert none == [
        "No rater flagged for a bias across the cohort, the false discovery rate controlled at 5% "
        f"({rest['bias_flags_correction']})."
    ]


def test_html_escapes_rater_names(files):
    _, _, bank, judgments = files
    j = judgments.replace({"rater": {"sim-fair": "<script>alert(1)</script>"}})
    page = to_html(build_report(prepare(bank, j), n_boot=0))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_the_markdown_report_shows_names_and_tags_as_written(files):
    """A rater named as a remote image, a tag that would end a table cell, a pair id as a link: the
    Markdown report, rendered as CommonMark, holds no image and no link, and the text reads as written."""
    from markdown_it import MarkdownIt

    _, _, bank, judgments = files
    evil = "![x](http://tracker.example/p.png)"
    j = judgments.replace({"rater": {"sim-fair": evil}})
    b = bank.assign(tags=[("a|b", "[t](http://t.example)")] * len(bank))
    md = to_markdown(build_report(prepare(b, j), n_boot=0))
    rendered = MarkdownIt("commonmark").enable("table").render(md)
    assert "<img" not in rendered and "<a " not in rendered
    assert evil in rendered and "a|b" in rendered


def test_leaderboard_csv_and_json(files, capsys):
    bank_path, j_path, *_ = files
    assert main(["leaderboard", "--bank", str(bank_path), "--judgments", str(j_path), "--format", "csv"]) == 0
    board = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert list(board["rank"]) == [1, 2, 3]
    assert (
        main(["leaderboard", "--bank", str(bank_path), "--judgments", str(j_path), "--format", "json"]) == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert {
        "rank",
        "rater",
        "n",
        "score",
        "ci_low",
        "ci_high",
        "accuracy",
        "overconfidence",
        "length_or",
        "polish_or",
        "streak",
    } <= set(rows[0])


def test_bad_judgments_exit_1_with_every_problem(files, tmp_path, capsys):
    bank_path, *_ = files
    bad = tmp_path / "bad.csv"
    bad.write_text("rater,pair_id,choice,confidence\na,syn-00001,A,0.7\nb,nope,C,1.2\n")
    assert (
        main(["report", "--bank", str(bank_path), "--judgments", str(bad), "--out", str(tmp_path / "r.json")])
        == 1
    )
    err = capsys.readouterr().err
    assert f"{bad}:3: pair_id: unknown pair 'nope' (not in the bank)" in err
    assert f"{bad}:3: choice: must be A, B or tie, got 'C'" in err
    assert f"{bad}:3: confidence: must be in [0.5, 1] (a probability, not a percentage), got 1.2" in err
    assert not (tmp_path / "r.json").exists()


def test_unknown_rater_and_missing_file(files, capsys):
    bank_path, j_path, *_ = files
    assert main(["report", "--bank", str(bank_path), "--judgments", str(j_path), "--rater", "ghost"]) == 1
    assert "no judgments by rater 'ghost'" in capsys.readouterr().err
    assert main(["report", "--bank", str(bank_path), "--judgments", "/nonexistent.csv"]) == 2
    assert "No such file" in capsys.readouterr().err


def test_reads_the_app_database(files, tmp_path, capsys):
    bank_path, j_path, *_ = files
    db = f"sqlite:///{tmp_path / 'x.db'}"
    from cli.pairs import main as pairs_main

    assert pairs_main(["import", str(bank_path), "--bank", "syn", "--db", db]) == 0
    assert pairs_main(["judgments", "import", str(j_path), "--bank", "syn", "--db", db]) == 0
    capsys.readouterr()
    assert main(["report", "--bank", "syn", "--db", db, "--rater", "sim-long"]) == 0
    from_db = json.loads(capsys.readouterr().out)
    assert main(["report", "--bank", str(bank_path), "--judgments", str(j_path), "--rater", "sim-long"]) == 0
    from_files = json.loads(capsys.readouterr().out)
    assert from_db["bias"] == from_files["bias"] and from_db["calibration"] == from_files["calibration"]
    assert main(["leaderboard", "--bank", "nope", "--db", db]) == 1
    assert "no bank named 'nope'" in capsys.readouterr().err


@pytest.mark.slow
def test_llmbar_bank_with_a_simulated_cohort_flags_planted_length_bias(llmbar_dir, tmp_path):
    """The issue's check: the CLI on the real LLMBar bank and a simulated cohort."""
    bank = tmp_path / "llmbar.jsonl"
    run = [sys.executable, "-m"]
    subprocess.run(
        [*run, "pairs", "convert", str(llmbar_dir / "natural.json"), "--out", str(bank)], cwd=ROOT, check=True
    )
    j = tmp_path / "j.csv"
    subprocess.run(
        [
            *run,
            "calibration",
            "simulate",
            "--bank",
            str(bank),
            "--out",
            str(j),
            "--raters",
            "10",
            "--per-rater",
            "100",
            "--length-bias",
            "3",
            "--seed",
            "1",
        ],
        cwd=ROOT,
        check=True,
    )
    out = subprocess.run(
        [*run, "calibration", "report", "--bank", str(bank), "--judgments", str(j), "--format", "json"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    report = json.loads(out)
    flagged = [
        r["bias"]["length"]["significant"] and r["bias"]["length"]["odds_ratio"] > 1 for r in report["raters"]
    ]
    assert sum(flagged) >= 8
    assert report["cohort"]["bias"]["length"]["significant"]


def test_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for command in ("report", "leaderboard", "simulate"):
        assert f"python -m calibration {command}" in readme, command


# --- one bias fit per report; simulated raters named by the caller ---------------------------


def test_a_cohort_report_fits_the_per_rater_bias_model_once(files, monkeypatch):
    """The leaderboard's odds ratios come from the report's own per-rater fit, not a second one."""
    import calibration.bias

    _, _, bank, judgments = files
    prepared = prepare(bank, judgments)
    n_raters = prepared["rater"].nunique()
    fitted = []
    solver = calibration.bias.penalized_inference

    def counting(X, *args, **kwargs):
        fitted.append(X.shape[0])  # raters in this batched fit, tests and intervals included
        return solver(X, *args, **kwargs)

    monkeypatch.setattr(calibration.bias, "penalized_inference", counting)
    report = build_report(prepared, n_boot=0)
    assert fitted.count(n_raters) == 1, fitted
    board = {row["rater"]: row for row in report["cohort"]["leaderboard"]}
    for rater in report["raters"]:
        assert board[rater["rater"]]["length_or"] == pytest.approx(rater["bias"]["length"]["odds_ratio"])
        assert board[rater["rater"]]["polish_or"] == pytest.approx(rater["bias"]["polish"]["odds_ratio"])


def test_simulated_is_what_the_caller_says_not_the_name(files):
    _, _, bank, judgments = files
    prepared = prepare(bank, judgments)  # every rater's name starts with "sim-"
    plain = build_report(prepared, n_boot=0)
    assert [r["simulated"] for r in plain["raters"]] == [False, False, False]
    assert plain["cohort"]["simulated_raters"] == 0
    assert "(simulated)" not in to_html(plain) and "(simulated)" not in to_markdown(plain)
    marked = build_report(prepared, n_boot=0, simulated={"sim-over"})
    assert {r["rater"]: r["simulated"] for r in marked["raters"]} == {
        "sim-long": False,
        "sim-over": True,
        "sim-fair": False,
    }
    assert marked["cohort"]["simulated_raters"] == 1
    page = to_html(marked)
    assert "sim-over (simulated)" in page and "sim-long (simulated)" not in page
    one = build_report(prepared, rater="sim-over", simulated=["sim-over"], n_boot=0)
    assert one["simulated"] and one["verdict"][0] == "This is a simulated rater (demo data), not a person."


def test_the_database_marks_simulated_raters(files, tmp_path, capsys):
    """``--db`` labels the raters the database marks simulated; with a CSV, the ``--simulated`` ones."""
    from storage.store import Store
    from training import accounts

    bank_path, j_path, bank, judgments = files
    store = Store(f"sqlite:///{tmp_path / 'sim.db'}")
    store.import_bank("syn", bank)
    lead, _ = accounts.create_cohort(store, "demo", "lena", "lead-password", bank="syn")
    accounts.add_simulated_raters(store, lead.cohort_id, ["sim-long"])
    store.import_judgments(judgments, bank="syn", cohort="demo")  # sim-over, sim-fair: imported, real
    assert store.simulated_raters(cohort="demo") == {"sim-long"}
    assert main(["report", "--bank", "syn", "--db", store.url, "--cohort", "demo"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {r["rater"]: r["simulated"] for r in report["raters"]} == {
        "sim-long": True,
        "sim-over": False,
        "sim-fair": False,
    }
    assert main(["report", "--bank", str(bank_path), "--judgments", str(j_path)]) == 0
    assert not any(r["simulated"] for r in json.loads(capsys.readouterr().out)["raters"])
    named = ["--simulated", "sim-over,sim-fair"]
    assert main(["report", "--bank", str(bank_path), "--judgments", str(j_path), *named]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["rater"] for r in report["raters"] if r["simulated"]] == ["sim-over", "sim-fair"]


def test_grouped_cohort_report_equals_one_report_per_rater(files):
    """The cohort report computes per-rater statistics for everyone at once; each rater's object is
    the one a report of that rater alone gives (without bootstrap intervals, whose random stream a
    cohort shares)."""
    _, _, bank, judgments = files
    prepared = prepare(bank, judgments)
    everyone = build_report(prepared, n_boot=0, simulated={"sim-fair"})
    for obj in everyone["raters"]:
        alone = build_report(prepared, rater=obj["rater"], n_boot=0, simulated={"sim-fair"})
        assert differences(obj, alone) == [], obj["rater"]


def differences(a, b, path=""):
    """Paths where two JSON-like values differ (numbers beyond a relative 1e-9)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [path + "/{keys}"]
        return [d for key in sorted(a) for d in differences(a[key], b[key], f"{path}/{key}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [path + "[len]"]
        pairs = enumerate(zip(a, b, strict=True))
        return [d for i, (x, y) in pairs for d in differences(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        return [] if a == pytest.approx(b, rel=1e-9, abs=1e-12) else [path]
    return [] if a == b else [path]


def test_render_module_and_report_module_give_the_same_renderers():
    from calibration import render, report

    assert report.to_html is render.to_html and report.to_markdown is render.to_markdown
    assert report.FORMATS == {"json": report.to_json, "md": render.to_markdown, "html": render.to_html}
