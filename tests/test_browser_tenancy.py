"""The tenancy breaks tried again in Chromium, as an attacker would: no cohort creation for a visitor,
no bank name shown to them, and a second lead who sees nothing of the first cohort's bank.

Skipped without Chromium unless ``PAIRCAL_REQUIRE_BROWSER=1`` (CI sets it).
"""

from __future__ import annotations

import pandas as pd
from test_browser import browser, launch  # noqa: F401 (fixtures: Chromium, and servers on a fresh database)

from bench._server import sign_in_path
from storage.store import Store
from training import accounts


def _bank(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"secret-{i}" for i in range(n)],
            "prompt": [f"Realco question {i}?" for i in range(n)],
            "response_a": [f"Realco answer A {i}." for i in range(n)],
            "response_b": [f"Realco answer B {i}." for i in range(n)],
            "gold": ["A"] * n,
            "rationale": ["Realco's own reason."] * n,
            "tags": [("control",)] * n,
            "domain": ["general"] * n,
            "source": [""] * n,
            "gold_confidence": [float("nan")] * n,
        }
    )


def _text(page) -> str:
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_timeout(300)
    return page.locator("body").inner_text()


def test_a_visitor_cannot_create_a_cohort_and_a_second_lead_sees_nothing_of_the_first(
    launch,  # noqa: F811
    browser,  # noqa: F811
):
    server = launch()
    store = Store(server.db)
    store.ensure_starter_bank()
    rita, _ = accounts.create_cohort(store, "realco", "rita", "lead-password")
    store.import_bank("realbank", _bank(4), owner_cohort_id=rita.cohort_id, as_server=False)
    accounts.set_drill_settings(store, rita.cohort_id, bank="realbank")

    visitor = browser.new_context().new_page()
    visitor.goto(server.url)
    shown = _text(visitor)
    assert "Sign in" in shown and "Join a cohort" in shown
    assert "Create a cohort" not in shown and "Set up PairCal" not in shown
    assert "starter" not in shown and "realbank" not in shown

    _, invite = accounts.create_cohort_with_invite(store, "evilco", by=rita)
    eve = accounts.join_cohort(store, invite, "eve", "eve-password")
    lead = browser.new_context().new_page()
    lead.goto(server.url + sign_in_path(store, eve.id))
    lead.wait_for_url(f"{server.url}/**", timeout=30_000)
    for page in ("bank", "lead"):
        lead.goto(f"{server.url}/{page}")
        shown = _text(lead)
        assert "realbank" not in shown and "Realco" not in shown and "secret-" not in shown, page
        if page == "bank":  # the bank menu lists what the cohort may use: the shared starter bank only
            lead.locator('[data-testid="stSelectbox"]').first.click()
            options = lead.locator('[role="option"]').all_inner_texts()
            assert options == ["starter"], options
            lead.keyboard.press("Escape")
