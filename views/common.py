"""What every page shares: the store connection and the loaded banks."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pairs.store import Store


@st.cache_resource(show_spinner=False)
def get_store() -> Store:
    """One store (connection pool) per server process; the starter bank is loaded on first use."""
    store = Store()
    store.ensure_starter_bank()
    return store


@st.cache_data(show_spinner=False, ttl=60)
def load_bank(name: str, _version: int = 0) -> pd.DataFrame:
    return get_store().load_bank(name)
