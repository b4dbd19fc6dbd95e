"""A new rater's first day in Chromium, end to end: sign in, onboarding, a whole drill by keyboard,
the debrief, then the Review page.

The rater has just joined a cohort whose drills are four pairs long and has not finished
onboarding. She signs in through the form and lands on "How to rate"; she reads the rubric,
calibration and trap steps and answers the three practice pairs, reloading the page after the
first: the practice goes on at the second pair. Then the daily drill, answered with
``page.keyboard.press`` only, one pair deliberately wrong at 90 %. After each answer the
expert's verdict names the gold by its letter, and every letter the reason uses ("A", "B",
"Response A") is the letter the screen shows above that response's own text. The debrief's
figures are the store's; the Review page lists the missed pair with its prompt and none of the
others.

Full-page screenshots at 1400 px and 400 px (onboarding, a pair's feedback, the debrief, the
Review page) go to the folder named by ``PAIRCAL_SHOTS`` (else the test's temporary folder).
Skipped without Chromium unless ``PAIRCAL_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_browser import browser, feedback, launch  # noqa: F401 (fixtures: Chromium, servers)
from test_browser_drill_keys import IDLE, press, ready, selected, shots
from test_browser_onboarding import whole_page

from pairs.markdown import markdown_to_html
from storage.store import Store
from training import accounts, debrief, drills, onboarding

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZE = 4
WIDTHS = (1400, 400)
PERCENT = r"\s?%"  # "80 %" or "80%": the spacing of percent labels is not this test's business
LETTERS = re.compile(r"\b(?:Response )?([AB])\b")  # a response named in a reason, as the bank writes it

# The text under each "Response A" / "Response B" heading in a region, whitespace dropped, per letter:
# the heading is the first line of the block that holds the response's text.
SHOWN = """(root) => {
  const out = {};
  for (const head of root.querySelectorAll('.paircal-text > p.paircal-text-heading')) {
    const label = head.textContent.trim();
    if (!/^Response [AB]$/.test(label)) continue;
    const copy = head.parentElement.cloneNode(true);
    copy.querySelector('p.paircal-text-heading').remove();
    (out[label.slice(-1)] ||= []).push(copy.textContent.replace(/\\s+/g, ''));
  }
  return out;
}"""
FLAT = "(root) => root.textContent.replace(/\\s+/g, '')"  # a region's text, whitespace dropped
MAIN = '[data-testid="stMain"]'


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain(markdown: str) -> str:
    """The text a block of Markdown shows on the page (as the app renders it), whitespace dropped."""
    parser = _Text()
    parser.feed(markdown_to_html(markdown))
    return re.sub(r"\s+", "", "".join(parser.parts))


def snap(page, folder: Path, name: str) -> None:
    """Full-page screenshots of what is on screen at 1400 px and at 400 px; back to 1400 px after."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1000})
        page.wait_for_timeout(400)  # the layout follows the width without a rerun
        whole_page(page, folder / f"first-day-{name}-{width}.png", width)
    page.set_viewport_size({"width": WIDTHS[0], "height": 1000})
    page.wait_for_timeout(200)


def button(page, label: str):
    """A button by its name; a percent in it may be written "70 %" or "70%"."""
    if label.endswith("%"):
        return page.get_by_role("button", name=re.compile(rf"^{label[:-1].strip()}{PERCENT}$"))
    return page.get_by_role("button", name=label, exact=True)


def chosen(page, label: str):
    """The button ``label`` drawn as chosen (a primary button)."""
    if label.endswith("%"):
        number = label[:-1].strip()  # after the check icon's name, when chosen
        text = re.compile(rf"(?<!\d){number}{PERCENT}")
        return page.locator('[data-testid="stBaseButton-primary"]', has_text=text)
    return selected(page, label)


def check_reason_matches_screen(region, pair) -> str:
    """In ``region`` (a locator holding one pair and its feedback): the verdict names the bank's
    gold by its letter, and every letter the reason names is the caption above that response's
    own text on screen. Returns the verdict's letter."""
    text = region.inner_text()
    verdict = re.search(r"(?:The expert preferred|You agreed with the expert:) Response ([AB])\b", text)
    assert verdict is not None, "no verdict naming a response by its letter"
    assert verdict.group(1) == pair["gold"]
    assert plain(pair["rationale"]) in region.evaluate(FLAT), "the expert's reason is not on the page"
    shown = region.evaluate(SHOWN)
    named = set(LETTERS.findall(pair["rationale"])) | {verdict.group(1)}
    for letter in named:  # the reason's "A" is the text shown under "Response A", wherever it sits
        said = f"the reason's {letter} is not the text under 'Response {letter}'"
        assert shown.get(letter) == [plain(pair[f"response_{letter.lower()}"])], said
    return verdict.group(1)


