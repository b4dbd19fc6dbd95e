"""The lead console's Progress tab in headless Chromium, at a desktop width and a phone width.

Screenshots are saved (``PAIRCAL_PROGRESS_SHOTS``, default a temp folder) to be looked at: the six
panels must be readable at 1400 px (three a row) and at 400 px (one a row), with labelled axes.
Skips without Chromium or Playwright, unless ``PAIRCAL_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench._server import sign_in_path
from storage.store import Store
from tests.test_browser import browser, launch  # noqa: F401  (fixtures)
from tests.test_lead_progress import seed_cohort

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("width", [1400, 400])
def test_progress_tab_is_readable_at_desktop_and_phone_width(launch, browser, tmp_path, width):  # noqa: F811
    db = f"sqlite:///{tmp_path / 'paircal.db'}"
    store = Store(db)
    store.ensure_starter_bank()
    lead = seed_cohort(store, people=8, weeks=6)
    server = launch(db=db)
    shots = Path(os.environ.get("PAIRCAL_PROGRESS_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    # tall enough to hold the whole tab: Streamlit scrolls its own container, not the page
    page = browser.new_page(viewport={"width": width, "height": 2600 if width >= 1000 else 5200})
    page.goto(server.url + sign_in_path(store, lead.id))
    page.get_by_role("tab", name="Progress").click()
    panel = page.get_by_role("tabpanel", name="Progress")
    panel.get_by_text("Improved most").wait_for(timeout=60_000)
    charts = panel.locator(".vega-embed")
    charts.nth(5).wait_for(timeout=30_000)
    page.wait_for_timeout(1500)  # the charts finish drawing
    assert charts.count() == 6
    boxes = [charts.nth(i).bounding_box() for i in range(6)]
    assert all(b is not None and b["width"] > 0.2 * width for b in boxes)
    lefts = {round(b["x"]) for b in boxes if b}
    assert len(lefts) == (3 if width >= 1000 else 1)  # three a row on a desktop, one a row on a phone
    assert panel.get_by_text("Has not drilled this week").is_visible()
    page.screenshot(path=str(shots / f"progress-{width}.png"))
    assert "Traceback" not in server.log
