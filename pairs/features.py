"""Text features: how long and how polished each response is.

Counting follows the style features of Chatbot Arena's style control: fenced
code blocks are removed first, then Markdown headers, list items and bold spans
are counted in what remains. PairCal adds code blocks, tables, links and emojis.

Per response (:func:`response_features`), one row per text:

==================  ==============================================================
column              meaning
==================  ==============================================================
``words``           whitespace-separated tokens
``chars``           characters
``tokens``          approximate LLM tokens: ``ceil(chars / 4)``, the usual rule
                    of thumb for English text with BPE tokenizers
``headers``         lines starting with 1-6 ``#`` and a space (outside code)
``list_items``      lines starting with ``-``, ``*``, ``+`` or ``1.`` / ``1)``
                    and a space, indented or not (outside code)
``bold``            ``**bold**`` and ``__bold__`` spans (outside code)
``code_blocks``     fenced code blocks (```` ``` ```` or ``~~~``)
``tables``          Markdown tables (counted by their ``|---|`` separator row)
``links``           ``[text](url)`` links and bare ``http(s)://`` URLs
``emojis``          pictographic emoji characters
``polish``          sum of the seven markdown counts above
==================  ==============================================================

Per pair (:func:`pair_features`), indexed by pair ``id``: every column above
with suffix ``_a`` and ``_b``, and the differences the bias model uses, all
signed as A minus B:

=====================  ==========================================================
column                 meaning
=====================  ==========================================================
``log_word_ratio``     ``ln((words_a + 1) / (words_b + 1))``; ``ln 2`` = A is
                       twice as long
``length_doublings``   ``log2((words_a + 1) / (words_b + 1))``: +1 = A twice as
                       long, -1 = B twice as long
``<count>_diff``       ``(A - B) / (A + B + 1)`` for each markdown count and for
                       ``polish``: in (-1, 1), 0 when equal
``longer``             ``"A"``, ``"B"`` or ``""`` (equal word counts)
``more_polished``      ``"A"``, ``"B"`` or ``""`` (equal polish)
=====================  ==========================================================
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd

MARKDOWN_COUNTS = ["headers", "list_items", "bold", "code_blocks", "tables", "links", "emojis"]
RESPONSE_COLUMNS = ["words", "chars", "tokens", *MARKDOWN_COUNTS, "polish"]

_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)[^\n]*\n.*?(?:^[ \t]{0,3}\1[ \t]*$|\Z)", re.M | re.S)
_HEADER = r"(?m)^[ \t]{0,3}#{1,6}[ \t]+\S"
_LIST = r"(?m)^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\S"
_BOLD = r"\*\*[^*\n]+?\*\*|__[^_\n]+?__"
_TABLE = r"(?m)^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)+\|?[ \t]*$"
_LINK = r"\[[^\]\n]+\]\([^)\s]+[^)]*\)|(?<!\()https?://[^\s)>\]]+"
_EMOJI = (
    "["
    "\U0001f300-\U0001f5ff"  # symbols & pictographs
    "\U0001f600-\U0001f64f"  # emoticons
    "\U0001f680-\U0001f6ff"  # transport & map
    "\U0001f900-\U0001f9ff"  # supplemental symbols & pictographs
    "\U0001fa70-\U0001faff"  # symbols & pictographs extended-A
    "\u2600-\u26ff"  # miscellaneous symbols
    "\u2700-\u27bf"  # dingbats
    "\u2b50\u2b55\u2705\u274c"
    "]"
)


def response_features(texts: pd.Series) -> pd.DataFrame:
    """Length and markdown polish counts for each text.

    Parameters
    ----------
    texts : Series of str

    Returns
    -------
    DataFrame
        Same index as ``texts``, columns :data:`RESPONSE_COLUMNS` (int64).

    Examples
    --------
    >>> f = response_features(pd.Series(["# Title\\n- **one**\\n- two", "plain answer"]))
    >>> f[["words", "headers", "list_items", "bold", "polish"]].to_dict("list")
    {'words': [6, 2], 'headers': [1, 0], 'list_items': [2, 0], 'bold': [1, 0], 'polish': [4, 0]}
    """
    return _response_table(text_counts(texts.fillna("").astype(str).tolist()), texts.index)


def _response_table(counts: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """:func:`response_features`' table from :func:`text_counts` rows."""
    out = pd.DataFrame(np.asarray(counts, dtype=np.int64), index=index, columns=["words", "chars", *_COUNTED])
    out["tokens"] = (out["chars"] + 3) // 4  # ceil(chars / 4)
    out["polish"] = out[MARKDOWN_COUNTS].sum(axis=1)
    return out[RESPONSE_COLUMNS].astype("int64")


_COUNTED = ["code_blocks", "headers", "list_items", "bold", "tables", "links", "emojis"]
_HEADER_RE, _LIST_RE, _BOLD_RE, _TABLE_RE, _LINK_RE, _EMOJI_RE = (
    re.compile(p) for p in (_HEADER, _LIST, _BOLD, _TABLE, _LINK, _EMOJI)
)


def _text_counts(text: str) -> tuple[int, ...]:
    """``words, chars`` and the :data:`_COUNTED` counts of one text.

    A pattern is run only when the text holds what every match of it must
    contain (a header a ``#``, a table row ``---``, an emoji a non-ASCII
    character, ...): the counts are those of the patterns, only cheaper.
    """
    if "```" in text or "~~~" in text:
        code = sum(1 for _ in _FENCE.finditer(text))
        prose = _FENCE.sub("\n", text)
    else:
        code, prose = 0, text
    return (
        len(text.split()),
        len(text),
        code,
        len(_HEADER_RE.findall(prose)) if "#" in prose else 0,
        len(_LIST_RE.findall(prose)),
        len(_BOLD_RE.findall(prose)) if "**" in prose or "__" in prose else 0,
        len(_TABLE_RE.findall(prose)) if "---" in prose else 0,
        len(_LINK_RE.findall(prose)) if "](" in prose or "http" in prose else 0,
        0 if prose.isascii() else len(_EMOJI_RE.findall(prose)),
    )


