"""End to end in a real browser: Debian's Chromium driven by Playwright against ``streamlit run serve.py``.

Join a cohort, answer three drill items (checking that no rationale is on the
page before each submit), open the report and download it. Skips when Chromium
or Playwright is missing, unless ``PAIRCAL_REQUIRE_BROWSER=1`` (set by ``.ci/run``).
"""

from __future__ import annotations

import html
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench._server import CHROMIUM, CHROMIUM_ARGS, Server, sign_in_path
from training import onboarding

ROOT = Path(__file__).resolve().parent.parent
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


@pytest.fixture
def launch(tmp_path):
    """Start servers on a fresh SQLite database (or ``db``); all are stopped at the end."""
    _require_browser()
    started: list[Server] = []

    def start(*args: str, db: str | None = None) -> Server:
        log = tmp_path / f"server-{len(started)}.log"
        server = Server(db or f"sqlite:///{tmp_path / 'paircal.db'}", log, *args).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(launch, db_url):
    """One server, on SQLite and on PostgreSQL: the whole app runs unchanged on either."""
    s = launch(db=db_url)
    return s.url, s.db


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def feedback(page):
    """The feedback's bold "Why:" label; a pair's own text may say "why:" too (exact match only)."""
    return page.get_by_text("Why:", exact=True)


def choose(page, place: int = 1, confidence: str = "80%") -> None:
    """Click the ``place``-th response shown (1 or 2; each is named by its letter, A or B, in either
    order) and a confidence (each a run of the page); wait until both show as chosen."""
    page.locator(f".st-key-pick_{place} button").click()
    page.locator(f'.st-key-pick_{place} [data-testid="stBaseButton-primary"]').wait_for(timeout=30_000)
    page.get_by_role("button", name=confidence).click()
    page.locator('[data-testid="stBaseButton-primary"]', has_text=confidence).wait_for(timeout=30_000)


def _next(page, label: str = "Next pair") -> None:
    """Leave the feedback: wait until it is gone, not only until the next pair shows (a rerun
    keeps the old elements on the page until the new ones replace them)."""
    page.get_by_role("button", name=label).click()
    feedback(page).wait_for(state="detached", timeout=30_000)


def _spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _as_shown(markdown: str) -> str:
    """A rationale's text as the page draws it: its Markdown rendered (code spans lose their
    backticks), tags dropped, whitespace collapsed. Which pairs a drill draws depends on the date,
    so the rationale checked may hold any Markdown."""
    from pairs.markdown import markdown_to_html

    return _spaced(html.unescape(re.sub(r"<[^>]+>", "", markdown_to_html(markdown)))).strip()


def test_join_drill_three_items_then_download_report(server, browser, tmp_path):
    url, db = server
    from storage.store import Store
    from training import accounts, drills

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
    page.get_by_role("heading", name="How to rate").wait_for(timeout=30_000)  # a new rater's first page

    rater = accounts.login(store, "e2e", "dana", "dana-password")
    onboarding.finish(store, rater.id)  # onboarding's own walk is tests/test_browser_onboarding.py
    page.get_by_role("link", name="Drill").click()
    page.get_by_text("Pair 1 of 10").wait_for(timeout=30_000)
    drill = drills.get_or_create_drill(store, rater.id, "starter", datetime.now(UTC).date(), size=10)
    for position in range(3):
        page.get_by_text(f"Pair {position + 1} of 10").wait_for(timeout=30_000)
        rationale = _as_shown(bank.loc[drill.items[position].pair_id, "rationale"])[:60]
        body = _spaced(page.inner_text("body"))
        assert rationale not in body, "the rationale was on the page before submitting"
        assert feedback(page).count() == 0
        if position == 0:  # the README's screenshot, refreshed with PAIRCAL_UPDATE_SCREENSHOT=1
            update = os.environ.get("PAIRCAL_UPDATE_SCREENSHOT") == "1"
            page.set_viewport_size({"width": 1400, "height": 1600})  # tall enough for the buttons too
            page.get_by_role("button", name="Submit").wait_for(timeout=30_000)
            page.screenshot(path=str(SCREENSHOT if update else tmp_path / "drill.png"), full_page=True)
            page.set_viewport_size({"width": 1400, "height": 1100})
        choose(page)
        page.get_by_role("button", name="Submit").click()
        feedback(page).wait_for(timeout=30_000)
        assert rationale in _spaced(page.inner_text("body"))
        _next(page)
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


# -- crashes ---------------------------------------------------------------------------


def _answer(page, position: int, size: int, place: int = 1) -> None:
    page.get_by_text(f"Pair {position + 1} of {size}").wait_for(timeout=30_000)
    choose(page, place)
    page.get_by_role("button", name="Submit").click()
    feedback(page).wait_for(timeout=30_000)


