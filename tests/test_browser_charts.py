"""My report's charts and its downloaded HTML report in headless Chromium, at 1400 px and 400 px,
and the cohort report downloaded from the lead console.

Screenshots go to ``PAIRCAL_CHART_SHOTS`` (default ``/tmp/shots_charts``) to be looked at. From
the DOM: each chart's SVG has a sensible size, the y-axis labels of the bias chart and the trap-kind
chart are all shown, each on its own line (no two overlap), and each chart drew one mark per row.
Skips without Chromium or Playwright, unless ``PAIRCAL_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench._server import sign_in_path
from calibration.charts import EFFECT_LABELS
from storage.store import Store
from tests.test_browser import browser, launch  # noqa: F401  (fixtures)
from tests.test_charts import seed_answers
from training import accounts

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Every chart SVG on the page: its title, size, y-axis labels as laid out, and marks per layer.
CHARTS_JS = """
(selector) => [...document.querySelectorAll(selector)].map((svg) => {
  const box = (e) => e.getBoundingClientRect();
  const axes = [...svg.querySelectorAll('g[aria-roledescription="axis"]')];
  const y = axes.find((g) => (g.getAttribute('aria-label') || '').startsWith('Y-axis'));
  const labels = y ? [...y.querySelectorAll('g.role-axis-label text')].map((t) => ({
    text: t.textContent, top: box(t).top, bottom: box(t).bottom,
    shown: t.getAttribute('opacity') !== '0' && box(t).height > 0,
  })) : [];
  const marks = {};
  svg.querySelectorAll('g.role-mark').forEach((g) => {
    const layer = (g.getAttribute('class').match(/layer_(\\d+)_marks/) || [])[1];
    if (layer !== undefined) marks[layer] = g.querySelectorAll(':scope > [role="graphics-symbol"]').length;
  });
  const title = svg.querySelector('g.role-title text');
  return {title: title ? title.textContent : null, width: box(svg).width, height: box(svg).height,
          labels, marks};
})
"""


def check_rows(chart: dict, expected: list[str], *, mark_layer: str) -> None:
    labels = chart["labels"]
    assert sorted(label["text"] for label in labels) == sorted(expected), chart
    assert all(label["shown"] for label in labels), chart
    lines = sorted(labels, key=lambda label: label["top"])
    assert all(a["bottom"] <= b["top"] for a, b in zip(lines, lines[1:], strict=False)), lines  # no overprint
    assert chart["marks"][mark_layer] == len(expected), chart


def check_report_charts(charts: list[dict], tags: list[str], *, width: int) -> None:
    """``charts``: the bias chart, the reliability diagram, the trap kinds (and others)."""
    forest, reliability, tag_chart = charts[:3]
    check_rows(forest, list(EFFECT_LABELS.values()), mark_layer="1")
    check_rows(tag_chart, tags, mark_layer="0")
    assert reliability["marks"]["2"] >= 3  # the reliability diagram's points
    for chart in charts:
        assert min(300, 0.75 * width) <= chart["width"] <= width, chart  # fills a phone, fits a desktop
        assert chart["height"] >= 100, chart


@pytest.mark.parametrize("width", [1400, 400])
def test_my_report_charts_and_the_downloaded_report(launch, browser, tmp_path, width):  # noqa: F811
    db = f"sqlite:///{tmp_path / 'paircal.db'}"
    store = Store(db)
    store.ensure_starter_bank()
    _, invite = accounts.create_cohort(store, "charts", "lena", "lead-password")
    nora = accounts.join_cohort(store, invite, "nora", "rater-password")
    seed_answers(store, nora.id, "nora", n=150)
    server = launch(db=db)
    shots = Path(os.environ.get("PAIRCAL_CHART_SHOTS") or "/tmp/shots_charts")
    shots.mkdir(parents=True, exist_ok=True)

    # tall enough to hold the whole report: Streamlit scrolls its own container, not the page
    page = browser.new_page(viewport={"width": width, "height": 5200}, accept_downloads=True)
    page.goto(server.url + sign_in_path(store, nora.id))
    page.get_by_text("Pair 1 of 10").wait_for(timeout=60_000)
    page.goto(server.url + "/report")
    page.get_by_role("button", name="Bias report (HTML)").wait_for(timeout=60_000)
    svgs = page.locator(".vega-embed svg")
    svgs.nth(3).wait_for(timeout=30_000)
    page.wait_for_timeout(1500)  # the charts finish drawing
    page.screenshot(path=str(shots / f"my-report-{width}.png"))
    charts = page.evaluate(CHARTS_JS, ".vega-embed svg")
    # titled by the page's subheaders, except the CORP diagram's and the trend's
    assert [c["title"] for c in charts] == [
        None,
        None,
        "How often you are right at each confidence",
        "Is the bias shrinking?",
        None,
    ]
    tags = [label["text"] for label in charts[4]["labels"]]
    assert len(tags) >= 5
    assert charts[2]["marks"]["2"] == 1 and charts[2]["marks"]["3"] >= 3  # the CORP steps and points
    check_report_charts([charts[0], charts[1], charts[4], charts[2], charts[3]], tags, width=width)

    with page.expect_download() as download:
        page.get_by_role("button", name="Bias report (HTML)").click()
    report = tmp_path / "report.html"
    download.value.save_as(report)
    exported = browser.new_page(viewport={"width": width, "height": 1000})
    exported.goto(report.as_uri())
    exported.screenshot(path=str(shots / f"my-report-html-{width}.png"), full_page=True)
    assert exported.evaluate("document.documentElement.scrollWidth") <= width  # tables scroll, not the page
    drawn = exported.evaluate(CHARTS_JS, ".charts > svg")
    assert [c["title"] for c in drawn] == [
        "What sways your choices",
        "Is your confidence right?",
        "How often you are right at each confidence",
        "Accuracy by trap kind",
    ]
    check_report_charts([drawn[0], drawn[1], drawn[3], drawn[2]], tags, width=width)
    assert "Traceback" not in server.log


def test_the_cohort_report_downloaded_from_the_console_draws_every_raters_charts(
    launch,  # noqa: F811
    browser,  # noqa: F811
    tmp_path,
):
    from tests.test_lead_progress import seed_cohort

    db = f"sqlite:///{tmp_path / 'paircal.db'}"
    store = Store(db)
    store.ensure_starter_bank()
    lead = seed_cohort(store, people=4, weeks=3)
    server = launch(db=db)
    shots = Path(os.environ.get("PAIRCAL_CHART_SHOTS") or "/tmp/shots_charts")
    shots.mkdir(parents=True, exist_ok=True)

    page = browser.new_page(viewport={"width": 1400, "height": 2000}, accept_downloads=True)
    page.goto(server.url + sign_in_path(store, lead.id))
    page.get_by_role("tab", name="Export").click(timeout=60_000)
    page.get_by_role("button", name="Build the cohort report").click()
    button = page.get_by_role("button", name="Cohort report (HTML)")
    button.wait_for(timeout=120_000)
    with page.expect_download(timeout=120_000) as download:
        button.click()
    report = tmp_path / "cohort.html"
    download.value.save_as(report)
    exported = browser.new_page(viewport={"width": 1400, "height": 1000})
    exported.goto(report.as_uri())
    exported.screenshot(path=str(shots / "cohort-report-html-1400.png"), full_page=True)
    drawn = exported.evaluate(CHARTS_JS, ".charts > svg")
    raters = exported.locator("h2").all_inner_texts()[1:]  # after "Cohort"
    assert len(raters) >= 5
    # the cohort's bias and two confidence charts, then each rater's four (none drawn empty)
    assert [c["title"] for c in drawn[:3]] == [
        "What sways the cohort's choices",
        "Is the cohort's confidence right?",
        "How often the cohort is right at each confidence",
    ]
    forests = [c for c in drawn[3:] if c["title"] == "What sways your choices"]
    assert len(forests) >= len(raters) - 2  # raters with too few answers for the bias model have none
    # the first rater's bias chart (the one that came out empty) has all three effects
    assert drawn[3]["title"] == "What sways your choices"
    check_rows(drawn[3], list(EFFECT_LABELS.values()), mark_layer="1")
    for chart in [drawn[0], *forests]:
        shown = [label["text"] for label in chart["labels"]]
        assert len(shown) >= 2 and set(shown) <= set(EFFECT_LABELS.values())
        check_rows(chart, shown, mark_layer="1")
    for chart in drawn:
        assert chart["height"] >= 100 and sum(chart["marks"].values()) > 2, chart
    assert "Traceback" not in server.log
