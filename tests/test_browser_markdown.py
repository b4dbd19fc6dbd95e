"""No page makes the browser fetch anything a pair, a rationale, a tag or a name points at.

A small HTTP server on 127.0.0.1 records every request it gets. Pair banks
whose prompts, responses, rationales and tags point images (and style sheets,
frames, fonts...) at it, in every form known to have slipped through before
and in forms Hypothesis makes up, are drilled in headless Chromium; the
rater's report and the lead's Pair bank page show them too. The recorder must
get no request, and Chromium must not try one. The text itself is checked to
be on the page, so a page that failed to draw would not pass for a safe one.

The pages are opened past the server's Content-Security-Policy, which would
refuse most of these fetches by itself: what is tested is what the pages draw.
Skips when Chromium or Playwright is missing, unless ``PAIRCAL_REQUIRE_BROWSER=1``.
The drill page with a formatted response is saved as a screenshot in the
test's temporary folder, or at ``PAIRCAL_MARKDOWN_SCREENSHOT`` when set.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import Phase, given, note, settings
from hypothesis import strategies as st
from test_browser import browser, choose, launch  # noqa: F401 (fixtures: Chromium, and servers on a fresh database)

from pairs.importers import read_bank
from storage.store import Store
from training import accounts, drills, onboarding
from views.rich_text import CLASS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# --------------------------------------------------------------------------- the recorder


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str]

    def _record(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        body = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
        body += b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"  # a 1x1 GIF: a fetch succeeds
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_OPTIONS = _record

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture
def recorder():
    """An HTTP server on 127.0.0.1 that answers everything and records each request."""
    seen: list[str] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    server.seen = seen  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


# --------------------------------------------------------------------------- how the app is used
# Kept in small helpers, so a change in signing in or in cohorts and banks is made here once.


def add_bank(store: Store, name: str, rows: list[dict], folder: Path) -> None:
    """Import ``rows`` (pairs as in a JSONL bank file) as bank ``name``."""
    path = folder / f"{name}.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    store.import_bank(name, read_bank(path))


def new_cohort(store: Store, name: str, bank: str, size: int, *raters: str, by=None):
    """A cohort drilling ``bank`` (``size`` pairs a day): its lead, then one rater per name. The
    first cohort of a server needs no ``by``; its lead is the admin, who creates the others. The
    raters have finished onboarding."""
    lead, invite = accounts.create_cohort(
        store, name, f"lead {name}", "lead-password", bank=bank, drill_size=size, by=by
    )
    joined = [accounts.join_cohort(store, invite, rater, "rater-password") for rater in raters]
    for rater in joined:  # through onboarding already: these pages are the drill and the others
        onboarding.finish(store, rater.id)
    return lead, *joined


def new_page(browser):  # noqa: F811
    """A page that ignores the server's Content-Security-Policy: the policy would refuse these
    fetches too, and this test is about what the pages draw, not about the policy."""
    return browser.new_page(viewport={"width": 1400, "height": 1100}, bypass_csp=True)


def open_as(page, server, store: Store, user) -> None:
    """Open the app in ``page``, signed in as ``user``."""
    from bench._server import sign_in_path  # a one-time address: serve.py sets the session cookie

    page.goto(server.url + sign_in_path(store, user.id))


def watch(page, recorder, tried: list[str]) -> list[str]:
    """Add to ``tried`` every request the page makes to the recorder or off this machine (refused)."""
    port = f":{recorder.server_address[1]}"

    def route(r):
        url = r.request.url
        if port in url:
            tried.append(url)
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            r.continue_()
        else:
            tried.append(url)
            r.abort()

    page.route("**/*", route)
    return tried


def body_text(page) -> str:
    return page.inner_text("body")


def drill_through(page, size: int, on_pair=None, on_feedback=None) -> None:
    """Answer every pair of the drill on screen, calling back with each pair and each feedback shown."""
    for position in range(size):
        page.get_by_text(f"Pair {position + 1} of {size}").wait_for(timeout=30_000)
        blocks(page, 3)  # the prompt and the two responses
        if on_pair:
            on_pair(position)
        choose(page)
        page.get_by_role("button", name="Submit").click()
        page.get_by_text("Why:", exact=True).wait_for(timeout=30_000)
        blocks(page, 5)  # and the rationale and the tags
        if on_feedback:
            on_feedback(position)
        page.get_by_role("button", name="Next pair" if position < size - 1 else "Finish").click()
        page.get_by_text("Why:", exact=True).wait_for(state="detached", timeout=30_000)


def blocks(page, n: int) -> None:
    """Wait until ``n`` blocks of pair text are drawn outside the sidebar (st.html draws
    once its code has loaded)."""
    page.wait_for_function(
        f"() => Array.from(document.querySelectorAll('.{CLASS}'))"
        f".filter((e) => !e.closest('[data-testid=stSidebar]')).length >= {n}",
        timeout=30_000,
    )


def settle(page) -> None:
    """Scroll every scrolling box of the page from top to bottom (a lazy image loads only near the
    screen), then give what the page asked for the time to be requested."""
    page.evaluate(SCROLL_THROUGH)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)


TO_TOP = "() => document.querySelectorAll('*').forEach((box) => { box.scrollTop = 0; })"
SCROLL_THROUGH = """async () => {
  const boxes = [document.scrollingElement, ...document.querySelectorAll("*")]
    .filter((box) => box && box.scrollHeight > box.clientHeight + 10);
  for (const box of boxes) {
    for (let y = 0; y <= box.scrollHeight; y += 300) {
      box.scrollTop = y;
      await new Promise((done) => setTimeout(done, 15));
    }
  }
}"""


# --------------------------------------------------------------------------- payloads

FORMATTED = (
    "## A formatted answer\n\nUse **`sorted()`** when you need a *new* list; it leaves the original "
    "alone.\n\n"
    "1. Call `sorted(items)`\n2. Keep the result\n\n- fast\n- stable 🎉\n\n"
    "```python\nitems = [3, 1, 2]\nprint(sorted(items))  # [1, 2, 3]\n```\n\n"
    "| method | returns | in place |\n| :--- | :---: | ---: |\n| `sort()` | `None` | yes |\n"
    "| `sorted()` | a new list | no |\n\n> Costs $1.10 - $0.05, not a formula.\n\n"
    "![a chart](R/formatted.png)"
)


def payloads(r: str) -> list[str]:
    """Text that once made, or could make, a browser fetch from ``r`` (the recorder's URL)."""
    host = r.removeprefix("http://")
    texts = [
        "a \\` b ![x](R/escaped-backtick.png) c `",  # the two bypasses
        "```py`\n![x](R/fence-info.png)\n```",
        "![ref][r]\n\n[r]: R/reference.png\n\n![r][]\n\n![r]",
        "<img src=R/html-img.png> <img srcset='R/srcset.png 1x'> <picture><source srcset=R/source.png>",
        "<R/autolink.png> ![angle](<R/angle.png>) [![badge](R/badge.png)](R/badge-link)",
        "<style>@import url(R/import.css); body{background:url(R/bg.png)}</style>"
        '<div style="background:url(R/inline-style.png)">styled</div>',
        "<iframe src=R/frame></iframe><video poster=R/poster.png src=R/video.mp4></video>"
        "<link rel=stylesheet href=R/sheet.css><object data=R/object></object><embed src=R/embed>",
        f"![protocol-relative](//{host}/protocol-relative.png) <svg><image href=R/svg.png /></svg>",
        "$$\\href{R/katex}{x}$$ :red[![directive](R/directive.png)] :material/home:",
        FORMATTED,
        "````\n```\n![in code](R/in-code.png)\n```\n````\nthen ![after](R/after-fence.png)",
    ]
    return [text.replace("R/", f"{r}/") for text in texts]


def bank_rows(texts: list[str], r: str, prefix: str, weak: str | None = None) -> list[dict]:
    """One pair per text, in its prompt, response A and rationale; a tag of its own pointing at
    ``r``, and ``weak`` on every other pair."""
    rows = []
    for i, text in enumerate(texts):
        tags = [f"![t{i}]({r}/tag-{prefix}{i}.png)"] + ([weak] if weak and i % 2 == 0 else [])
        rows.append(
            {
                "id": f"{prefix}{i}",
                "prompt": f"Prompt {prefix}{i}: {text}",
                "response_a": f"Answer {prefix}{i}:\n\n{text}",
                "response_b": f"Plain answer {prefix}{i}.",
                "gold": "A",
                "rationale": f"Because {prefix}{i}: {text}",
                "tags": tags,
            }
        )
    return rows


def test_known_payloads_fetch_nothing_on_the_drill_the_report_and_the_bank_page(
    launch,  # noqa: F811
    browser,  # noqa: F811
    recorder,
    tmp_path,
):
    r = recorder.url
    server = launch()
    store = Store(server.db)
    store.ensure_starter_bank()
    texts = payloads(r)
    weak = f"![weak]({r}/weak-tag.png)"
    rows = bank_rows(texts, r, "k", weak=weak)
    formatted = f"k{[t.startswith('## A formatted answer') for t in texts].index(True)}"
    # Pair "all" (first in the bank, so the Pair bank page opens on it) holds every payload; the
    # fence-info bypass last, since the unclosed fence it ends with turns what follows into code.
    everything = "\n\n".join(texts[:1] + texts[2:] + texts[1:2])
    rows.insert(
        0,
        {
            **rows[0],
            "id": "all",
            "prompt": everything,
            "response_a": everything,
            "rationale": f"Because all: {everything}",
        },
    )
    add_bank(store, "payloads", rows, tmp_path)
    lead, rita, wes = new_cohort(
        store, f"![c]({r}/cohort.png)", "payloads", len(rows), f"![n]({r}/name.png)", "wes"
    )

    # Wes's answers, stored directly: wrong on every pair with the weak tag, right on the others,
    # so his report names that tag as a weak spot.
    today = datetime.now(UTC).date()
    drill = drills.get_or_create_drill(store, wes.id, "payloads", today, size=len(rows))
    by_id = {row["id"]: row for row in rows}
    for item in drill.items:
        choice = "B" if weak in by_id[item.pair_id]["tags"] else "A"
        drills.submit(store, wes.id, drill.key, item.position, choice=choice, confidence=0.9)

    page = new_page(browser)
    tried = watch(page, recorder, [])
    screenshot = Path(os.environ.get("PAIRCAL_MARKDOWN_SCREENSHOT") or tmp_path / "drill-markdown.png")
    shots: list[Path] = []

    def on_pair(position: int) -> None:
        text = body_text(page)
        assert "Plain answer" in text and ("[image:" in text or r in text)  # the payload is drawn
        if f"Prompt {formatted}:" in text and not shots:  # the drill page with a formatted response
            page.evaluate(TO_TOP)
            page.screenshot(path=str(screenshot), full_page=True)
            shots.append(screenshot)

    def on_feedback(position: int) -> None:
        text = body_text(page)
        assert "Because" in text and "Trap: ![t" in text and f"]({r}/tag-" in text  # tags as written

    open_as(page, server, store, rita)
    drill_through(page, len(rows), on_pair, on_feedback)
    page.get_by_text("Today's drill is done").wait_for(timeout=30_000)
    page.get_by_role("link", name="Leaderboard").click()
    page.get_by_role("heading", name="Leaderboard").first.wait_for(timeout=30_000)
    assert f"({r}/cohort.png)" in body_text(page)  # the cohort's name, as written
    settle(page)
    assert shots, "the formatted response was never on screen"
    assert (tried, recorder.seen) == ([], []), "the drill or the leaderboard fetched"

    report = new_page(browser)
    watch(report, recorder, tried)
    open_as(report, server, store, wes)
    report.get_by_role("link", name="My report").click()
    report.get_by_text("You miss these trap kinds more than others").first.wait_for(timeout=60_000)
    settle(report)
    assert (tried, recorder.seen) == ([], []), "My report fetched"
    assert weak in body_text(report)  # the tag, shown as written

    bank_page = new_page(browser)
    watch(bank_page, recorder, tried)
    open_as(bank_page, server, store, lead)
    bank_page.get_by_role("link", name="Pair bank").click()
    bank_page.get_by_test_id("stSelectbox").first.click()  # the Bank box: pick "payloads"
    bank_page.get_by_role("option", name="payloads").click()
    bank_page.get_by_text("Because all:").wait_for(timeout=30_000)
    shown = body_text(bank_page)
    assert "Because all:" in shown and "[image: x]" in shown and "styled" in shown
    settle(bank_page)
    assert (tried, recorder.seen) == ([], []), "the Pair bank page fetched"
    assert "Traceback" not in server.log


# --------------------------------------------------------------------------- made-up payloads

PIECES = [
    "![", "]", "[", "(", ")", "<", ">", "`", "``", "```", "~~~", "\n", "\n\n", "    ", "> ", "- ", "1. ",
    "*", "_", "\\", '"', "'", " ", "alt", "]:", "[r]: ", "[r]", "!", "#", "|", "|---|", "$", "$$", ":",
    "=", "&", "&#33;", "<img src=", "srcset=", "url(", "<style>", "<svg>", "<!--", "-->", "😀", "é",
    "RECORDER/p.png", "//HOST/q.png", ":red[", "\\href{",
]  # fmt: skip
IMAGES = [
    "![g](RECORDER/g.png)", "![g][i]\n\n[i]: RECORDER/ref.png", "<img src=RECORDER/raw.png>",
    "![g](<RECORDER/angle.png>)", "![g](//HOST/pr.png)", "<RECORDER/auto.png>",
    '<div style="background:url(RECORDER/style.png)">', "```x`\n![f](RECORDER/fence.png)\n```",
    "\\`![e](RECORDER/esc.png)`",
]  # fmt: skip
prose = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
payload = st.tuples(prose, st.sampled_from(IMAGES), prose).map("".join)
"""Random Markdown and HTML around one image (or style sheet) pointing at the recorder."""


def test_made_up_payloads_fetch_nothing_on_the_drill(launch, browser, recorder, tmp_path):  # noqa: F811
    """A few examples only: each is a bank, a cohort and a drill of three pairs in the browser."""
    server = launch()
    store = Store(server.db)
    store.ensure_starter_bank()
    host = recorder.url.removeprefix("http://")
    made: list = []  # the lead of each cohort made; the first is the admin

    @settings(max_examples=3, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate])
    @given(texts=st.lists(payload, min_size=3, max_size=3))
    def drill_them(texts: list[str]) -> None:
        texts = [t.replace("RECORDER", recorder.url).replace("HOST", host) for t in texts]
        note(repr(texts))
        k = len(made)
        add_bank(store, f"made-up-{k}", bank_rows(texts, recorder.url, f"m{k}-"), tmp_path)
        lead, rater = new_cohort(
            store, f"made up {k}", f"made-up-{k}", len(texts), f"rater {k}", by=made[0] if made else None
        )
        made.append(lead)
        page = new_page(browser)
        tried = watch(page, recorder, [])
        open_as(page, server, store, rater)
        drill_through(page, len(texts), on_feedback=lambda _: None)
        page.get_by_text("Today's drill is done").wait_for(timeout=30_000)
        settle(page)
        page.close()
        assert (tried, recorder.seen) == ([], []), "the drill fetched"

    drill_them()
    assert len(made) == 3
    assert "Traceback" not in server.log