def test_sigkill_mid_drill_loses_nothing_and_the_drill_resumes(launch, browser, tmp_path):
    """Kill -9 the server three times in a drill: at a fresh pair, while the gold shows, and just
    after a click on Submit. Every stored answer survives; the drill goes on at the next
    unanswered pair, with the same pairs in the same order; nothing is stored twice."""
    import sqlalchemy as sa

    from storage.store import Store, judgments
    from training import accounts, drills

    server = launch()
    store = Store(server.db)
    store.ensure_starter_bank()
    _, invite = accounts.create_cohort(store, "crash", "lead", "lead-password")
    rater = accounts.join_cohort(store, invite, "kim", "kim-password")
    onboarding.finish(store, rater.id)  # finished onboarding: these tests are about other pages
    signed_in = server.url  # the session cookie outlives the restarts (same port)
    today = datetime.now(UTC).date()
    drill = drills.get_or_create_drill(store, rater.id, "starter", today, size=10)
    planned = [i.pair_id for i in drill.items]

    def restart_and_reload(page) -> None:
        server.kill()
        server.start()
        page.goto(signed_in)

    def stored() -> list[str]:
        drill = drills.get_or_create_drill(store, rater.id, "starter", today, size=10)
        assert [i.pair_id for i in drill.items] == planned  # the same drill after every restart
        return [i.pair_id for i in drill.items if i.choice is not None]

    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(server.url + sign_in_path(store, rater.id))
    for position in range(3):
        _answer(page, position, 10)
        _next(page)
    page.get_by_text("Pair 4 of 10").wait_for(timeout=30_000)

    restart_and_reload(page)  # 1: killed while a fresh pair is on screen
    page.get_by_text("Pair 4 of 10").wait_for(timeout=30_000)
    assert stored() == planned[:3]

    _answer(page, 3, 10)
    restart_and_reload(page)  # 2: killed while the gold of pair 4 is showing
    page.get_by_text("Pair 5 of 10").wait_for(timeout=30_000)
    assert stored() == planned[:4]

    page.get_by_text(f"Pair {5} of 10").wait_for(timeout=30_000)
    choose(page, 2)
    page.get_by_role("button", name="Submit").click()
    restart_and_reload(page)  # 3: killed right after the click, before or after the write
    done = stored()
    assert done in (planned[:4], planned[:5])
    page.get_by_text(f"Pair {len(done) + 1} of 10").wait_for(timeout=30_000)
    if len(done) == 4:  # the click never reached the database: answer it again
        _answer(page, 4, 10)
        _next(page)
    page.get_by_text("Pair 6 of 10").wait_for(timeout=30_000)
    assert stored() == planned[:5]

    with store.read() as conn:
        rows = conn.execute(sa.select(judgments.c.pair_id).where(judgments.c.rater_id == rater.id)).all()
        assert sorted(r[0] for r in rows) == sorted(planned[:5])  # no duplicates
        if server.db.startswith("sqlite"):
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    assert "kim-password" not in server.log and "scrypt$" not in server.log and "$argon2" not in server.log
    assert "Traceback" not in server.log


# -- bad input -----------------------------------------------------------------------------

HOSTILE = [
    "<script>window.__pwned = 'script'</script>after a script tag",
    "<img src=x onerror=\"window.__pwned = 'img'\"> an img tag",
    "![tracker](http://evil.example/pixel.png) a markdown image",
    "a reference image ![alt][r]\n\n[r]: http://evil.example/ref.png",
    "![](//evil.example/protocol-relative.png) a protocol-relative image",
    '<iframe src="http://evil.example/frame"></iframe> an iframe',
    "[click me](javascript:window.__pwned='js') a javascript link",
    "[the docs](http://evil.example/docs) a remote link",
    '<a href="http://evil.example/a">an anchor</a>',
    "<style>body{background:url(http://evil.example/bg.png)}</style> a style tag",
    "<svg onload=\"window.__pwned = 'svg'\"></svg> an svg",
    '<video src="http://evil.example/v.mp4" autoplay></video> a video',
    "<link rel=stylesheet href=http://evil.example/s.css> a link tag",
    "$$\\href{javascript:alert(1)}{x}$$ katex",
    "<https://evil.example/autolink> an autolink",
    "code:\n```\n![in code](http://evil.example/code.png)\n```\nand `![inline](http://evil.example/i.png)`",
]


