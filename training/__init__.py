"""The app's own logic, above the libraries and the store: accounts, drills, how pairs are chosen.

Pages and commands call these functions; they call :mod:`storage` for rows and
:mod:`calibration` for statistics, and never import Streamlit.
"""

from training.accounts import AccountError, Rater, create_cohort, join_cohort, login, resolve_session
from training.drills import Drill, DrillItem, DrillPage, Feedback, open_drill, submit
from training.selection import choose_pairs

__all__ = [
    "AccountError",
    "Drill",
    "DrillItem",
    "DrillPage",
    "Feedback",
    "Rater",
    "choose_pairs",
    "create_cohort",
    "join_cohort",
    "login",
    "open_drill",
    "resolve_session",
    "submit",
]
