"""Benchmark the drill in a real browser, against a one-button Streamlit app (the floor).

Run: ``python bench/bench_drill.py [--quick] [--json OUT]``. It needs Debian's
Chromium (``/usr/bin/chromium``) and Playwright, and no network: the data (a
temporary SQLite database holding a copy of the starter bank, a cohort and
its raters) are made here and deleted at the end.

What is measured
----------------
Two servers run side by side on localhost, ``streamlit run serve.py`` on the
temporary database and ``streamlit run bench/trivial_app.py``, each driven by
its own page in one headless Chromium. Each run signs a fresh rater in (the
one-time sign-in address) and answers a whole daily drill; after every drill item the
trivial app's button is clicked once, so the two apps share the machine's
load. The first ``--warmup`` interactions of each kind are not counted.

* **submit → gold**: from the ``click`` event on *Submit* (a capture listener
  in the page, ``performance.now()``) to the first animation frame in which
  the feedback's ``Why:`` line is in the page and visible (a
  ``MutationObserver`` checks after every DOM change, the frame is the next
  ``requestAnimationFrame``). No ``Why:`` line is on the page before the click.
  Before it the rater clicks a response and a confidence (no confidence is
  preselected), each a run of the page that has finished before *Submit*.
* **next → pair**: from the click on *Next pair* to the first frame in which
  the next pair's heading (``Pair k of N``), its prompt (every prompt of the
  benchmark's bank starts with its own line ``Bench pair NNN``, so it differs
  from the previous pair's) and the *Submit* button below both responses are
  visible.
* **trivial**: from the click on *Click me* to the first frame showing
  ``Clicked N times`` (new text at every click). This is the baseline of both.
* **cold start**: from just before ``Popen`` of the server to the first frame
  in which the first drill page is drawn for a rater signed in by URL, whose
  drill is created by that request (the page is opened once the server's
  health check answers; a new browser context, so no cached files). The
  baseline is the trivial app from ``Popen`` to its button. The browser
  itself is already running; the OS file cache is warm after the first launch.

Timestamps in the page need no polling from Python, so Playwright's waiting
adds nothing. Both servers run with ``--server.fileWatcherType none``, so
edits elsewhere in the tree cannot make them rerun. Each figure is the median
over ``--runs`` runs of that run's percentile (``--launches`` launches for
cold start); a ratio is the median of the per-run ratios, each measured in the
same run, so it need not equal ours / baseline of the medians.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench import _table  # noqa: E402
from bench._server import CHROMIUM, CHROMIUM_ARGS, Server  # noqa: E402

TRIVIAL_APP = "bench/trivial_app.py"
BANK = "bench"
TARGET_RATIO = {"submit": 1.3, "next": 1.5}
"""p50 within this multiple of the trivial app's p50: submit -> gold at most 1.3x (the layout issue
keeps the 1.27x it measured before), next -> next pair at most 1.5x."""
TARGET_COLD_S = 5.0
"""Cold start of the drill page in under this many seconds."""
QUIET = ("--server.fileWatcherType", "none")
"""Servers ignore file changes elsewhere in the tree, which would make them rerun mid-measurement."""
MAX_DRILL = 50
"""Largest drill size a cohort allows (training.accounts)."""


# Installed in every page before its own scripts. ``arm(want)`` starts a measurement: the next
# click sets t0; after each DOM change the page is checked for every ``want`` element (a CSS
# selector and a text: exact, prefix or contained) being visible; the first time all are, tDom is
# set and t1 at the next animation frame, the frame that paints them. tMsg is the arrival of the
# last WebSocket message before that: t0 to tMsg is mostly the server, tMsg to t1 the browser.
INSTRUMENT = """
(() => {
  if (window.__bench) return;
  const b = (window.__bench = { want: [], t0: null, tMsg: null, tDom: null, t1: null, armed: false });
  const test = {
    exact: (s, t) => s === t, prefix: (s, t) => s.startsWith(t), contains: (s, t) => s.includes(t),
  };
  const matches = (text, w) => test[w.mode](text, w.text);
  const found = (w) => {
    for (const el of document.querySelectorAll(w.selector)) {
      if (matches(el.textContent.trim(), w) && el.checkVisibility()) return true;
    }
    return false;
  };
  b.check = () => {
    if (!b.armed || b.t0 === null || b.tDom !== null || !b.want.every(found)) return;
    b.tDom = performance.now();
    requestAnimationFrame(() => { b.t1 = performance.now(); });
  };
  b.arm = (want, now) => {
    const t0 = now ? performance.now() : null;
    Object.assign(b, { want, t0, tMsg: null, tDom: null, t1: null, armed: true });
    b.check();
  };
  // tMsg: the last message from the server before the target was drawn.
  const heard = () => { if (b.armed && b.t0 !== null && b.tDom === null) b.tMsg = performance.now(); };
  window.WebSocket = class extends window.WebSocket {
    constructor(...args) { super(...args); this.addEventListener("message", heard); }
  };
  window.addEventListener("click", () => { if (b.armed && b.t0 === null) b.t0 = performance.now(); }, true);
  new MutationObserver(() => b.check()).observe(document, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
})();
"""

MARKDOWN = '[data-testid="stMarkdownContainer"]'
HTML = '[data-testid="stHtml"]'  # pair text: views/rich_text.py draws it with st.html
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
GOLD = [{"selector": HTML, "text": "Why:", "mode": "prefix"}]  # the reason, after its label
BUTTON = [{"selector": "button", "text": "Click me", "mode": "exact"}]


def marker(position: int) -> str:
    """The first line of the benchmark bank's prompt number ``position`` (0-based)."""
    return f"Bench pair {position + 1:03d}"


def pair_shown(heading: str, prompt_marker: str) -> list[dict]:
    return [
        {"selector": "h3", "text": heading, "mode": "contains"},
        {"selector": HTML, "text": prompt_marker, "mode": "prefix"},
        {"selector": "button", "text": "Submit", "mode": "prefix"},  # then its key hint, "Enter"
    ]


def clicked(n: int) -> list[dict]:
    return [{"selector": MARKDOWN, "text": f"Clicked {n} times", "mode": "exact"}]


# -- servers and data ----------------------------------------------------------------------


def make_data(store, drill_size: int) -> str:
    """The benchmark bank (the starter bank, each prompt headed by its marker) and a cohort on it.

    Returns the cohort's invite code.
    """
    from pairs.bank import STARTER_BANK_PATH
    from pairs.importers import read_bank
    from training import accounts

    store.ensure_starter_bank()
    bank = read_bank(STARTER_BANK_PATH, "jsonl")
    bank["prompt"] = [f"{marker(i)}\n\n{p}" for i, p in enumerate(bank["prompt"])]
    store.import_bank(BANK, bank)
    _, invite = accounts.create_cohort(
        store, "bench", "lead", "lead-password", bank=BANK, drill_size=drill_size
    )
    return invite


def new_rater(store, invite: str, name: str) -> tuple[int, str]:
    """A rater who joined the cohort, and a path that signs a browser in as them (once, for 2 minutes)."""
    from bench._server import sign_in_path
    from training import accounts, onboarding

    rater = accounts.join_cohort(store, invite, name, "bench-password")
    onboarding.finish(store, rater.id)  # the benchmark times the drill, not onboarding
    return rater.id, sign_in_path(store, rater.id)


# -- the browser ---------------------------------------------------------------------------


def open_page(context, url: str):
    page = context.new_page()
    page.add_init_script(INSTRUMENT)
    page.goto(url, wait_until="commit")
    return page


def wait_drawn(page, want: list[dict], *, arm_now: bool = False, timeout_ms: int = 60_000) -> dict:
    """Wait until the armed measurement has its frame; the page's timestamps (ms)."""
    if arm_now:
        page.evaluate("w => window.__bench.arm(w, true)", want)
    page.wait_for_function("() => window.__bench.t1 !== null", polling="raf", timeout=timeout_ms)
    return page.evaluate("() => ({...window.__bench, want: null, origin: performance.timeOrigin})")


def timed_click(page, locator, want: list[dict]) -> tuple[float, float]:
    """Milliseconds from the click on ``locator`` to the frame showing every ``want`` element,
    and from the click to the last server message before it."""
    page.bring_to_front()  # a page behind another has its timers throttled to once a second
    page.evaluate("w => window.__bench.arm(w, false)", want)
    locator.click()
    stamps = wait_drawn(page, want)
    if stamps["t0"] is None or stamps["tMsg"] is None:
        raise RuntimeError("the page saw no click, or no answer from the server")
    page.wait_for_selector(IDLE, timeout=60_000)  # the run has finished: the next click starts clean
    return stamps["t1"] - stamps["t0"], stamps["tMsg"] - stamps["t0"]


def run_interactions(
    browser, store, invite: str, ours_url: str, trivial_url: str, *, run: int, n: int, warmup: int
):
    """One run: a fresh rater answers a drill of ``warmup + n + 1`` pairs, the trivial app clicked alongside.

    Returns the counted samples as ``{"submit": [...], "next": [...], "trivial": [...]}``, each a
    list of (click to drawn, click to the last server message before it) in ms.
    """
    from training import drills

    size = warmup + n + 1
    rater_id, signed_in = new_rater(store, invite, f"rater {run}")
    today = datetime.now(UTC).date()
    index = {pair_id: i for i, pair_id in enumerate(store.load_bank(BANK)["id"])}
    order = {  # drill position -> the pair's place in the bank, which its marker names
        item.position: index[item.pair_id]
        for item in drills.get_or_create_drill(store, rater_id, BANK, today, size=size).items
    }
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    ours = open_page(context, f"{ours_url}{signed_in}")
    trivial = open_page(context, trivial_url)
    wait_drawn(ours, pair_shown(f"Pair 1 of {size}", marker(order[0])), arm_now=True)
    wait_drawn(trivial, BUTTON, arm_now=True)
    for page in (ours, trivial):
        page.wait_for_selector(IDLE, timeout=60_000)
        if page.evaluate("document.visibilityState") != "visible":
            raise RuntimeError("a benchmark page is hidden; its animation frames would be throttled")

    # kind -> (click to drawn, click to the last server message before it), ms
    samples: dict[str, list[tuple[float, float]]] = {"submit": [], "next": [], "trivial": []}
    for position in range(warmup + n):
        place = 1 if position % 2 == 0 else 2  # the first or the second response shown: right and wrong
        choices = (
            (f".st-key-pick_{place} button", f".st-key-pick_{place}"),
            (".st-key-confidence_80 button", ".st-key-confidence_80"),
        )
        for button, holder in choices:  # each choice is a run of its own, finished before Submit
            ours.locator(button).click()
            ours.locator(f'{holder} [data-testid="stBaseButton-primary"]').wait_for(timeout=60_000)
            ours.wait_for_selector(IDLE, timeout=60_000)
        submit = timed_click(ours, ours.get_by_role("button", name="Submit"), GOLD)
        shown = pair_shown(f"Pair {position + 2} of {size}", marker(order[position + 1]))
        after_next = timed_click(ours, ours.get_by_role("button", name="Next pair"), shown)
        floor = timed_click(trivial, trivial.get_by_role("button", name="Click me"), clicked(position + 1))
        if position >= warmup:
            samples["submit"].append(submit)
            samples["next"].append(after_next)
            samples["trivial"].append(floor)
    context.close()

    answered = drills.get_or_create_drill(store, rater_id, BANK, today, size=size).answered
    if answered != warmup + n:  # every answer is in the database, not only on the screen
        raise RuntimeError(f"{warmup + n} answers given, {answered} stored")
    return samples


def cold_start(browser, server: Server, want: list[dict]) -> float:
    """Seconds from Popen to the first frame of ``want`` on a page opened as soon as the server is up."""
    server.start()
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1100})
        page = open_page(context, server.url + server.path)
        stamps = wait_drawn(page, want, arm_now=True)
        context.close()
    finally:
        server.stop()
    return (stamps["origin"] + stamps["t1"]) / 1000 - server.launched_at