def normalized_difference(a: pd.Series | np.ndarray, b: pd.Series | np.ndarray) -> pd.Series | np.ndarray:
    """``(a - b) / (a + b + 1)``: a bounded, signed difference of two counts.

    Parameters
    ----------
    a, b : Series or array of numbers >= 0
        The counts, e.g. the polish of response A and of response B.

    Returns
    -------
    Series or array
        In (-1, 1): 0 when the counts are equal, near 1 when ``a`` dwarfs ``b``.

    Examples
    --------
    >>> normalized_difference(np.array([3, 0, 2]), np.array([0, 0, 2])).tolist()
    [0.75, 0.0, 0.0]
    """
    return (a - b) / (a + b + 1)


def pair_features(bank: pd.DataFrame, *, counts: np.ndarray | None = None) -> pd.DataFrame:
    """Per-pair feature table for a bank (see the module docstring for columns).

    Results are cached by the bank's content, so repeated calls on the same
    bank (as a Streamlit page rerun makes) cost a hash, not a recount.

    Parameters
    ----------
    bank : DataFrame
        A bank with ``id``, ``response_a`` and ``response_b``.
    counts : ndarray, optional
        :func:`bank_text_counts` of this bank, kept from an earlier count (the
        database stores them with the bank): the texts are then not read again.

    Returns
    -------
    DataFrame
        One row per pair, indexed by pair id (a copy: the caller may change it).
    """
    key = bank_key(bank)
    cached = _CACHE.get(key)
    if cached is None:
        if counts is None:
            counts = bank_text_counts(bank)
        cached = _features_from_counts(bank, counts)
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = cached
    return cached.copy()


_CACHE: dict[str, pd.DataFrame] = {}
_CACHE_SIZE = 16

TEXT_COUNTS_VERSION = 1
"""Changes whenever what :func:`text_counts` counts changes: counts kept under another version are stale."""


def bank_key(bank: pd.DataFrame) -> str:
    """A digest of a bank's responses (and of :data:`TEXT_COUNTS_VERSION`): equal keys, equal counts.

    Parameters
    ----------
    bank : DataFrame
        A bank with ``id``, ``response_a`` and ``response_b``, in its order.

    Returns
    -------
    str
        64 hex digits.
    """
    h = hashlib.sha256(f"text-counts-v{TEXT_COUNTS_VERSION}".encode())
    hashed = pd.util.hash_pandas_object(bank[["id", "response_a", "response_b"]].astype(str), index=False)
    h.update(hashed.to_numpy().tobytes())
    return h.hexdigest()


def text_counts(texts: list[str]) -> np.ndarray:
    """The raw counts behind :func:`response_features`, one row per text.

    Parameters
    ----------
    texts : list of str

    Returns
    -------
    ndarray of int64, shape (len(texts), 9)
        Per text: words, characters, then code blocks, headers, list items,
        bold spans, tables, links and emojis.
    """
    return np.array([_text_counts(text) for text in texts], dtype=np.int64).reshape(-1, 9)


def bank_text_counts(bank: pd.DataFrame) -> np.ndarray:
    """:func:`text_counts` of a bank's responses: every ``response_a``, then every ``response_b``.

    Parameters
    ----------
    bank : DataFrame
        A bank with ``response_a`` and ``response_b``.

    Returns
    -------
    ndarray of int64, shape (2 * len(bank), 9)
        What :func:`pair_features` takes as ``counts``.
    """
    texts = [*bank["response_a"].fillna("").astype(str), *bank["response_b"].fillna("").astype(str)]
    return text_counts(texts)


def _features_from_counts(bank: pd.DataFrame, counts: np.ndarray) -> pd.DataFrame:
    n = len(bank)
    if counts.shape != (2 * n, 9):
        raise ValueError(f"counts must have shape ({2 * n}, 9) for a bank of {n} pairs; got {counts.shape}.")
    fa = _response_table(counts[:n], pd.RangeIndex(n)).add_suffix("_a")
    fb = _response_table(counts[n:], pd.RangeIndex(n)).add_suffix("_b")
    return _pair_table(bank, fa, fb)


def _pair_table(bank: pd.DataFrame, fa: pd.DataFrame, fb: pd.DataFrame) -> pd.DataFrame:
    out = pd.concat([fa, fb], axis=1)
    out.index = pd.Index(bank["id"].astype(str).to_numpy(), name="id")
    ratio = (out["words_a"] + 1) / (out["words_b"] + 1)
    out["log_word_ratio"] = np.log(ratio)
    out["length_doublings"] = np.log2(ratio)
    for col in [*MARKDOWN_COUNTS, "polish"]:
        out[f"{col}_diff"] = normalized_difference(out[f"{col}_a"], out[f"{col}_b"])
    out["longer"] = np.select(
        [out["words_a"] > out["words_b"], out["words_a"] < out["words_b"]], ["A", "B"], ""
    )
    out["more_polished"] = np.select(
        [out["polish_a"] > out["polish_b"], out["polish_a"] < out["polish_b"]], ["A", "B"], ""
    )
    return out
