"""The drill in Chromium driven by the keyboard alone, and its words at a wide and a narrow width.

A whole daily drill is answered with ``page.keyboard.press`` only: A or B picks that response,
5 to 9 and 0 set the confidence (50 to 90%, 100%), Enter submits and goes on. Enter before a
confidence is chosen stores nothing and says why. The responses are named by their letters
("Response A", "Response B") in whichever order the drill shows them, as the expert's reason
names them; side by side at 1400 px, stacked at 400 px, and never "left" or "right".

Screenshots go to the folder named by ``PAIRCAL_SHOTS`` (else the test's temporary folder).
Skipped without Chromium unless ``PAIRCAL_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_browser import browser, feedback, launch  # noqa: F401 (fixtures: Chromium, servers)

from bench._server import sign_in_path
from storage.store import Store
from training import accounts, drills, onboarding

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZE = 4
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def ready(page, text: str) -> None:
    """Wait until ``text`` shows and the page's run has finished, so every shortcut is in place."""
    page.get_by_text(text).first.wait_for(timeout=30_000)
    page.wait_for_selector(IDLE, timeout=30_000)


def press(page, key: str, then) -> None:
    """Press ``key``, wait until ``then`` (a locator) shows and the run it started has finished."""
    page.keyboard.press(key)
    then.wait_for(timeout=30_000)
    page.wait_for_selector(IDLE, timeout=30_000)


def selected(page, label: str):
    """The pick or confidence button ``label`` drawn as chosen (a primary button)."""
    return page.locator('[data-testid="stBaseButton-primary"]', has_text=label)


@pytest.fixture
def rater(launch, tmp_path):  # noqa: F811
    server = launch()
    store = Store(server.db)
    store.ensure_starter_bank()
    lead, invite = accounts.create_cohort(store, "keys", "lena", "lead-password")
    accounts.set_drill_settings(store, lead.cohort_id, drill_size=SIZE)
    ravi = accounts.join_cohort(store, invite, "ravi", "ravi-password")
    onboarding.finish(store, ravi.id)  # finished onboarding: these tests are about other pages
    return server, store, ravi


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PAIRCAL_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_whole_drill_by_keyboard_alone(rater, browser, tmp_path):  # noqa: F811
    server, store, ravi = rater
    now = datetime.now(UTC)
    yesterday = drills.get_or_create_drill(store, ravi.id, "starter", now.date() - timedelta(days=1), size=2)
    for item in yesterday.items:  # something in the last 7 days for the debrief to compare with
        drills.submit(store, ravi.id, yesterday.key, item.position, "A", 0.9, at=now - timedelta(days=1))
    page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    page.goto(server.url + sign_in_path(store, ravi.id))
    today = now.date()
    drill = drills.get_or_create_drill(store, ravi.id, "starter", today, size=SIZE)
    presses = [("A", "8"), ("B", "6"), ("A", "0"), ("B", "5")]  # (pick, confidence) per pair

    for position, (pick, tens) in enumerate(presses):
        ready(page, f"Pair {position + 1} of {SIZE}")
        press(page, pick, selected(page, f"Response {pick}"))
        if position == 0:  # Enter without a confidence: refused, with the reason, nothing stored
            press(page, "Enter", page.get_by_text("Choose how sure you are before submitting"))
            assert store.count_judgments() == 2  # yesterday's only
            page.screenshot(path=str(shots(tmp_path) / "keys_refused_1400.png"), full_page=True)
        percent = "100%" if tens == "0" else f"{tens}0%"
        press(page, tens, selected(page, percent))
        press(page, "Enter", feedback(page))
        page.keyboard.press("Enter")  # Next pair, or Finish after the last
        feedback(page).wait_for(state="detached", timeout=30_000)

    ready(page, "Today's drill is done")
    page.get_by_text("Debrief").wait_for(timeout=30_000)
    page.get_by_text("Last 7 days: 2 answers").wait_for(timeout=30_000)
    page.screenshot(path=str(shots(tmp_path) / "debrief_1400.png"), full_page=True)
    narrow = page.context.new_page()  # the same session, opened on a narrow screen
    narrow.set_viewport_size({"width": 400, "height": 1100})
    narrow.goto(server.url)
    ready(narrow, "Debrief")
    narrow.get_by_text("The trap that caught you most").or_(
        narrow.get_by_text("No trap caught you")
    ).wait_for()
    narrow.screenshot(path=str(shots(tmp_path) / "debrief_400.png"), full_page=True)
    narrow.close()

    # P starts a practice round; one pair answered by keys, then a reload resumes the round there
    press(page, "P", page.get_by_text("Practice round 1"))
    ready(page, f"Pair 1 of {SIZE}")
    press(page, "B", selected(page, "Response B"))
    press(page, "9", selected(page, "90%"))
    press(page, "Enter", feedback(page))
    page.reload()
    ready(page, f"Pair 2 of {SIZE}")
    assert page.get_by_text("Practice round 1").is_visible()
    assert page.get_by_text(f"1 of {SIZE} pairs done").is_visible()
    stored = store.export_judgments().set_index("pair_id")
    assert len(stored) == 2 + SIZE + 1  # yesterday's, the daily drill's and one practice answer
    for item, (pick, tens) in zip(drill.items, presses, strict=True):
        row = stored.loc[item.pair_id]
        assert row["choice"] == pick  # the key names the response by its letter, wherever it is shown
        assert row["confidence"] == (1.0 if tens == "0" else int(tens) / 10)


def test_the_words_for_the_two_responses_are_true_wide_and_narrow(rater, browser, tmp_path):  # noqa: F811
    server, store, ravi = rater
    for position, width in enumerate((1400, 400)):
        page = browser.new_page(viewport={"width": width, "height": 1100})
        page.goto(server.url + sign_in_path(store, ravi.id))
        ready(page, f"Pair {position + 1} of {SIZE}")
        item = drills.get_or_create_drill(
            store, ravi.id, "starter", datetime.now(UTC).date(), size=SIZE
        ).items[position]
        shown = [item.left, "B" if item.left == "A" else "A"]  # the drill's order
        first, second = (page.get_by_text(f"Response {letter}", exact=True).first for letter in shown)
        one, two = first.bounding_box(), second.bounding_box()
        assert one is not None and two is not None
        if width == 1400:  # side by side: the drill's first on the left
            assert abs(one["y"] - two["y"]) < 5 and one["x"] < two["x"]
        else:  # stacked: the drill's first on top
            assert two["y"] > one["y"] + 50
        body = page.inner_text("body").lower()
        assert "(left)" not in body and "(right)" not in body
        page.screenshot(path=str(shots(tmp_path) / f"pair_{width}.png"), full_page=True)
        press(page, shown[1], selected(page, f"Response {shown[1]}"))
        press(page, "7", selected(page, "70%"))
        press(page, "Enter", feedback(page))
        gold = store.load_bank("starter").set_index("id").loc[item.pair_id, "gold"]
        if gold in ("A", "B"):  # the feedback names the gold by the letter shown above the response
            said = "is better" if gold == shown[1] else "The expert preferred"
            assert f"Response {gold}" in page.get_by_text(said).first.inner_text()
        body = page.inner_text("body").lower()
        assert "(left)" not in body and "(right)" not in body
        page.get_by_text("The same answer at each confidence").scroll_into_view_if_needed()
        page.screenshot(path=str(shots(tmp_path) / f"feedback_{width}.png"), full_page=True)
        page.keyboard.press("Enter")
        feedback(page).wait_for(state="detached", timeout=30_000)
        page.close()