# -- figures -------------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples, dtype=float), q))


KINDS = {"submit": "submit → gold visible", "next": "next → next pair visible"}


def rows_of(runs: list[dict], colds: dict[str, list[float]], n: int, launches: int) -> list[dict]:
    """The result rows (:mod:`bench._table`): times in ms, cold start in s."""
    med = _table.median
    per_run = f"median over {len(runs)} run(s) of each run's percentile over {n} interactions"
    rows = []
    for kind, what in KINDS.items():
        for q in (50, 95):
            ours = [percentile([drawn for drawn, _ in r[kind]], q) for r in runs]
            base = [percentile([drawn for drawn, _ in r["trivial"]], q) for r in runs]
            ratio = med([o / b for o, b in zip(ours, base, strict=True)])
            row = _table.row(
                f"{what}, p{q}",
                med(ours),
                unit="ms",
                baseline=med(base),
                target=f"≤ {TARGET_RATIO[kind]:g}x trivial" if q == 50 else "",
                met=ratio <= TARGET_RATIO[kind] if q == 50 else None,
                notes=f"{per_run}; baseline: the trivial app, click → text, in the same run; "
                "ratio: median of the per-run ratios",
            )
            rows.append({**row, "ratio": ratio})
    ours, base = med(colds["ours"]), med(colds["trivial"])
    rows.append(
        _table.row(
            "cold start: launch → first drill page",
            ours,
            unit="s",
            baseline=base,
            target=f"< {TARGET_COLD_S:g} s",
            met=ours < TARGET_COLD_S,
            notes=f"median of {launches} launch(es): Popen to the first frame of a signed-in rater's "
            "first pair (drill created by that request); baseline: the trivial app, Popen to its button",
        )
    )
    for kind, what in {**KINDS, "trivial": "trivial click → text"}.items():
        server = med([percentile([heard for _, heard in r[kind]], 50) for r in runs])
        drawn = med([percentile([d for d, _ in r[kind]], 50) for r in runs])
        rows.append(
            _table.row(
                f"{what}: click → last server message, p50",
                server,
                unit="ms",
                notes=f"of {drawn:.0f} ms to drawn; the rest is the browser drawing ({per_run})",
                section="breakdown",
            )
        )
    return rows