def _hostile_bank(path: Path) -> Path:
    import json

    rows = [
        {
            "id": f"h{i}",
            "prompt": f"Prompt {i}: {text}",
            "response_a": f"Answer {i}: {text}",
            "response_b": f"Plain answer {i}.",
            "gold": "A",
            "rationale": f"Because {text}",
            "tags": ["control"],
        }
        for i, text in enumerate(HOSTILE)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _watch(page) -> dict:
    """Block and record every request that leaves localhost; record dialogs (alert, confirm)."""
    seen: dict[str, list] = {"remote": [], "dialogs": []}

    def route(r):
        if r.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            r.continue_()
        else:
            seen["remote"].append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    return seen


def test_hostile_pair_text_runs_nothing_and_fetches_nothing(launch, browser, tmp_path):
    """Pairs full of HTML, scripts, remote images and links, drilled by a rater whose display name
    is itself a remote image, then browsed by the lead: no script runs, no dialog opens, no request
    leaves localhost, and the HTML is there to read as text."""
    from pairs.importers import read_bank
    from storage.store import Store
    from training import accounts

    server = launch()
    store = Store(server.db)
    store.ensure_starter_bank()
    store.import_bank("hostile", read_bank(_hostile_bank(tmp_path / "hostile.jsonl")))
    lead, invite = accounts.create_cohort(
        store, "![c](http://evil.example/cohort.png)", "lead", "lead-password", bank="hostile", drill_size=16
    )
    rater = accounts.join_cohort(store, invite, "![n](http://evil.example/name.png)", "rater-password")
    onboarding.finish(store, rater.id)  # finished onboarding: these tests are about other pages

    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    seen = _watch(page)
    page.goto(server.url + sign_in_path(store, rater.id))
    for position in range(len(HOSTILE)):
        _answer(page, position, len(HOSTILE))
        _next(page, "Next pair" if position < len(HOSTILE) - 1 else "Finish")
    page.get_by_text("Today's drill is done").wait_for(timeout=30_000)
    page.get_by_role("link", name="Leaderboard").click()
    page.get_by_role("heading", name="Leaderboard").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)

    lead_page = browser.new_page(viewport={"width": 1400, "height": 1100})
    lead_seen = _watch(lead_page)
    lead_page.goto(server.url + sign_in_path(store, lead.id))
    lead_page.get_by_role("link", name="Pair bank").click()
    lead_page.get_by_text("Show pair").wait_for(timeout=30_000)
    lead_page.get_by_role("link", name="Lead console").click()
    lead_page.get_by_role("tab", name="Gold audit").click()
    lead_page.wait_for_timeout(1000)

    for p, s in ((page, seen), (lead_page, lead_seen)):
        assert p.evaluate("window.__pwned") is None
        assert s["dialogs"] == [] and s["remote"] == []
    assert page.locator("img[src*='evil'], iframe, video, object").count() == 0
    assert "Traceback" not in server.log


def test_hostile_html_shows_as_text_in_the_drill(launch, browser, tmp_path):
    from pairs.importers import read_bank
    from storage.store import Store
    from training import accounts

    server = launch()
    store = Store(server.db)
    store.ensure_starter_bank()
    store.import_bank("hostile", read_bank(_hostile_bank(tmp_path / "hostile.jsonl")))
    _, invite = accounts.create_cohort(store, "c", "lead", "lead-password", bank="hostile", drill_size=16)
    rater = accounts.join_cohort(store, invite, "rita", "rater-password")
    onboarding.finish(store, rater.id)  # finished onboarding: these tests are about other pages
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    _watch(page)
    page.goto(server.url + sign_in_path(store, rater.id))
    shown = []
    for position in range(len(HOSTILE)):
        _answer(page, position, len(HOSTILE))
        shown.append(page.inner_text("body"))
        _next(page, "Next pair" if position < len(HOSTILE) - 1 else "Finish")
    text = "\n".join(shown)
    assert "<script>window.__pwned = 'script'</script>after a script tag" in text
    assert '<iframe src="http://evil.example/frame"></iframe>' in text
    assert "[image: tracker]" in text and "[image: alt]" in text
    assert "![in code](http://evil.example/code.png)" in text  # code is shown as written
    assert "![inline](http://evil.example/i.png)" in text


def test_an_upload_over_the_size_limit_is_refused_with_a_message(launch, browser, tmp_path):
    """The limit is Streamlit's server.maxUploadSize (100 MB in .streamlit/config.toml); run at 1 MB."""
    from storage.store import Store
    from training import accounts

    server = launch("--server.maxUploadSize", "1")
    store = Store(server.db)
    store.ensure_starter_bank()
    lead, _ = accounts.create_cohort(store, "c", "lead", "lead-password")
    big = tmp_path / "big.jsonl"
    line = '{"prompt": "p", "response_a": "%s", "response_b": "b", "gold": "A"}\n' % ("x" * 1000)
    big.write_text(line * 1600)  # about 1.6 MB
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(server.url + sign_in_path(store, lead.id))
    page.get_by_role("link", name="Lead console").click()
    page.get_by_role("tab", name="Import a bank").click()
    page.locator("input[type=file]").set_input_files(str(big))
    page.get_by_text("1.0MB or smaller", exact=False).or_(page.get_by_text("1MB or smaller")).first.wait_for(
        timeout=30_000
    )
    assert store.bank_names() == ["starter"]
