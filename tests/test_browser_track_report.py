"""The cohort report's per-track table as a browser draws it: the exported HTML opened in headless
Chromium shows 'Cohort by track' with a row per track, every cell filled, inside the page's width.
The section is saved as a screenshot in the test's temporary folder, or at
``PAIRCAL_TRACKS_SCREENSHOT`` when set. Skips when Chromium or Playwright is missing, unless
``PAIRCAL_REQUIRE_BROWSER=1``."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from test_browser import browser  # noqa: F401 (the Chromium fixture)

from calibration.data import prepare
from calibration.report import build_report, to_html
from calibration.simulate import RaterSpec, simulate_judgments
from calibration.tracks import bank_domains
from pairs.importers import read_bank

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STARTER = Path(__file__).resolve().parent.parent / "pairs" / "data" / "starter_bank.jsonl"

SECTION = """() => {
  const h = [...document.querySelectorAll('h3')].find(e => e.textContent === 'Cohort by track');
  if (!h) return null;
  let t = h.nextElementSibling; while (t && t.tagName !== 'TABLE') t = t.nextElementSibling;
  const a = h.getBoundingClientRect(), b = t.getBoundingClientRect();
  return {top: a.top + window.scrollY - 8, height: b.bottom - a.top + 16, right: b.right,
          width: document.documentElement.clientWidth,
          rows: [...t.querySelectorAll('tbody tr')].map(r => [...r.cells].map(c => c.innerText))};
}"""


def test_the_cohort_by_track_table_is_drawn_whole(browser, tmp_path):  # noqa: F811
    bank = read_bank(STARTER)
    specs = [RaterSpec(f"sim-{i}", skill=1.2, length_bias=math.log(2.5)) for i in range(5)]
    prepared = prepare(bank, simulate_judgments(bank, specs, n_per_rater=300, seed=3))
    domains = bank_domains(bank)
    report = build_report(prepared, n_boot=50, domains=domains)
    page_file = tmp_path / "cohort.html"
    page_file.write_text(to_html(report), encoding="utf-8")

    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.goto(page_file.as_uri())
        box = page.evaluate(SECTION)
        assert box is not None, "no 'Cohort by track' section"
        assert [row[0] for row in box["rows"]] == sorted(set(domains))
        assert all(cell.strip() and cell not in ("None", "nan", "NaN") for row in box["rows"] for cell in row)
        assert box["right"] <= box["width"], box  # the table fits the page: no cell cut off
        shot = Path(os.environ.get("PAIRCAL_TRACKS_SCREENSHOT") or tmp_path / "cohort-by-track.png")
        clip = {"x": 0, "y": box["top"], "width": box["width"], "height": box["height"]}
        page.screenshot(path=str(shot), full_page=True, clip=clip)
        assert shot.stat().st_size > 10_000
    finally:
        page.close()