# -- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> list[dict]:
    p = _table.parser(__doc__)
    p.add_argument("--interactions", type=int, default=40, help="counted per kind and run (default 40)")
    p.add_argument("--warmup", type=int, default=2, help="uncounted interactions first (default 2)")
    p.add_argument("--launches", type=int, default=3, help="cold starts of each app (default 3)")
    args = p.parse_args(argv)
    runs_wanted = args.repeat or 3  # --repeat: runs, each a fresh rater answering a whole drill
    if args.quick:
        args.interactions, args.warmup, runs_wanted, args.launches = 5, 1, 1, 1
    if args.interactions < 1 or args.warmup < 0 or runs_wanted < 1 or args.launches < 1:
        p.error("--interactions, --repeat and --launches must be at least 1, --warmup at least 0.")
    if args.warmup + args.interactions + 1 > MAX_DRILL:
        p.error(f"--warmup + --interactions must be at most {MAX_DRILL - 1}: one drill per run.")
    if not os.path.exists(CHROMIUM):
        sys.exit(f"{CHROMIUM} is missing: install Debian's chromium package.")
    import streamlit
    from playwright.sync_api import sync_playwright

    from storage.store import Store

    machine = _table.machine()  # the load average before the servers start
    size = args.warmup + args.interactions + 1
    with tempfile.TemporaryDirectory(prefix="paircal-bench-") as tmp, sync_playwright() as pw:
        tmp = Path(tmp)
        db_url = f"sqlite:///{tmp / 'bench.db'}"
        store = Store(db_url)
        invite = make_data(store, size)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        logs = {"app.py": tmp / "app.log", TRIVIAL_APP: tmp / "trivial.log"}
        ours = Server(db_url, logs["app.py"], *QUIET).start()
        trivial = Server(db_url, logs[TRIVIAL_APP], *QUIET, script=TRIVIAL_APP).start()
        try:
            runs = []
            for run in range(runs_wanted):
                runs.append(
                    run_interactions(
                        browser,
                        store,
                        invite,
                        ours.url,
                        trivial.url,
                        run=run,
                        n=args.interactions,
                        warmup=args.warmup,
                    )
                )
                p50 = {k: percentile([d for d, _ in v], 50) for k, v in runs[-1].items()}
                print(
                    f"run {run + 1}: p50 (ms) " + ", ".join(f"{k} {v:.0f}" for k, v in p50.items()),
                    file=sys.stderr,
                )
        finally:
            ours.stop()
            trivial.stop()

        colds: dict[str, list[float]] = {"ours": [], "trivial": []}
        for launch in range(args.launches):  # alternating, so both see the same load
            _, signed_in = new_rater(store, invite, f"cold {launch}")
            app = Server(db_url, logs["app.py"], *QUIET, path=signed_in)
            colds["ours"].append(cold_start(browser, app, pair_shown(f"Pair 1 of {size}", "Bench pair")))
            colds["trivial"].append(
                cold_start(browser, Server(db_url, logs[TRIVIAL_APP], *QUIET, script=TRIVIAL_APP), BUTTON)
            )
        chromium = browser.version
        browser.close()
        for script, log in logs.items():
            if "Traceback" in log.read_text(errors="replace"):
                sys.exit(f"the server of {script} logged a traceback:\n{log.read_text(errors='replace')}")

    rows = rows_of(runs, colds, args.interactions, args.launches)
    preamble = (
        f"The drill in headless Chromium {chromium} (Playwright) against `streamlit run serve.py` "
        f"(Streamlit {streamlit.__version__}, SQLite), and a one-button app (`{TRIVIAL_APP}`) in the same "
        f"runs: {runs_wanted} run(s) of {args.interactions} counted interactions of each kind. Times from "
        "the click event to the first frame showing the result, taken in the page. "
        f"Load average {os.getloadavg()[0]:.2f} at the end."
        + (" QUICK RUN: a smoke test, not a figure." if args.quick else "")
    )
    print(_table.machine_line(machine))
    print(preamble)
    print()
    _print_tables(rows, args.json)
    return rows


def _print_tables(rows: list[dict], json_path: str | None) -> None:
    title = "The drill in a browser"
    print(_table.markdown([r for r in rows if r["section"] == "main"], title=title))
    print()
    print(_table.markdown([r for r in rows if r["section"] != "main"], title=f"{title}: where the time goes"))
    if json_path:
        Path(json_path).write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
