"""Matched pairs (probes) in Chromium: a drill mixes them in and nothing on screen tells them apart.

A cohort drills on its own bank (English starter pairs) to which the lead added matched pairs of
every kind. The rater's daily drill of 50 and a practice round of 50 each hold 10 probes (a fifth);
each probe is opened in the browser as the drill shows it, and the page must read like any pair's:
no probe kind, no base id, no "answered before". Screenshots of every probe at 1400 px (and the
first three at 400 px) go to the folder named by ``PAIRCAL_SHOTS`` (else the test's folder).

Skipped without Chromium unless ``PAIRCAL_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_browser import browser, launch  # noqa: F401 (fixtures: Chromium, servers)
from test_browser_drill_keys import IDLE
from test_probe_mixing import starter_part

from bench._server import sign_in_path
from pairs.probes import derive_probes
from storage.store import Store
from training import accounts, drills, onboarding

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZE = 50
TELLTALE = re.compile(r"~(polish|padding|authority)|matched pair|answered (this pair )?before", re.I)


def test_a_drill_mixes_in_probes_that_look_like_any_pair(launch, browser, tmp_path):  # noqa: F811
    folder = Path(os.environ.get("PAIRCAL_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    server = launch()
    store = Store(server.db)
    store.ensure_starter_bank()
    lead, invite = accounts.create_cohort(store, "probes", "lena", "lead-password", bank=None)
    base = starter_part(150)
    store.import_bank("mine", base, owner_cohort_id=lead.cohort_id, as_server=False)
    probes = derive_probes(store.load_bank("mine"), ("polish", "padding", "authority"), seed=1)
    store.import_bank("mine", probes, owner_cohort_id=lead.cohort_id, as_server=False)
    accounts.set_drill_settings(store, lead.cohort_id, bank="mine", drill_size=SIZE)
    noor = accounts.join_cohort(store, invite, "noor", "noor-password")
    onboarding.finish(store, noor.id)
    kind_of = probes.set_index("id")["probe"]
    base_of = probes.set_index("id")["probe_of"]

    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(server.url + sign_in_path(store, noor.id))
    today = datetime.now(UTC).date()
    seen: list[str] = []
    for kind, round_ in (("daily", 1), ("practice", 1)):
        drill = drills.get_or_create_drill(store, noor.id, "mine", today, size=SIZE, kind=kind, round=round_)
        ids = [item.pair_id for item in drill.items]
        mixed = [pid for pid in ids if pid in kind_of.index]
        assert len(mixed) == SIZE // 5, ids  # a fifth of the drill
        assert not {base_of[pid] for pid in mixed} & set(ids)  # never beside its base pair
        for item in drill.items:
            if item.pair_id in kind_of.index:
                page.goto(server.url)
                page.get_by_text(f"Pair {item.position + 1} of {SIZE}").wait_for(timeout=60_000)
                page.wait_for_selector(IDLE, timeout=30_000)
                shown = page.locator('[data-testid="stMain"]').inner_text()
                assert not TELLTALE.search(shown), (item.pair_id, TELLTALE.search(shown))
                name = f"probe-{len(seen) + 1:02d}-{kind_of[item.pair_id]}"
                page.screenshot(path=str(folder / f"{name}-1400.png"), full_page=True)
                if len(seen) < 3:
                    page.set_viewport_size({"width": 400, "height": 1000})
                    page.wait_for_timeout(300)
                    page.screenshot(path=str(folder / f"{name}-400.png"), full_page=True)
                    page.set_viewport_size({"width": 1400, "height": 1000})
                seen.append(item.pair_id)
            drills.submit(store, noor.id, drill.key, item.position, "A", 0.7)
    assert len(seen) == 20
    assert {kind_of[pid] for pid in seen} == {"polish", "padding", "authority"}
