"""A lead runs a cohort in Chromium, end to end: set up the server, copy the invite, import an
LLMBar file, switch the drill bank and still see everyone's history, open a flagged pair and
correct its gold (the figures change), write guidelines that a rater sees, remove the demo data.

Screenshots go to the folder named by ``PAIRCAL_SHOTS`` (else the test's temporary folder).
Skipped without Chromium unless ``PAIRCAL_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_browser import browser, choose, feedback, launch  # noqa: F401 (fixtures: Chromium, servers)

from bench._server import sign_in_path
from pairs.bank import STARTER_BANK_NAME
from storage.store import Store
from training import accounts, cohort, onboarding

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
BANK = "natural-mini"
PAIRS = 24
SIMULATED = 30


def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PAIRCAL_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def idle(page) -> None:
    page.wait_for_selector(IDLE, timeout=60_000)


def llmbar_file(store: Store, path: Path) -> tuple[Path, dict[str, str], str]:
    """An LLMBar-format file (``input``, ``output_1``, ``output_2``, ``label``) of starter pairs, one
    of them with its label flipped (a wrong gold for the audit to find). Returns the file, each
    pair's true gold by its prompt, and the flipped pair's prompt."""
    starter = store.load_bank(STARTER_BANK_NAME)
    decided = starter[starter["gold"].isin(["A", "B"])].head(PAIRS)
    records, truth = [], {}
    for i, row in enumerate(decided.itertuples()):
        label = 1 if row.gold == "A" else 2
        truth[row.prompt] = row.gold
        if i == 5:
            label = 3 - label
            flipped = row.prompt
        records.append(
            {"input": row.prompt, "output_1": row.response_a, "output_2": row.response_b, "label": label}
        )
    path.write_text(json.dumps(records), encoding="utf-8")
    return path, truth, flipped


def skilled_demo_raters(store: Store, cohort_id: int, cohort: str, truth: pd.Series) -> None:
    """Thirty simulated raters who answer every pair of the imported bank by its true gold 93% of
    the time: enough for the audit to flag the pair whose gold is wrong."""
    rng = np.random.default_rng(1)
    start = pd.Timestamp(datetime.now(UTC)) - pd.Timedelta(days=10)
    rows = []
    for r in range(SIMULATED):
        for i, (pid, gold) in enumerate(truth.items()):
            right = gold if rng.random() < 0.93 else ("B" if gold == "A" else "A")
            rows.append(
                {
                    "rater": f"sim-{r:02d}",
                    "pair_id": pid,
                    "choice": right,
                    "confidence": 0.8,
                    "left": "A",
                    "answered_at": start + pd.Timedelta(minutes=60 * r + i),
                    "seconds": 9.0,
                }
            )
    frame = pd.DataFrame(rows)
    accounts.add_simulated_raters(store, cohort_id, sorted(frame["rater"].unique()))
    store.import_judgments(frame, bank=BANK, cohort=cohort)


def metric(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def test_a_lead_runs_a_cohort_from_set_up_to_removing_the_demo(launch, browser, tmp_path):  # noqa: F811
    server = launch()
    store = Store(server.db)
    store.ensure_starter_bank()
    out = shots(tmp_path)
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    lead_page = context.new_page()

    # 1. the first visitor sets up the server: a cohort, with them as its lead
    lead_page.goto(server.url)
    lead_page.get_by_role("tab", name="Set up PairCal").click()
    lead_page.get_by_label("Cohort name").fill("alpha")
    lead_page.get_by_label("Your name (lead)").fill("lena")
    lead_page.get_by_label("Password (at least 8 characters)").first.fill("lead-password")
    lead_page.get_by_role("button", name="Create cohort").click()
    lead_page.get_by_role("heading", name="Lead console: alpha").wait_for(timeout=60_000)
    idle(lead_page)

    # 2. copy the invite with the code block's copy button; the join link carries it too
    invite = accounts.cohort_info(store, accounts.login(store, "alpha", "lena", "lead-password").cohort_id)[
        "invite_code"
    ]
    code_block = lead_page.locator('[data-testid="stCode"]').first
    code_block.hover()
    code_block.locator("button").first.click()
    assert lead_page.evaluate("navigator.clipboard.readText()").strip() == invite
    link = lead_page.locator('[data-testid="stCode"]').nth(1).inner_text().strip()
    assert link.endswith(f"?invite={invite}")
    lead_page.screenshot(path=str(out / "console_invite.png"))

    # a rater joins by the link and answers two pairs of the starter bank
    rater_page = browser.new_context(viewport={"width": 1400, "height": 1100}).new_page()
    rater_page.goto(link)
    rater_page.get_by_label("Display name").fill("ravi")
    rater_page.get_by_label("Password (at least 8 characters)").nth(0).fill("rater-password")
    rater_page.get_by_label("Password again").fill("rater-password")
    rater_page.get_by_role("button", name="Join").click()
    rater_page.get_by_role("heading", name="How to rate").wait_for(timeout=60_000)  # a new rater's first page
    onboarding.finish(
        store, accounts.login(store, "alpha", "ravi", "rater-password").id
    )  # (tested elsewhere)
    rater_page.goto(server.url)
    for position in range(2):
        rater_page.get_by_text(f"Pair {position + 1} of 10").wait_for(timeout=60_000)
        choose(rater_page)
        rater_page.get_by_role("button", name="Submit").click()
        feedback(rater_page).wait_for(timeout=60_000)
        rater_page.get_by_role("button", name="Next pair").click()
        feedback(rater_page).wait_for(state="detached", timeout=60_000)

    # 3. import an LLMBar file
    path, truth_by_prompt, flipped_prompt = llmbar_file(store, tmp_path / f"{BANK}.json")
    lead_page.get_by_role("tab", name="Import a bank").click()
    lead_page.locator('[data-testid="stFileUploaderDropzone"] input[type="file"]').set_input_files(str(path))
    idle(lead_page)
    lead_page.get_by_role("button", name="Import", exact=True).click()
    lead_page.get_by_text(f"{PAIRS} pairs added").wait_for(timeout=60_000)
    lead = accounts.login(store, "alpha", "lena", "lead-password")
    imported = store.load_bank(BANK)
    truth = imported.set_index("id")["prompt"].map(truth_by_prompt)
    flipped = imported.loc[imported["prompt"] == flipped_prompt, "id"].iloc[0]
    assert imported.set_index("id").loc[flipped, "gold"] != truth[flipped]

    # 4. switch the drill bank; the cohort drills the new bank; nobody's history disappears
    lead_page.get_by_role("tab", name="Drill settings").click()
    lead_page.get_by_label("Bank for drills").first.click()  # (the admin tab has one too)
    lead_page.get_by_role("option", name=BANK, exact=True).click()
    lead_page.get_by_role("button", name="Save", exact=True).click()
    for _ in range(300):  # the page's run stores the setting; wait for it, at most 30 s
        if accounts.cohort_info(store, lead.cohort_id)["bank"] == BANK:
            break
        lead_page.wait_for_timeout(100)
    assert accounts.cohort_info(store, lead.cohort_id)["bank"] == BANK
    skilled_demo_raters(store, lead.cohort_id, "alpha", truth)
    lead_page.reload()
    lead_page.get_by_role("heading", name="Lead console: alpha").wait_for(timeout=60_000)
    idle(lead_page)
    judged = 2 + SIMULATED * PAIRS
    lead_page.get_by_text(f"Covers 2 banks (starter, {BANK}): {judged:,} judgments.").wait_for(timeout=60_000)
    assert metric(lead_page, "Judgments") == f"{judged:,}"
    assert metric(lead_page, "Raters") == str(SIMULATED + 1)
    lead_page.get_by_role("combobox", name="Figures cover").click()
    lead_page.get_by_role("option", name="starter").click()
    lead_page.get_by_text("Covers the bank starter: 2 judgments.").wait_for(timeout=60_000)
    lead_page.screenshot(path=str(out / "console_one_bank.png"))
    lead_page.get_by_role("combobox", name="Figures cover").click()
    lead_page.get_by_role("option", name=re.compile("^All 2 banks")).click()
    lead_page.get_by_text(f"Covers 2 banks (starter, {BANK})").wait_for(timeout=60_000)
    agreement = metric(lead_page, "Cohort agreement with experts")

    # 5. the audit flags the pair with the wrong gold; the lead corrects it and the figures change
    lead_page.get_by_role("tab", name="Gold audit").click()
    flag = lead_page.locator('[data-testid="stExpander"]', has_text=f"{flipped}: gold").first
    idle(lead_page)
    lead_page.screenshot(path=str(out / "audit_tab.png"), full_page=True)
    flag.wait_for(timeout=60_000)
    flag.locator("summary").first.click()
    flag.get_by_text("strong raters chose against the gold").wait_for(timeout=60_000)
    lead_page.screenshot(path=str(out / "audit_flagged.png"), full_page=True)
    flag.locator('[data-testid="stRadio"]').get_by_text(truth[flipped], exact=True).click()
    flag.get_by_text("I checked the pair").click()
    flag.get_by_role("button", name="Save the correction").click()
    lead_page.get_by_text(
        f"gold {imported.set_index('id').loc[flipped, 'gold']} → {truth[flipped]}"
    ).wait_for(timeout=60_000)
    assert store.load_bank(BANK).set_index("id").loc[flipped, "gold"] == truth[flipped]
    lead_page.get_by_role("tab", name="Cohort").click()
    idle(lead_page)
    assert metric(lead_page, "Cohort agreement with experts") != agreement  # every answer re-scored

    # 6. guidelines, written by the lead, shown to the rater beside the drill
    lead_page.get_by_role("tab", name="Guidelines").click()
    lead_page.locator("textarea").first.fill("## Length\nLonger is **not** better: judge what was asked.")
    lead_page.get_by_role("button", name="Save the guidelines").click()
    lead_page.get_by_text("Guidelines saved.").wait_for(timeout=60_000)  # stored, and the cache cleared
    assert cohort.guidelines(store, lead.cohort_id) is not None
    rater_page.goto(
        server.url + sign_in_path(store, accounts.login(store, "alpha", "ravi", "rater-password").id)
    )
    rater_page.get_by_text("Pair 3 of 10").wait_for(timeout=60_000)
    idle(rater_page)
    rater_page.screenshot(path=str(out / "rater_drill.png"), full_page=True)
    rater_page.get_by_text("Guidelines").first.click()
    rater_page.get_by_text("Longer is").wait_for(timeout=60_000)
    rater_page.wait_for_timeout(600)  # the expander's opening animation
    rater_page.screenshot(path=str(out / "rater_guidelines.png"))

    # 7. the demo data goes in one action; the rater's answers stay
    lead_page.get_by_role("tab", name="Cohort").click()
    lead_page.get_by_role("button", name="Remove the demo data").first.click()
    lead_page.get_by_role("button", name="Yes, remove the simulated raters").first.click()
    lead_page.get_by_text(f"Removed {SIMULATED} simulated raters").wait_for(timeout=60_000)
    idle(lead_page)
    assert metric(lead_page, "Raters") == "1"
    assert metric(lead_page, "Judgments") == "2"
    lead_page.screenshot(path=str(out / "console_after_demo.png"), full_page=True)
