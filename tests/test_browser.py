"""End to end in a real browser: Debian's Chromium driven by Playwright against ``streamlit run app.py``.

Join a cohort, answer three drill items (checking that no rationale is on the
page before each submit), open the report and download it. Skips when Chromium
or Playwright is missing, unless ``PAIRCAL_REQUIRE_BROWSER=1`` (set by ``.ci/run``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = ROOT / "docs" / "drill.png"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _require_browser():
    required = os.environ.get("PAIRCAL_REQUIRE_BROWSER") == "1"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if required:
            pytest.fail("playwright is missing but PAIRCAL_REQUIRE_BROWSER=1")
        pytest.skip("playwright is not installed")
    if not os.path.exists(CHROMIUM):
        if required:
            pytest.fail(f"{CHROMIUM} is missing but PAIRCAL_REQUIRE_BROWSER=1")
        pytest.skip("Debian's chromium package is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """A real ``streamlit run app.py`` on localhost with its own SQLite database."""
    _require_browser()
    db = f"sqlite:///{tmp_path / 'paircal.db'}"
    port = _free_port()
    env = {**os.environ, "PAIRCAL_DB_URL": db}
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("streamlit did not start")
        yield f"http://127.0.0.1:{port}", db
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield b
        b.close()


def test_join_drill_three_items_then_download_report(server, browser, tmp_path):
    url, db = server
    from pairs import accounts, drills
    from pairs.store import Store

    store = Store(db)
    store.ensure_starter_bank()
    _, invite = accounts.create_cohort(store, "e2e", "lead", "lead-password")
    bank = store.load_bank("starter").set_index("id")

    page = browser.new_page(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
    page.goto(url)
    page.get_by_role("tab", name="Join a cohort").click()
    page.get_by_label("Invite code").fill(invite)
    page.get_by_label("Display name").fill("dana")
    page.get_by_label("Password (at least 8 characters)").nth(0).fill("dana-password")
    page.get_by_label("Password again").fill("dana-password")
    page.get_by_role("button", name="Join").click()
    page.get_by_text("Pair 1 of 10").wait_for(timeout=30_000)

    rater = accounts.login(store, "e2e", "dana", "dana-password")
    drill = drills.get_or_create_drill(store, rater.id, "starter", datetime.now(UTC).date(), size=10)
    for position in range(3):
        page.get_by_text(f"Pair {position + 1} of 10").wait_for(timeout=30_000)
        rationale = bank.loc[drill.items[position].pair_id, "rationale"]
        body = page.inner_text("body")
        assert rationale[:60] not in body, "the rationale was on the page before submitting"
        assert "Why:" not in body
        if position == 0:  # the README's screenshot, refreshed with PAIRCAL_UPDATE_SCREENSHOT=1
            update = os.environ.get("PAIRCAL_UPDATE_SCREENSHOT") == "1"
            page.screenshot(path=str(SCREENSHOT if update else tmp_path / "drill.png"), full_page=True)
        page.get_by_text("Response 1 (left)", exact=True).click()
        page.get_by_role("button", name="Submit").click()
        page.get_by_text("Why:").wait_for(timeout=30_000)
        assert rationale[:60] in page.inner_text("body")
        page.get_by_role("button", name="Next pair").click()
    page.get_by_text("Pair 4 of 10").wait_for(timeout=30_000)
    assert store.count_judgments() == 3

    page.get_by_role("link", name="My report").click()
    page.get_by_role("heading", name="My report").wait_for(timeout=30_000)
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Bias report (HTML)").click()
    saved = tmp_path / "report.html"
    download.value.save_as(saved)
    html = saved.read_text()
    assert "PairCal bias report" in html and "dana" in html and "<svg" in html
