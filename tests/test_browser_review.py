"""The Review page in headless Chromium, at a desktop width and a phone width.

Screenshots are saved (``PAIRCAL_REVIEW_SHOTS``, default a temp folder) to be looked at: each missed
pair must read as the drill showed it (the prompt, Response A beside Response B on a desktop, one
above the other on a phone, in the drill's order), then the verdict, the reason and the trap kinds.
No reason of a pair the rater has not answered is on the page. Skips without Chromium or Playwright, unless
``PAIRCAL_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench._server import sign_in_path
from pairs.bank import STARTER_BANK_NAME
from storage.store import Store
from tests.test_browser import browser, launch  # noqa: F401  (fixtures)
from tests.test_review import drill_day
from training import accounts, drills

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("width", [1400, 400])
def test_review_page_is_readable_at_desktop_and_phone_width(launch, browser, tmp_path, width):  # noqa: F811
    db = f"sqlite:///{tmp_path / 'paircal.db'}"
    store = Store(db)
    store.ensure_starter_bank()
    _, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    rater = accounts.join_cohort(store, invite, "ravi", "rater-password")
    today = datetime.now(UTC).date()
    missed, _ = drill_day(store, rater, STARTER_BANK_NAME, today, wrong=3)
    unanswered = drills.get_or_create_drill(
        store, rater.id, STARTER_BANK_NAME, today + timedelta(days=1), size=10
    )
    bank = store.load_bank(STARTER_BANK_NAME).set_index("id")
    server = launch(db=db)
    shots = Path(os.environ.get("PAIRCAL_REVIEW_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    page = browser.new_page(viewport={"width": width, "height": 3000 if width >= 1000 else 9000})
    page.goto(server.url + sign_in_path(store, rater.id))
    page.get_by_text("Today's drill is done", exact=False).wait_for(timeout=60_000)  # signed in
    page.goto(server.url + "/review")
    page.get_by_text("3 missed pairs of 10 answered", exact=False).wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    body = page.inner_text("body")
    for pid in missed:
        assert f"pair {pid}" in body
        assert bank.loc[pid, "rationale"].split()[0] in body
    for item in unanswered.items:
        assert item.pair_id not in body
    assert body.count("The expert preferred Response") == 3
    a = page.get_by_text("Response A", exact=True).first.bounding_box()
    b = page.get_by_text("Response B", exact=True).first.bounding_box()
    assert a and b
    if width >= 1000:  # side by side, as the drill shows them (in either order)
        assert abs(a["y"] - b["y"]) < 5 and abs(b["x"] - a["x"]) > 300
    else:  # one above the other
        assert abs(b["y"] - a["y"]) > 50
    page.screenshot(path=str(shots / f"review-{width}.png"))
    assert "Traceback" not in server.log
