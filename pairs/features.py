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
``polish``          sum of the seven markdown counts above: the amount of formatting
``polish_score``    :func:`polish_score`: half the sum over the seven kinds of
                    ``ln(1 + count)``, what the polish difference compares
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
``<count>_diff``       ``(A - B) / (A + B + 1)`` for each markdown count: in
                       (-1, 1), 0 when equal
``polish_diff``        ``polish_score_a - polish_score_b``, i.e.
                       ``0.5 * sum over kinds of ln((1 + A_kind) / (1 + B_kind))``:
                       0 when every kind's count is equal, positive when A is
                       the more formatted
``longer``             ``"A"``, ``"B"`` or ``""`` (equal word counts)
``more_polished``      ``"A"``, ``"B"`` or ``""``: the sign of ``polish_diff``
=====================  ==========================================================

The polish difference
---------------------
Chatbot Arena's style control (Li et al. 2024, "Does style matter?
Disentangling style and substance in Chatbot Arena") keeps headers, list
items and bold counts as separate terms, each normalised, so that no one
kind of markup stands in for all of them. PairCal reports one polish effect,
so it combines the per-kind terms into one: each kind contributes half the
log ratio of ``1 + count``, and the kinds add up. Hence

* it grows with the amount of formatting: one list item against none gives
  0.35, three 0.69, twenty 1.52; 40 list items against 10 (0.66) is more than
  4 against 1 (0.46), where the earlier ratio ``(A - B) / (A + B + 1)`` of the
  summed counts gave nearly the same (0.59 and 0.50) and saturated at 1;
* no kind dominates: each kind's term grows only with the log of its count,
  so a long list no longer outweighs several kinds together. 10 list items
  against 2 headers, 3 bold spans and a code block was "A more polished"
  under the summed count (10 against 6); now it is B (1.20 against 1.59).

On LLMBar (419 pairs, ``../shared/data/llmbar/``), 130 pairs differ in
formatting and 115 of them in list items: list items are most of the
formatting there is. Their share of the absolute per-kind differences went
from 93.6% (summed counts) to 89.2% (log terms); bold 2.7% to 4.2%, code
blocks 1.4% to 2.9%, headers 1.5% to 1.7%, links 0.6% to 1.4%, tables and
emojis 0.1% to 0.3% each (``tests/test_features.py`` checks these figures).

A difference of 0.5 is, e.g., 4 list items against 1 (0.46) or 2 against
none (0.55). The counts stored with a bank (:func:`bank_text_counts`) are
the per-kind counts, so the difference is computed from them without
reading the texts again.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd

MARKDOWN_COUNTS = ["headers", "list_items", "bold", "code_blocks", "tables", "links", "emojis"]
RESPONSE_COLUMNS = ["words", "chars", "tokens", *MARKDOWN_COUNTS, "polish", "polish_score"]

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
    >>> f["polish_score"].round(3).tolist()
    [1.242, 0.0]
    """
    return _response_table(text_counts(texts.fillna("").astype(str).tolist()), texts.index)


def _response_table(counts: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """:func:`response_features`' table from :func:`text_counts` rows."""
    out = pd.DataFrame(np.asarray(counts, dtype=np.int64), index=index, columns=["words", "chars", *_COUNTED])
    out["tokens"] = (out["chars"] + 3) // 4  # ceil(chars / 4)
    out["polish"] = out[MARKDOWN_COUNTS].sum(axis=1)
    out = out.astype("int64")
    out["polish_score"] = polish_score(out[MARKDOWN_COUNTS].to_numpy())
    return out[RESPONSE_COLUMNS]


def polish_score(counts: np.ndarray) -> np.ndarray:
    """Half the sum of ``ln(1 + count)`` over the markdown kinds: a response's formatting on the log scale.

    The difference of two scores is the polish difference of a pair (see the
    module docstring): each kind adds half the log ratio of ``1 + count``.

    Parameters
    ----------
    counts : ndarray of shape (n, n_kinds)
        Markdown counts per response, one column per kind (:data:`MARKDOWN_COUNTS`).

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    Twenty list items, three list items, and one list item, header and bold span:

    >>> polish_score(np.array([[0, 20, 0], [0, 3, 0], [1, 1, 1]])).round(3).tolist()
    [1.522, 0.693, 1.04]
    """
    return 0.5 * np.log1p(np.asarray(counts, dtype=float)).sum(axis=1)


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
    for col in MARKDOWN_COUNTS:
        out[f"{col}_diff"] = normalized_difference(out[f"{col}_a"], out[f"{col}_b"])
    out["polish_diff"] = out["polish_score_a"] - out["polish_score_b"]
    out["longer"] = np.select(
        [out["words_a"] > out["words_b"], out["words_a"] < out["words_b"]], ["A", "B"], ""
    )
    out["more_polished"] = np.select([out["polish_diff"] > 0, out["polish_diff"] < 0], ["A", "B"], "")
    return out
