"""Onboarding in Chromium, at 1400 px and at 400 px: a new rater's first page, the three guided
pairs answered by clicks, each explained, then the first drill; a reload does not send them back.

Screenshots go to the folder named by ``PAIRCAL_SHOTS`` (else the test's temporary folder).
Skipped without Chromium unless ``PAIRCAL_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_browser import browser, choose, launch  # noqa: F401 (fixtures: Chromium, servers)

from bench._server import sign_in_path
from storage.store import Store
from training import accounts, cohort, onboarding

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
GUIDELINES = "# How we rate\nRead both answers.\n\n## Length\nA longer answer earns nothing for its length."


def whole_page(page, path: Path, width: int) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside its own box, so the window grows."""
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": width, "height": min(int(height) + 100, 12_000)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": width, "height": 1000})


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PAIRCAL_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("width", [1400, 400])
def test_a_new_rater_walks_through_onboarding_to_the_first_drill(launch, browser, tmp_path, width):  # noqa: F811
    server = launch()
    store = Store(server.db)
    store.ensure_starter_bank()
    lead, invite = accounts.create_cohort(store, "walk", "lena", "lead-password")
    cohort.set_guidelines(store, lead, GUIDELINES)
    rater = accounts.join_cohort(store, invite, "nia", "nia-password")
    folder = shots(tmp_path)
    page = browser.new_context(viewport={"width": width, "height": 1000}).new_page()
    page.goto(server.url + sign_in_path(store, rater.id))

    page.get_by_role("heading", name="How to rate").wait_for(timeout=30_000)
    page.wait_for_selector(IDLE, timeout=30_000)
    # the page's last block arrives after the first: wait for the practice pair below the guidelines
    page.get_by_text("Practice pair 1 of 3", exact=True).wait_for(timeout=30_000)
    page.get_by_text("A longer answer earns nothing for its length.").wait_for(timeout=30_000)
    body = page.inner_text("body")
    assert "Pair 1 of" not in body
    assert "Longer is not better" in body and "None, a plain comparison" in body
    assert "A longer answer earns nothing for its length." in body  # the cohort's guidelines
    whole_page(page, folder / f"onboarding-{width}-top.png", width)

    picks = ["Response A", "Response A", "Response B"]  # the longer, the plain, the short one
    for number, pick in enumerate(picks, start=1):
        page.get_by_text(f"Practice pair {number} of 3", exact=True).wait_for(timeout=30_000)
        for label in (pick, "70%"):  # the guided pair's buttons, by their names
            page.get_by_role("button", name=label, exact=True).click()
            page.locator('[data-testid="stBaseButton-primary"]', has_text=label).wait_for(timeout=30_000)
        page.get_by_role("button", name="Submit").click()
        after = f"Practice pair {number + 1} of 3" if number < 3 else "Start my first drill"
        page.get_by_text(after, exact=True).first.wait_for(timeout=30_000)
        page.wait_for_selector(IDLE, timeout=30_000)
        if number == 1:
            text = page.inner_text("body")
            assert "The expert preferred Response B." in text and "Why:" in text
            page.get_by_text("The expert preferred Response B.").scroll_into_view_if_needed()
            page.screenshot(path=str(folder / f"onboarding-{width}-explained.png"))
    assert store.count_judgments() == 0  # practice is no judgment
    assert set(onboarding.state(store, rater.id).answers) == set(onboarding.guided_pairs()["id"])
    whole_page(page, folder / f"onboarding-{width}-done.png", width)

    page.get_by_role("button", name="Start my first drill").click()
    page.get_by_text("Pair 1 of 10").wait_for(timeout=30_000)
    assert onboarding.state(store, rater.id).finished
    page.reload()  # the database says she is done: the drill again, not onboarding
    page.get_by_text("Pair 1 of 10").wait_for(timeout=30_000)
    page.wait_for_selector(IDLE, timeout=30_000)
    choose(page, 1, "60%")
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Why:", exact=True).wait_for(timeout=30_000)
    page.wait_for_selector(IDLE, timeout=30_000)
    assert "Trap:" in page.inner_text("body")
    whole_page(page, folder / f"onboarding-{width}-drill-feedback.png", width)
    page.get_by_role("button", name="How to rate").click()  # the drill reopens it
    page.get_by_role("heading", name="How to rate").wait_for(timeout=30_000)
