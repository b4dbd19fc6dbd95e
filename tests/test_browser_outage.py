"""A database outage in Chromium: the server's PostgreSQL database stops taking connections while a
rater drills. The page says the database cannot be reached and that the answer was not saved; once
the database takes connections again the same page goes on, and nothing was stored meanwhile.

Skipped without Chromium unless ``PAIRCAL_REQUIRE_BROWSER=1``, and without PostgreSQL binaries
unless ``PAIRCAL_REQUIRE_POSTGRES=1`` (CI sets both).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from test_browser import browser, choose, launch  # noqa: F401 (fixtures: Chromium, and servers on a fresh database)

from bench._server import sign_in_path
from storage.store import Store
from training import accounts, onboarding

pytestmark = pytest.mark.postgres

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def _admin(url: str) -> tuple[sa.Engine, str]:
    """An engine on the cluster's maintenance database, and the name of the app's database."""
    base, name = url.rsplit("/", 1)
    return sa.create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT"), name


def _set_outage(admin: sa.Engine, name: str, down: bool) -> None:
    with admin.connect() as conn:
        conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if down else "true"}')
        if down:  # and drop the connections the server holds, as a restart of the database would
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )


def test_an_outage_mid_drill_is_said_plainly_and_the_page_recovers(launch, browser, new_db):  # noqa: F811
    url = new_db("postgresql")
    store = Store(url)
    store.ensure_starter_bank()
    _, invite = accounts.create_cohort(store, "alpha", "lena", "lead-password")
    ravi = accounts.join_cohort(store, invite, "ravi", "ravi-password")
    onboarding.finish(store, ravi.id)  # finished onboarding: these tests are about other pages
    server = launch(db=url)
    page = browser.new_context(viewport={"width": 1300, "height": 1000}).new_page()
    page.goto(server.url + sign_in_path(store, ravi.id))
    page.get_by_text("Pair 1 of 10").wait_for(timeout=60_000)
    choose(page)
    admin, name = _admin(url)
    store.engine.dispose()
    try:
        _set_outage(admin, name, down=True)
        page.get_by_role("button", name="Submit").click()
        page.get_by_text("cannot reach its database").wait_for(timeout=60_000)
        shown = page.locator("body").inner_text()
        assert "it was not saved" in shown and "Traceback" not in shown
        assert "This app has encountered an error" not in shown
    finally:
        _set_outage(admin, name, down=False)
        admin.dispose()
    page.reload()
    page.get_by_text("Pair 1 of 10").wait_for(timeout=60_000)  # the same drill, at the same pair
    assert Store(url).count_judgments() == 0
    choose(page)
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Why:", exact=True).wait_for(timeout=60_000)
    assert Store(url).count_judgments() == 1
