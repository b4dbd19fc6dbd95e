"""Counterfactual probes: a decided pair again, with one response restyled and nothing else changed.

The bias model measures how style pulls a rater by regression over pairs that
differ in many ways at once. A probe holds everything else fixed: the same
answer shown plain in its base pair and formatted (or padded) in the probe, so
a rater who picks differently does so for style alone. The bank columns that
mark a probe are described in :mod:`pairs.bank`.

Kinds (:data:`KINDS`), each tagged with the trap it sets (:data:`KIND_TAGS`):

=============  ===============================================================
kind           what the styled response gets
=============  ===============================================================
``polish``     the same words re-rendered: a short heading, **bold** on one to
               three phrases, a paragraph of three or more sentences as a
               bulleted list, and an emoji or two
``padding``    the same answer with content-free verbosity: an opening that
               restates the question, a hedge on a sentence that already says
               it, a recap repeating the first sentence, a polite close; at
               least :data:`PADDING_RATIO` times the words
``authority``  the same answer behind an appeal to authority that nothing in
               it supports: an "as an expert" opening and a vague citation
=============  ===============================================================

A *swap* probe (the same pair again with its sides swapped) is not a bank row:
the drill draws it from the pairs a rater answered before.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pairs.bank import COLUMNS, MAX_ID_CHARS, PROBE_KINDS, with_probe_columns
from pairs.features import text_counts

KINDS = PROBE_KINDS
"""The kinds of probe a bank may hold; :func:`derive_probes` writes each of them."""
KIND_TAGS = {"polish": "polish", "padding": "length", "authority": "authority"}
"""The trap tag a probe of each kind adds to its base's tags."""
PADDING_RATIO = 1.5
"""A padded response has at least this many times the words of the original."""
MAX_POLISH = 2
"""A response with more Markdown marks than this (headers, list items, bold, ...) is already polished."""
MIN_PROSE_WORDS = 12
"""A response with fewer words outside code blocks than this is code, or too short to restyle."""

SKIP_REASONS = {
    "tie": "gold is a tie: no better answer to hold fixed",
    "probe": "already a probe",
    "constrained": "the prompt sets a length or format rule the restyled answer could break",
    "formatted": "already formatted",
    "code": f"too short or code alone (under {MIN_PROSE_WORDS} words of prose)",
    "layout": "no paragraph of running text to work on (only lists, tables, code or broken lines)",
    "language": "not in English (the added phrases, and the checks of the prompt, are English)",
    "long": f"too long to pad to {PADDING_RATIO:g}x its words",
    "id": f"the probe's id would be longer than {MAX_ID_CHARS} characters",
}
"""Why a base pair got no probe of a kind, by reason code (the counts :func:`derive_probes` reports).
When neither response can take the style, the reason given is the gold response's."""

_RATIONALES = {
    "polish": "Only the look of Response {styled} was changed: the same words, re-rendered with Markdown "
    "(a heading, bold, bullet points, emoji) that adds nothing, so the formatting should not change "
    "the choice. ",
    "padding": "Only the length of Response {styled} was changed: the restated question, the hedge "
    "and the recap add words but no content, so they should not change the choice. ",
    "authority": "Only the tone of Response {styled} was changed: an appeal to authority that nothing "
    "in it supports, the content the same, so it should not change the choice. ",
}


@dataclass(frozen=True)
class _Pick:
    """Deterministic choices for one base pair and kind, drawn from a hash of the seed."""

    seed: int
    base: str
    kind: str

    def __call__(self, slot: str, n: int) -> int:
        key = f"{self.seed}\x1f{self.base}\x1f{self.kind}\x1f{slot}".encode()
        return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % n

    def of(self, slot: str, options: tuple[str, ...] | list[str]) -> str:
        return options[self(slot, len(options))]


