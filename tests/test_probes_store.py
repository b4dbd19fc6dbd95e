"""Probes in the database: stored and loaded as they were, kept by a backup, empty on older rows."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from pairs.bank import STARTER_BANK_PATH
from pairs.importers import read_bank
from pairs.probes import derive_probes
from storage.backup import export_store, import_store
from storage.store import Store
from tests.test_migrations import OLD_DB


@pytest.fixture(scope="module")
def bases() -> pd.DataFrame:
    return read_bank(STARTER_BANK_PATH).drop(columns="line").head(40)


@pytest.fixture(scope="module")
def probes(bases) -> pd.DataFrame:
    return derive_probes(bases, ("polish", "padding"), seed=0)


def test_probes_are_stored_and_loaded_as_they_were(db_url, bases, probes):
    store = Store(db_url)
    assert store.import_bank("b", bases)["added"] == len(bases)
    # the probes come as a file of their own, joining the bank that holds their bases
    assert store.import_bank("b", probes) == {"added": len(probes), "updated": 0, "unchanged": 0}
    loaded = store.load_bank("b")
    pd.testing.assert_frame_equal(loaded, pd.concat([bases, probes], ignore_index=True))
    assert store.import_bank("b", probes) == {"added": 0, "updated": 0, "unchanged": len(probes)}
    restyled = probes.head(1).assign(styled=lambda f: f["styled"].map({"A": "B", "B": "A"}))
    assert store.import_bank("b", restyled)["updated"] == 1


def test_an_import_does_not_change_the_probe_fields_of_an_answered_probe(db_url, bases, probes):
    """Which copy is the styled one decides what a past answer says about the rater: once a probe
    has answers an import may not move it, as it may not change the gold."""
    from datetime import UTC, datetime

    from pairs.errors import InputError

    store = Store(db_url)
    store.import_bank("b", pd.concat([bases, probes], ignore_index=True))
    probe = probes.iloc[0]
    judged = pd.DataFrame(
        {"rater": ["ann"], "pair_id": [probe["id"]], "choice": ["A"], "confidence": [0.8], "left": ["A"],
         "answered_at": [datetime(2026, 3, 2, 9, tzinfo=UTC)], "seconds": [12.0]}
    )  # fmt: skip
    store.import_judgments(judged, bank="b")
    moved = probes.head(1).assign(styled=lambda f: f["styled"].map({"A": "B", "B": "A"}))
    with pytest.raises(InputError, match="probe fields"):
        store.import_bank("b", moved)
    assert store.load_bank("b").set_index("id").loc[probe["id"], "styled"] == probe["styled"]


def test_a_backup_keeps_the_probes(db_url, new_db, bases, probes, tmp_path):
    source = Store(db_url)
    source.import_bank("b", pd.concat([bases, probes], ignore_index=True))
    export_store(source, tmp_path / "backup")
    copy = Store(new_db("sqlite"))
    import_store(copy, tmp_path / "backup")
    pd.testing.assert_frame_equal(copy.load_bank("b"), source.load_bank("b"))
    assert (copy.load_bank("b")["probe"] != "").sum() == len(probes)


def test_pairs_stored_before_probes_read_as_ordinary_pairs(tmp_path):
    target = tmp_path / "old.db"
    shutil.copyfile(OLD_DB, target)
    store = Store(f"sqlite:///{target}")  # upgrades in place, through 0007
    bank = store.load_bank("starter")
    assert len(bank) > 0
    assert (bank[["probe", "probe_of", "styled"]] == "").all().all()
