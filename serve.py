"""The PairCal web server: ``streamlit run serve.py`` (see README, "Run the app").

Streamlit serves the pages of ``app.py`` as usual; ``st.App`` adds what a page
cannot do itself (``views/web.py``): security headers on every response, and
the two addresses that set and clear the HttpOnly session cookie, so that a
session token never appears in the address bar. Streamlit's options
(``.streamlit/config.toml``, ``--server.port`` and the like) apply unchanged.
"""

import streamlit as st

from views import web

app = st.App("app.py", routes=web.routes(), middleware=web.middleware())