def derive_probes(
    bank: pd.DataFrame, kinds: Iterable[str] = ("polish", "padding"), *, seed: int = 0
) -> pd.DataFrame:
    """Probes of a bank's decided pairs: one per kind per base pair the kind applies to.

    Each probe keeps its base's prompt, gold, gold_confidence, domain and
    source, and one response as it is; the other, ``styled``, is the base's
    response at that letter restyled. Its id is ``f"{base_id}~{kind}"``, its
    tags the base's and the kind's trap (:data:`KIND_TAGS`), its rationale says
    what changed and then gives the base's. Over a bank, ``styled`` is the gold
    response in about half of each kind's probes and the other response in the
    other half. Phrasings vary between probes; everything is fixed by ``seed``.

    A base pair is skipped for a kind (reason codes in :data:`SKIP_REASONS`)
    when its gold is a tie (no better answer to hold fixed); when it is itself a
    probe; when its prompt sets a length or format rule ("in under 30 words",
    "no explanation", "plain text", ...), since the restyled answer could break
    the rule and the gold would no longer hold; or when neither response can
    take the style: for ``polish`` a response already carrying more than
    :data:`MAX_POLISH` Markdown marks, for every kind a response with fewer than
    :data:`MIN_PROSE_WORDS` words outside code (code alone, or a one-liner),
    for every kind one not in English (the added phrases, and the checks of
    the prompt, are English), and for ``padding`` one too long to reach :data:`PADDING_RATIO`
    times its words without reading as nonsense.

    Parameters
    ----------
    bank : DataFrame
        A bank (:data:`pairs.bank.COLUMNS`), as :func:`pairs.importers.read_bank` returns it.
    kinds : iterable of str
        Kinds of probe to derive, from :data:`KINDS`.
    seed : int, default 0
        Fixes which response is styled and which phrasings are used.

    Returns
    -------
    DataFrame
        A bank of probes, columns :data:`pairs.bank.COLUMNS`, base by base in the
        bank's order and kind by kind in ``kinds`` order. ``attrs["skipped"]``
        maps each kind to ``{reason code: number of base pairs}``.

    Raises
    ------
    ValueError
        When a kind is not in :data:`KINDS` (``swap`` probes are drawn by the drill, not derived).

    Examples
    --------
    >>> from pairs.bank import build_bank
    >>> plain = "Water boils at 100 degrees Celsius at sea level. It boils at a lower temperature higher up."
    >>> bank = build_bank([(1, {"id": "w1", "prompt": "When does water boil?", "response_a": plain,
    ...     "response_b": "Water boils when it is hot enough, which depends.", "gold": "A"})], "x")
    >>> probes = derive_probes(bank, ["polish"])
    >>> probes[["id", "probe", "probe_of", "styled", "gold"]].to_dict("records")
    [{'id': 'w1~polish', 'probe': 'polish', 'probe_of': 'w1', 'styled': 'A', 'gold': 'A'}]
    """
    kinds = list(dict.fromkeys(kinds))
    for kind in kinds:
        if kind == "swap":
            raise ValueError(
                "kind 'swap' is not derived: a swap probe is a pair the rater answered before, "
                "shown again with its sides swapped, and the drill draws it."
            )
        if kind not in KINDS:
            raise ValueError(f"kinds must be among {', '.join(KINDS)}; got {kind!r}.")
    bank = with_probe_columns(bank)
    records = bank[COLUMNS].to_dict("records")
    skipped: dict[str, Counter[str]] = {kind: Counter() for kind in kinds}
    made: dict[tuple[int, str], dict[str, Any]] = {}
    for kind in kinds:
        candidates: list[tuple[int, dict[str, str | None], int]] = []
        for i, rec in enumerate(records):
            reason = _base_problem(rec, kind)
            if reason is not None:
                skipped[kind][reason] += 1
                continue
            pick = _Pick(seed, str(rec["id"]), kind)
            styled = {side: _restyle(kind, rec, side, pick) for side in ("A", "B")}
            texts = {side: text for side, (text, _) in styled.items()}
            if texts["A"] is None and texts["B"] is None:
                skipped[kind][styled[rec["gold"]][1]] += 1
                continue
            candidates.append((i, texts, pick("order", 2**62)))
        # counterbalance: in a seeded order, style the gold response or the other to even the count
        on_gold = 0
        on_other = 0
        for i, texts, _ in sorted(candidates, key=lambda c: c[2]):
            rec = records[i]
            gold, other = rec["gold"], "B" if rec["gold"] == "A" else "A"
            if texts[gold] is None:
                side = other
            elif texts[other] is None:
                side = gold
            elif on_gold != on_other:
                side = gold if on_gold < on_other else other
            else:
                side = gold if _Pick(seed, str(rec["id"]), kind)("side", 2) else other
            on_gold, on_other = on_gold + (side == gold), on_other + (side != gold)
            made[(i, kind)] = _probe_row(rec, kind, side, str(texts[side]))
    rows = [made[(i, kind)] for i in range(len(records)) for kind in kinds if (i, kind) in made]
    probes = pd.DataFrame(rows, columns=COLUMNS)
    probes.attrs["skipped"] = {kind: dict(sorted(skipped[kind].items())) for kind in kinds}
    return probes


