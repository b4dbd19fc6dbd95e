"""The validity tables still run: ``bench/validity.py --quick`` end to end, and their shape.

The quick sizes are far too small for the figures to mean anything (a handful
of raters a cell), so no value is asserted: this keeps the script from rotting
as the report changes. Every target of the table in VALIDITY.md must have its
row, each row its Monte Carlo interval, count, seed and verdict, and a
regenerated VALIDITY.md keeps what lies outside its markers.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import validity  # noqa: E402

ROW = re.compile(
    r"^\| (?P<scenario>[^|]+) \| (?P<planted>[^|]+) \| (?P<n>\d+) \| "
    r"(?:(?P<share>\d+\.\d%) \((?P<low>\d+\.\d%)-(?P<high>\d+\.\d%)\)|none of 0) \| "
    r"(?P<m>\d+) (?P<unit>[\w ]+) \| "
    r"(?P<seed>\d+) \| (?P<target>[^|]*) \| (?P<met>yes|yes \(no flags\)|no|n/a|) \|$"
)


@pytest.fixture(scope="module")
def quick_tables() -> dict[str, list[dict]]:
    done = subprocess.run(
        [sys.executable, "bench/validity.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (ROOT / "bench" / "out" / "VALIDITY.quick.md").read_text() in done.stdout
    tables: dict[str, list[dict]] = {}
    title = None
    for line in done.stdout.splitlines():
        if line.startswith("### "):
            title = line[4:]
            tables[title] = []
        elif line.startswith("| ") and not line.startswith(("| scenario", "| ---")):
            match = ROW.match(line)
            assert match, f"malformed row under {title!r}: {line}"
            tables[title].append(match.groupdict())
    return tables


def _rows(tables, measure: str, **where) -> list[dict]:
    rows = tables[validity.TITLES[measure]]
    return [r for r in rows if all(str(r[k]) == str(v) for k, v in where.items())]


def test_every_measure_has_its_table(quick_tables):
    assert list(quick_tables) == list(validity.TITLES.values())


def test_every_target_of_the_issue_has_a_row_with_a_verdict(quick_tables):
    confound = validity.SCENARIOS["confound"].label
    people = validity.SCENARIOS["people"].label
    in_cohort = "none; in a cohort (40 raters, 20 a pair)"
    targets = [
        ("longer", {"scenario": confound, "planted": "none", "n": 200}, "<= 10%"),
        ("any", {"scenario": confound, "planted": "none", "n": 200}, "<= 10%"),
        ("any", {"scenario": validity.SCENARIOS["model"].label, "n": 200}, "<= 10%"),
        # a rater's verdicts inside a cohort, allowing for pair easiness measured on the others
        ("longer", {"scenario": confound, "planted": in_cohort, "n": 200}, "<= 10%"),
        ("any", {"scenario": people, "planted": in_cohort, "n": 200}, "<= 10%"),
        (
            "power_length",
            {"scenario": people, "planted": in_cohort.replace("none", "length OR 2"), "n": 30},
            ">= 50%",
        ),
        ("coverage", {"scenario": people, "planted": "length OR 2; in a cohort", "n": 200}, "92%-98%"),
        ("cohort", {"scenario": confound, "n": 200}, "<= 10%"),
        ("power_length", {"scenario": validity.SCENARIOS["model"].label, "n": 30}, ">= 50%"),
        ("power_length", {"scenario": validity.SCENARIOS["model"].label, "n": 100}, ">= 90%"),
        ("power_position", {"scenario": validity.SCENARIOS["model"].label, "n": 100}, ">= 85%"),
        (
            "coverage",
            {"scenario": validity.SCENARIOS["model"].label, "planted": "length OR 2", "n": 100},
            "92%-98%",
        ),
        ("calibration", {"scenario": validity.SCENARIOS["no_resolution"].label, "n": 30}, "<= 20%"),
        ("audit", {"n": 100}, "<= 10%"),
        ("leaderboard", {"n": 20}, "0"),
    ]
    for measure, where, target in targets:
        rows = [r for r in _rows(quick_tables, measure, **where) if r["target"].strip() == target]
        assert len(rows) == 1, (measure, where, target)
        assert rows[0]["met"] in ("yes", "no", "n/a", "yes (no flags)")


def test_rows_cover_every_size_and_their_intervals_hold_the_share(quick_tables):
    for measure in ("longer", "power_length", "calibration", "cohort", "audit"):
        for scenario in {r["scenario"] for r in _rows(quick_tables, measure)}:
            sizes = sorted(int(r["n"]) for r in _rows(quick_tables, measure, scenario=scenario))
            assert set(validity.SIZES) <= set(sizes), (measure, scenario, sizes)
    assert sorted(int(r["n"]) for r in _rows(quick_tables, "leaderboard")) == list(validity.LEADERBOARD_SIZES)
    for rows in quick_tables.values():
        for r in rows:
            if r["share"] is None:  # a share of nothing: no flags to be false
                assert r["m"] == "0" and r["met"] in ("n/a", "", "yes (no flags)")
                continue
            low, mid, high = (float(r[k].rstrip("%")) for k in ("low", "share", "high"))
            assert low <= mid <= high and int(r["m"]) > 0
    assert all(int(r["m"]) > 0 for r in _rows(quick_tables, "audit_power"))


def test_write_section_replaces_only_between_the_markers(tmp_path):
    doc = tmp_path / "VALIDITY.md"
    doc.write_text(f"# Validity\n\nkept above\n\n{validity.BEGIN}\nold\n{validity.END}\n\nkept below\n")
    validity.write_section(doc, "new table")
    assert doc.read_text() == (
        f"# Validity\n\nkept above\n\n{validity.BEGIN}\nnew table\n{validity.END}\n\nkept below\n"
    )
    doc.write_text("# no markers\n")
    with pytest.raises(SystemExit, match="markers"):
        validity.write_section(doc, "x")


def test_a_missing_report_field_is_named():
    with pytest.raises(validity.ReportFieldMissing, match="bias.length.p_adjusted"):
        validity.FIELDS["_probe"] = ("bias", "{effect}", "p_adjusted")
        try:
            validity.lookup({"bias": {"length": {"significant": True}}}, "_probe", effect="length")
        finally:
            del validity.FIELDS["_probe"]
    assert validity.interval_columns({"score": 0.5, "ci_low": 0.4, "ci_high": 0.6}) == ("ci_low", "ci_high")
    with pytest.raises(validity.ReportFieldMissing, match="leaderboard interval"):
        validity.interval_columns({"score": 0.5})


def test_the_published_section_has_its_markers():
    text = (ROOT / "VALIDITY.md").read_text()
    assert text.count(validity.BEGIN) == 1 and text.count(validity.END) == 1
    assert text.index(validity.BEGIN) < text.index(validity.END)
    assert "## Probes against the model" in text


def test_worker_processes_give_the_same_tables(tmp_path):
    """``--jobs 2`` splits the run over processes; each cell seeds itself, so the tables match one process."""
    outs = []
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}.md"
        done = subprocess.run(
            [sys.executable, "bench/validity.py", "--quick", "--jobs", str(jobs), "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        outs.append(out.read_text().split("\n", 1)[1])  # the first line holds the processor time
    assert "| yes |" in outs[0] or "| no |" in outs[0]
    assert outs[0] == outs[1]