def test_a_new_raters_first_day(launch, browser, tmp_path):  # noqa: F811
    folder = shots(tmp_path)
    server = launch()
    store = Store(server.db)
    store.ensure_starter_bank()
    lead, invite = accounts.create_cohort(store, "firstday", "lena", "lead-password")
    accounts.set_drill_settings(store, lead.cohort_id, drill_size=SIZE)
    rater = accounts.join_cohort(store, invite, "noor", "noor-password")
    assert not onboarding.state(store, rater.id).finished
    bank = store.load_bank("starter").set_index("id")
    page = browser.new_context(viewport={"width": WIDTHS[0], "height": 1000}).new_page()

    # -- sign in through the form: a new rater lands on onboarding ------------------------------
    page.goto(server.url)
    page.get_by_role("tab", name="Sign in").click()
    page.get_by_label("Cohort", exact=True).fill("firstday")
    page.get_by_label("Your name", exact=True).fill("noor")
    page.get_by_label("Password", exact=True).fill("noor-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="How to rate").wait_for(timeout=60_000)
    page.wait_for_selector(IDLE, timeout=30_000)

    # -- onboarding: the rubric, confidence and the score, the traps, then practice -------------
    steps = ("What makes a response better", "Confidence and the score", "The traps", "Three practice pairs")
    for step in steps:
        page.get_by_role("heading", name=re.compile(step)).wait_for(timeout=30_000)
    body = page.inner_text("body")
    assert "Pair 1 of" not in body and "Follows the instructions" in body
    assert "Longer is not better" in body  # the glossary's plain words
    assert re.search(r"about 8 of them are right", body)
    snap(page, folder, "onboarding")

    guided = onboarding.guided_pairs().to_dict("records")
    picks = [pair["gold"] for pair in guided]
    picks[0] = "B" if picks[0] == "A" else "A"  # the first practice pair missed, to see it explained
    for number, (pair, pick) in enumerate(zip(guided, picks, strict=True), start=1):
        page.get_by_text(f"Practice pair {number} of 3", exact=True).wait_for(timeout=30_000)
        page.wait_for_selector(IDLE, timeout=30_000)
        for label in (f"Response {pick}", "70 %"):
            button(page, label).click()
            chosen(page, label).wait_for(timeout=30_000)
        page.get_by_role("button", name="Submit").click()
        after = f"Practice pair {number + 1} of 3" if number < 3 else "Start my first drill"
        page.get_by_text(after, exact=True).first.wait_for(timeout=30_000)
        page.wait_for_selector(IDLE, timeout=30_000)
        text = page.inner_text(MAIN)
        expected = (
            f"You agreed with the expert: Response {pair['gold']} is better."
            if pick == pair["gold"]
            else f"The expert preferred Response {pair['gold']}."
        )
        assert expected in text
        title = f"Practice pair {number} of 3: answered"
        explained = page.locator('[data-testid="stExpander"]', has_text=title)
        check_reason_matches_screen(explained, pair)  # the guided pairs' reasons match their screen too
        if number == 1:  # a reload in mid-practice: the practice goes on at the second pair
            assert set(onboarding.state(store, rater.id).answers) == {pair["id"]}
            page.reload()
            page.get_by_role("heading", name="How to rate").wait_for(timeout=60_000)
            page.wait_for_selector(IDLE, timeout=30_000)
            page.get_by_text("Practice pair 2 of 3", exact=True).wait_for(timeout=30_000)
            assert page.get_by_text("Practice pair 1 of 3", exact=True).count() == 0
            assert page.get_by_text("Practice pair 1 of 3: answered").count() == 1
            check_reason_matches_screen(explained, pair)  # its explanation kept
            snap(page, folder, "onboarding-resumed")
    assert store.count_judgments() == 0  # practice is no judgment
    snap(page, folder, "onboarding-done")
    page.get_by_role("button", name="Start my first drill").click()

    # -- the daily drill, by keyboard alone; one pair missed on purpose at 90 % -----------------
    today = datetime.now(UTC).date()
    ready(page, f"Pair 1 of {SIZE}")
    assert onboarding.state(store, rater.id).finished
    drill = drills.get_or_create_drill(store, rater.id, "starter", today, size=SIZE)
    assert drill.size == SIZE
    golds = [bank.loc[item.pair_id, "gold"] for item in drill.items]
    missed_at = next(i for i, gold in enumerate(golds) if gold in ("A", "B"))
    confidences = ["8", "7", "6", "0"]  # 80 %, 70 %, 60 %, 100 %
    confidences[missed_at] = "9"
    answers = []
    for position, (item, gold) in enumerate(zip(drill.items, golds, strict=True)):
        if position == missed_at:
            pick = "B" if gold == "A" else "A"
        else:
            pick = gold if gold in ("A", "B") else item.left
        tens = confidences[position]
        answers.append((pick, tens))
        ready(page, f"Pair {position + 1} of {SIZE}")
        assert feedback(page).count() == 0
        assert plain(bank.loc[item.pair_id, "rationale"])[:60] not in page.locator(MAIN).evaluate(FLAT)
        press(page, pick, selected(page, f"Response {pick}"))
        press(page, tens, chosen(page, "100 %" if tens == "0" else f"{tens}0 %"))
        press(page, "Enter", feedback(page))
        pair = bank.loc[item.pair_id].to_dict()
        if gold in ("A", "B"):
            check_reason_matches_screen(page.locator(MAIN), pair)
        else:  # a tie: no letter in the verdict; the reason's letters still match the screen
            shown = page.locator(MAIN).evaluate(SHOWN)
            for letter in set(LETTERS.findall(pair["rationale"])):
                assert shown.get(letter) == [plain(pair[f"response_{letter.lower()}"])], letter
        if position == missed_at:
            page.get_by_text(re.compile(r"The same answer at each confidence")).scroll_into_view_if_needed()
            snap(page, folder, "feedback-missed")
        page.keyboard.press("Enter")  # Next pair, or Finish after the last
        feedback(page).wait_for(state="detached", timeout=30_000)

    # -- the debrief, as the store has it --------------------------------------------------------
    ready(page, "Today's drill is done")
    page.get_by_text("Debrief").wait_for(timeout=30_000)
    stored = store.export_judgments().set_index("pair_id")
    assert len(stored) == SIZE
    for item, (pick, tens) in zip(drill.items, answers, strict=True):
        assert stored.loc[item.pair_id, "choice"] == pick
        assert stored.loc[item.pair_id, "confidence"] == (1.0 if tens == "0" else int(tens) / 10)
    decided = [(pick, gold) for (pick, _), gold in zip(answers, golds, strict=True) if gold in ("A", "B")]
    right = sum(pick == gold for pick, gold in decided)
    assert right == len(decided) - 1  # the one missed on purpose
    done = drills.get_or_create_drill(store, rater.id, "starter", today, size=SIZE)
    figures = debrief.drill_debrief(store, rater.id, done).drill
    assert figures["n"] == SIZE and figures["n_decided"] == len(decided)
    assert figures["accuracy"] == pytest.approx(right / len(decided))

    def metric(label: str) -> str:
        box = page.locator('[data-testid="stMetric"]', has_text=label)
        return box.locator('[data-testid="stMetricValue"]').inner_text().strip()

    assert re.fullmatch(rf"{round(100 * right / len(decided))}{PERCENT}", metric("Accuracy"))
    assert metric("Score per answer") == f"{figures['score']:+.2f}"
    assert re.fullmatch(rf"{round(100 * figures['mean_confidence'])}{PERCENT}", metric("Mean confidence"))
    assert re.fullmatch(r"under 1\s?s|\d+\s?s", metric("Time per pair"))
    if figures["seconds"] >= 0.5:
        assert metric("Time per pair").startswith(f"{figures['seconds']:.0f}")
    sure, correct = round(100 * figures["mean_confidence"]), round(100 * figures["sided_accuracy"])
    calibration = rf"You were {sure}{PERCENT} sure on average and right {correct}{PERCENT} of the time"
    assert re.search(calibration, page.inner_text(MAIN))
    page.get_by_text("No answers in the 7 days before today to compare with.").wait_for(timeout=30_000)
    snap(page, folder, "debrief")

    # -- the Review page: the missed pair with its prompt, none of the others --------------------
    page.get_by_role("link", name="Review", exact=True).click()
    page.get_by_role("heading", name="Review").wait_for(timeout=30_000)
    caption = re.compile(rf"1 missed pair of {SIZE} answered")
    page.get_by_text(caption).wait_for(timeout=60_000)
    page.wait_for_selector(IDLE, timeout=30_000)
    text, flat = page.inner_text(MAIN), page.locator(MAIN).evaluate(FLAT)
    for position, item in enumerate(drill.items):
        listed = re.search(rf"pair {re.escape(item.pair_id)}\b", text) is not None
        prompt = plain(bank.loc[item.pair_id, "prompt"]) in flat
        assert listed == prompt == (position == missed_at), item.pair_id
    missed = drill.items[missed_at]
    pick = answers[missed_at][0]
    assert re.search(rf"You said Response {pick} with 90{PERCENT} confidence", text)
    assert f"The expert preferred Response {golds[missed_at]}" in text
    check_reason_matches_screen(page.locator(MAIN), bank.loc[missed.pair_id].to_dict())
    snap(page, folder, "review")
    assert "Traceback" not in server.log