# --------------------------------------------------------------------------- base pairs

_CONSTRAINED = re.compile(
    r"\b(?:(?:in|under|within|at most|no more than|fewer than|less than|maximum(?: of)?|max)\s+"
    r"(?:\d+|one|two|three|four|five|ten|twenty|fifty|a hundred)\s+"
    r"(?:words?|sentences?|lines?|paragraphs?|characters?|bullets?|points?|items?)"
    r"|(?:one|single|two|three)[- ](?:word|sentence|line|paragraph)"
    r"|no (?:explanation|markdown|formatting|bullets?|headings?|lists?|preamble|intro|commentary)"
    r"|(?:only|just) (?:the|a|an|one|return|output|give|reply|answer)\b"
    r"|return only|output only|reply only|answer only"
    r"|plain text|without (?:markdown|formatting|bullets|explanation)|don't explain|do not explain"
    r"|briefly|concise|be brief|keep it (?:short|brief)|short as possible|tl;?dr|yes or no)",
    re.IGNORECASE,
)


def probe_counts(bank: pd.DataFrame) -> dict[str, int]:
    """How many probes of each kind a bank holds (kinds it has none of left out).

    >>> probe_counts(pd.DataFrame({"probe": ["", "polish", "polish", "padding"]}))
    {'padding': 1, 'polish': 2}
    """
    if "probe" not in bank.columns:
        return {}
    kinds = bank["probe"].fillna("").astype(str)
    return {str(k): int(n) for k, n in kinds[kinds != ""].value_counts().sort_index().items()}


def _base_problem(rec: dict[str, Any], kind: str) -> str | None:
    """Why ``rec`` cannot be a base for ``kind``, as a key of :data:`SKIP_REASONS`, or None."""
    if rec["gold"] not in ("A", "B"):
        return "tie"
    if rec.get("probe"):
        return "probe"
    if _CONSTRAINED.search(str(rec["prompt"])):
        return "constrained"
    if len(f"{rec['id']}~{kind}") > MAX_ID_CHARS:
        return "id"
    return None


def _probe_row(rec: dict[str, Any], kind: str, side: str, text: str) -> dict[str, Any]:
    """The probe of base ``rec`` whose response ``side`` becomes ``text``."""
    tags = tuple(dict.fromkeys((*rec["tags"], KIND_TAGS[kind])))
    rationale = _RATIONALES[kind].format(styled=side) + (rec["rationale"] or "")
    return {
        **rec,
        "id": f"{rec['id']}~{kind}",
        f"response_{side.lower()}": text,
        "rationale": rationale.strip(),
        "tags": tags,
        "probe": kind,
        "probe_of": str(rec["id"]),
        "styled": side,
    }


def _restyle(kind: str, rec: dict[str, Any], side: str, pick: _Pick) -> tuple[str | None, str]:
    """Response ``side`` of ``rec`` in ``kind``'s style and ``""``, or None and why it cannot be restyled."""
    text = str(rec[f"response_{side.lower()}"])
    blocks = _blocks(text)
    prose_words = sum(len(b.split()) for b in blocks if not b.startswith(_FENCES))
    if prose_words < MIN_PROSE_WORDS:
        return None, "code"
    if not _english(text):
        return None, "language"
    return _STYLERS[kind](blocks, rec, pick)


