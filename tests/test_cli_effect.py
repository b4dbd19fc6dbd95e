"""``python -m calibration effect``: each format, and a clear error for each kind of bad file."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout

import pandas as pd
import pytest

from calibration.effect import EFFECT_COLUMNS, MEASURES
from calibration.simulate import simulate_forms, synthetic_bank
from cli.calibration import main
from pairs.judgments import to_csv


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("effect")
    bank = synthetic_bank(120, seed=3)
    bank.to_csv(folder / "bank.csv", index=False)
    sim = simulate_forms(bank, n_raters=6, form_size=30, seed=4)
    drills = sim[sim["form"] == "pre"].assign(form="", rater="sim-drill-only")
    (folder / "j.csv").write_text(to_csv(pd.concat([sim, drills], ignore_index=True)))
    (folder / "noform.csv").write_text(to_csv(sim.drop(columns="form")))
    (folder / "pre_only.csv").write_text(to_csv(sim[sim["form"] == "pre"]))
    bad = to_csv(sim).replace(",retention\n", ",later\n", 1)
    (folder / "bad_form.csv").write_text(bad)
    return folder


def run(folder, name: str, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["effect", "--bank", str(folder / "bank.csv"), "--judgments", str(folder / name), *extra]
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_json(files):
    code, out, _ = run(files, "j.csv")
    assert code == 0
    data = json.loads(out)
    assert sorted(data) == ["cohort", "raters"]
    assert "sim-drill-only" not in data["raters"]  # drill answers are not a form
    for obj in [*data["raters"].values(), data["cohort"]]:
        for measure in ("accuracy", "brier_skill", "overconfidence", "length"):
            entry = obj["effect"][measure]
            assert {"pre", "post", "change", "ci_low", "ci_high", "p_value", "significant"} <= set(entry)
    assert data["cohort"]["n_raters"] == 6
    assert data["raters"]["sim-01-steady"]["n"] == {"pre": 30, "post": 30, "retention": 30}


def test_csv(files):
    code, out, _ = run(files, "j.csv", "--format", "csv")
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns) == EFFECT_COLUMNS
    assert len(table) == (6 + 1) * 3 * len(MEASURES)
    cohort = table[(table["rater"] == "cohort") & (table["comparison"] == "post vs pre")]
    assert cohort["measure"].tolist() == list(MEASURES)


def test_markdown(files, tmp_path):
    code, out, err = run(files, "j.csv", "--format", "md", "--out", str(tmp_path / "effect.md"))
    assert code == 0 and out == "" and "wrote" in err
    text = (tmp_path / "effect.md").read_text()
    assert text.startswith("# PairCal training effect\n")
    assert "| comparison | measure | before | after | change | 95% CI | p | effect size | n |" in text
    assert "### sim\\-01\\-steady" in text  # a rater's name is escaped as Markdown
    assert "| post vs pre | accuracy |" in text


def test_a_file_without_form_is_refused(files):
    code, out, err = run(files, "noform.csv")
    assert code == 1 and out == ""
    assert err.splitlines()[0] == (
        f"{files / 'noform.csv'}:1: form: missing column: the training effect needs each answer's "
        "assessment form (pre, post, retention, or empty for a drill answer)"
    )


def test_a_file_without_post_answers_is_refused(files):
    code, out, err = run(files, "pre_only.csv")
    assert code == 1 and out == ""
    assert err.splitlines()[0] == (
        f"{files / 'pre_only.csv'}:: form: no answers in the post form (answers by form: pre 180); "
        "the training effect compares the pre and the post form"
    )


def test_a_bad_form_value_names_its_line(files):
    code, _, err = run(files, "bad_form.csv")
    assert code == 1
    assert "form: must be pre, post, retention or empty (a drill answer), got 'later'" in err.splitlines()[0]


def test_every_calibration_command_is_in_the_readme():
    from cli.calibration import build_parser
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for command in commands:
        assert f"python -m calibration {command}" in readme, command
