"""All of PairCal's SQL: the schema, the engine, and the store every other layer goes through.

SQLite by default (``data/paircal.db``), PostgreSQL or any SQLAlchemy URL by
``PAIRCAL_DB_URL``. Nothing outside this package imports SQLAlchemy.
"""

from storage.engine import DEFAULT_DB_PATH, database_url, make_engine
from storage.schema import UtcDateTime, as_utc, metadata
from storage.store import IMPORTED_COHORT, Store

__all__ = [
    "DEFAULT_DB_PATH",
    "IMPORTED_COHORT",
    "Store",
    "UtcDateTime",
    "as_utc",
    "database_url",
    "make_engine",
    "metadata",
]