# --------------------------------------------------------------------------- text pieces

_FENCES = ("```", "~~~")
_STRUCTURED = re.compile(r"^(?:[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]|[ \t]{0,3}#|[ \t]*\||[ \t]*>|    |\t)")
_ABBREVIATIONS = {
    "e.g.",
    "i.e.",
    "etc.",
    "vs.",
    "mr.",
    "mrs.",
    "ms.",
    "dr.",
    "st.",
    "no.",
    "approx.",
    "cf.",
    "u.s.",
}
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"”’')\]]*\s+(?=[\"“'(¿¡*_`$A-Z0-9])")
_ENGLISH = {
    "the", "a", "an", "and", "or", "of", "to", "in", "is", "it", "that", "this", "you", "for", "on", "with",
    "are", "be", "as", "not", "your", "if", "can", "but", "so", "what", "at", "by", "from", "have", "was",
}  # fmt: skip


def _blocks(text: str) -> list[str]:
    """``text`` as its paragraphs (split at blank lines), a fenced code block always one block."""
    blocks: list[str] = []
    current: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        stripped = line.strip()
        if fence is not None:
            current.append(line)
            if stripped.startswith(fence) and stripped.strip("`~") == "":
                blocks.append("\n".join(current))
                current, fence = [], None
            continue
        if stripped.startswith(_FENCES):
            if current:
                blocks.append("\n".join(current))
            current, fence = [line], stripped[:3]
            continue
        if not stripped:
            if current:
                blocks.append("\n".join(current))
            current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _is_prose(block: str) -> bool:
    """A paragraph of running text on one line: not code, a list, a heading, a table or a quote."""
    return "\n" not in block and not block.startswith(_FENCES) and not _STRUCTURED.match(block)


def _sentences(paragraph: str) -> list[str]:
    """The sentences of a paragraph (not split after an abbreviation or inside inline code)."""
    pieces: list[str] = []
    start = 0
    for found in _SENTENCE_BREAK.finditer(paragraph):
        piece = paragraph[start : found.start()]
        last = piece.rsplit(None, 1)[-1] if piece.strip() else ""
        if (
            last.lower() in _ABBREVIATIONS
            or re.fullmatch(r"[A-Z]\.", last)  # an initial, as in J. K. Rowling
            or (paragraph[: found.start()].count("`") % 2)
        ):
            continue
        pieces.append(paragraph[start : found.end()].strip())
        start = found.end()
    pieces.append(paragraph[start:].strip())
    return [p for p in pieces if p]


def _is_draft(rec: dict[str, Any], blocks: list[str]) -> bool:
    """Whether the response is a text written for the user (an email, a story, a slogan), not an answer."""
    writes = _DRAFT.match(str(rec["prompt"])) and not any(b.startswith(_FENCES) for b in blocks)
    return bool(writes or _LETTER.match(blocks[0]))


def _english(text: str) -> bool:
    words = re.findall(r"[a-z']+", text.lower())
    return bool(words) and sum(w in _ENGLISH for w in words) >= 0.12 * len(words)


_STARTERS = set(
    "the this these those it its it's there there's a an you your you're if when since because both "
    "either each most many some all one in on for to with we they he she my our what how why no not yes so "
    "but and or as at by from after before while although even only just every any another here "
    "don't do does is are can".split()
)


def _lowered(sentence: str) -> str | None:
    """``sentence`` with its first letter lower case, when that is safe (a common word), else None."""
    first = sentence.split(None, 1)[0] if sentence.split() else ""
    if first.lower().strip(",") in _STARTERS and first[:1].isupper():
        return sentence[0].lower() + sentence[1:]
    return None


def _markdown_marks(text: str) -> int:
    """The Markdown polish count of :mod:`pairs.features` for one text."""
    counts = text_counts([text])[0]
    return int(counts[2:].sum())


# --------------------------------------------------------------------------- polish

_HEADINGS = {
    "coding": ("What's going on", "Explanation", "Here's the answer", "Overview"),
    "math": ("Solution", "Working it out", "The answer", "Step by step"),
    "draft": ("Draft", "Here it is", "Here's a version"),
    "": ("The short answer", "Quick answer", "Here's the answer", "Overview", "What you need to know"),
}
_HEADING_EMOJI = ("💡", "✅", "📌", "✨", "")
_LAST_EMOJI = ("✅", "👉", "💡")
_QUOTES = ('"', "“", "«", "'", "‘")
_DRAFT = re.compile(
    r"\s*(?:(?:please|can (?:you|u)|could you|would you)\s+)*"
    r"(?:write|draft|rewrite|compose|edit|translate|reword|rephrase|paraphrase|construct|create|generate|"
    r"type (?:this|it)|come up with|give me a (?:poem|story|slogan|name|title|haiku))\b",
    re.I,
)
_LETTER = re.compile(r"(?:Dear|Hi|Hello|Hey|To whom)\b")
_CODE_SPAN = re.compile(r"`[^`\n]+`")
_NUMBER_PHRASE = re.compile(r"(?<![\w*$.,/^-])\d[\d,]*(?:\.\d+)?(?:%|\s([a-z]{3,}))(?![\w*])")
_NOT_UNITS = {
    "and",
    "the",
    "for",
    "but",
    "are",
    "was",
    "were",
    "with",
    "not",
    "from",
    "that",
    "this",
    "than",
    "into",
}
_NO_BOLD = re.compile(r"^(?:[ \t]{0,3}#|[ \t]*\||[ \t]*>|    |\t)")


def _polish(blocks: list[str], rec: dict[str, Any], pick: _Pick) -> tuple[str | None, str]:
    """The same words with a heading, bold phrases, bullets and emoji; None when already formatted."""
    if _markdown_marks("\n\n".join(blocks)) > MAX_POLISH:
        return None, "formatted"
    bullets_from = pick("bullets", 2)  # 0: every sentence a bullet, 1: the first stays as a lead line
    # a letter, a story or a poem in bullets would be worse writing, not just more polish
    draft = bool(_DRAFT.match(str(rec["prompt"])))
    prose_piece = _is_draft(rec, blocks)
    out: list[str] = []
    for block in blocks:
        if not _is_prose(block) or prose_piece:
            out.append(block)
            continue
        sentences = _sentences(block)
        if len(sentences) >= 3 and not block.startswith(_QUOTES):  # a quotation stays whole
            # a short opener ("Sounds great!") stays a line of its own
            n_lead = max(bullets_from, int(len(sentences[0].split()) < 6))
            out += [" ".join(sentences[:n_lead])] if n_lead else []
            out.append("\n".join(f"- {s}" for s in sentences[n_lead:]))
        else:
            out.append(block)
    out = _bold(out, pick("bold", 3) + 1)
    emoji = pick.of("emoji", _HEADING_EMOJI)
    domain = "draft" if draft else str(rec["domain"])
    heading = pick.of("heading", _HEADINGS.get(domain, _HEADINGS[""]))
    out.insert(0, "## " + (f"{emoji} {heading}" if emoji else heading))
    if not prose_piece and (not emoji or pick("second emoji", 2)):
        last = max((i for i, b in enumerate(out) if _is_prose(b) and not b.startswith("#")), default=None)
        if last is not None and last > 0:
            others = [e for e in _LAST_EMOJI if e != emoji]
            out[last] = f"{pick.of('last emoji', others)} {out[last]}"
    return "\n\n".join(out), ""


def _bold(blocks: list[str], wanted: int) -> list[str]:
    """Bold up to ``wanted`` phrases, one a line: inline code, a number and its unit, or a first sentence."""
    out = list(blocks)
    done = 0
    for i, block in enumerate(out):
        if (
            done >= wanted
            or block.startswith(_FENCES)
            or block.startswith("#")
            or "**" in block
            or "__" in block
        ):
            continue
        lines = block.split("\n")
        for j, line in enumerate(lines):
            if done >= wanted or _NO_BOLD.match(line):
                continue
            found = _CODE_SPAN.search(line) or _number_outside_code(line)
            if found is None:
                continue
            lines[j] = f"{line[: found.start()]}**{found.group()}**{line[found.end() :]}"
            done += 1
        out[i] = "\n".join(lines)
    if done == 0:  # no term to stress: stress the first sentence, when it is short
        for i, block in enumerate(out):
            if _is_prose(block) and not block.startswith("#"):
                first = _sentences(block)[0]
                if len(first.split()) <= 16 and "*" not in first and "_" not in first:
                    out[i] = f"**{first}**{block[len(first) :]}" if block.startswith(first) else block
                break
    return out


def _number_outside_code(line: str) -> re.Match[str] | None:
    spans = [m.span() for m in _CODE_SPAN.finditer(line)]
    for found in _NUMBER_PHRASE.finditer(line):
        if found.group(1) in _NOT_UNITS:
            continue
        if not any(a <= found.start() < b for a, b in spans):
            return found
    return None


# --------------------------------------------------------------------------- padding

_GREETINGS = ("Great question!", "Thanks for asking!", "That's a really good question.")
_GLAD = ("Sure! I'd be happy to help with that.", "Of course! Happy to help.", "Absolutely, here you go.")
_TASK_WARM_UPS = (
    "I've taken care to go through this carefully and thoroughly.",
    "Let me take this one step at a time so that nothing important is missed.",
    "Here is a careful, thorough response to your request.",
)
_RESTATE = ("You want to know: “{q}”", "So the question is: “{q}”", "In other words: “{q}”")
_WARM_UPS = (
    "It's worth taking a moment to go through this carefully.",
    "This is something a lot of people wonder about, so let me walk you through it.",
    "It comes up more often than you might think, so let's go through it step by step.",
)
_HEDGES = ("It's important to note that", "It's worth keeping in mind that", "It's worth emphasizing that")
_HEDGES_COLON = ("It's important to note this:", "One point is worth stressing here:", "Keep this in mind:")
_DRAFT_NOTES = (
    "Feel free to adjust the wording so that it sounds like you, and add or remove details as you see fit.",
    "You can of course tweak the tone or the details to suit your situation and your own personal style.",
    "Let me know if you would like it to sound more formal or more casual, and I can adjust it for you.",
)
_RECAPS = ("In summary, {s}", "To sum up, {s}", "So, to recap, {s}")
_RECAPS_COLON = ("In summary: {s}", "To sum up: {s}", "So, to recap: {s}")
_EXTRAS = (
    "Before getting into the details, it helps to step back for a moment and look at what is really being "
    "asked here, because that makes everything that follows easier to follow.",
    "With all of that in mind, let's take a closer look at the specifics, one step at a time.",
    "I hope this helps! Let me know if you have any other questions, and I'd be happy to go into more detail "
    "on any part of it.",
    "Hopefully that clears things up. Feel free to reach out if anything is still unclear, and I can "
    "explain it in a different way.",
)


def _question(prompt: str) -> str | None:
    """The prompt's question, to restate: its first sentence ending in ``?`` of 4 to 22 words, or None.

    None for a conversation (``User: ... Assistant: ...``): its first question is not the one to answer.
    """
    if re.search(r"(?m)^(?:User|Assistant):", prompt):
        return None
    first = next((b for b in _blocks(prompt) if _is_prose(b)), "")
    return next((s for s in _sentences(first) if s.endswith("?") and 4 <= len(s.split()) <= 22), None)


def _pad(blocks: list[str], rec: dict[str, Any], pick: _Pick) -> tuple[str | None, str]:
    """The same answer with an opener, a hedge, a recap and polite filler; None short of the ratio."""
    prose = [i for i, b in enumerate(blocks) if _is_prose(b)]
    if not prose:
        return None, "layout"
    words = sum(len(b.split()) for b in blocks)
    out = list(blocks)
    # the recap repeats the first full sentence; the hedge goes on the next one
    sentences = [(i, s) for i in prose for s in _sentences(blocks[i])]
    stated = [
        k
        for k, (_, s) in enumerate(sentences)
        if s.endswith(".") and ":" not in " ".join(s.split()[:4]) and (s[0].isalnum() or s[0] == "`")
    ]
    first = sentences[stated[0]][1] if stated else None
    hedged = next((k for k in stated[1:]), None)
    draft = _is_draft(rec, blocks)  # the user's own text: no hedge inside it, a note instead of a recap
    if hedged is not None and not draft:
        i, target = sentences[hedged]
        lowered = _lowered(target)
        hedge = (
            f"{pick.of('hedge', _HEDGES)} {lowered}"
            if lowered is not None
            else f"{pick.of('hedge', _HEDGES_COLON)} {target}"
        )
        out[i] = out[i].replace(target, hedge, 1)
    if draft:
        recap = pick.of("recap", _DRAFT_NOTES)
    elif first is None:
        recap = pick.of("recap", _RECAPS).format(s="the points above are what matter here.")
    elif (lowered := _lowered(first)) is not None:
        recap = pick.of("recap", _RECAPS).format(s=lowered)
    else:
        recap = pick.of("recap", _RECAPS_COLON).format(s=first)
    question = _question(str(rec["prompt"]))
    asks = "?" in "\n".join(b for b in _blocks(str(rec["prompt"])) if not b.startswith(_FENCES))
    before = [
        pick.of("greeting", _GREETINGS if asks else _GLAD),
        *([pick.of("restate", _RESTATE).format(q=question)] if question else []),
        pick.of("warm-up", _WARM_UPS if asks else _TASK_WARM_UPS),
    ]
    after = [recap]
    extras = [_EXTRAS[0], _EXTRAS[1], pick.of("close", _EXTRAS[2:])]
    order = [2, 0, 1] if pick("extras", 2) else [2, 1, 0]
    total = sum(len(b.split()) for b in [*before, *out, *after])
    for k in order:
        if total >= PADDING_RATIO * words:
            break
        if k == 2:
            after.append(extras[2])
        elif k == 0:
            before.append(extras[0])
        elif draft:
            before.append(extras[1])
        else:
            out.insert(1 if len(out) > 1 else len(out), extras[1])
        total += len(extras[k].split())
    if total < PADDING_RATIO * words:
        return None, "long"
    return "\n\n".join([" ".join(before), *out, *after]), ""


# --------------------------------------------------------------------------- authority

_FIELDS = {
    "coding": "software engineering",
    "math": "mathematics",
    "writing": "professional writing",
    "law": "law",
    "finance": "finance",
    "medicine": "medicine",
}
_AUTHORITY_OPENERS = (
    "As an expert in {field} with many years of experience, I can tell you with confidence:",
    "Speaking as a specialist in {field}, and based on decades of professional practice:",
    "As someone who has worked in {field} for over twenty years, I can say this with authority:",
)
_CITATIONS = (
    "(according to a 2021 study)",
    "(as research from a leading university has shown)",
    "(a point most experts agree on)",
)
_PRACTICE_CITATIONS = (  # a study cited for a code review or a sum would read as a joke
    "(as any experienced practitioner will confirm)",
    "(this is well established in the field)",
    "(a point most experts agree on)",
)


def _authority(blocks: list[str], rec: dict[str, Any], pick: _Pick) -> tuple[str | None, str]:
    """The same answer behind an "as an expert" opener and a citation of nothing in particular."""
    prose = [i for i, b in enumerate(blocks) if _is_prose(b)]
    if not prose:
        return None, "layout"
    out = list(blocks)
    field = _FIELDS.get(str(rec["domain"]), "this field")
    first = _sentences(out[prose[0]])[0]
    citations = _PRACTICE_CITATIONS if rec["domain"] in ("coding", "math") else _CITATIONS
    citation = pick.of("citation", citations)
    cited = f"{first[:-1]} {citation}{first[-1]}" if first[-1] in ".!?" else f"{first} {citation}"
    out[prose[0]] = out[prose[0]].replace(first, cited, 1)
    out.insert(0, pick.of("opener", _AUTHORITY_OPENERS).format(field=field))
    return "\n\n".join(out), ""


_STYLERS: dict[str, Callable[[list[str], dict[str, Any], _Pick], tuple[str | None, str]]] = {
    "polish": _polish,
    "padding": _pad,
    "authority": _authority,
}
