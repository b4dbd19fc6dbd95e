"""Names: one written form, what is refused and why, look-alike skeletons, and safe display."""

from __future__ import annotations

import io
import itertools
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairs.names import (
    PrintableWriter,
    describe_character,
    lookalike,
    name_problem,
    name_skeleton,
    name_skeletons,
    normalize_name,
    printable,
    printable_output,
)

LEGIT = [
    "José",
    "Zoë",
    "李雷",
    "Ærø",
    "Nguyễn Thị Minh",
    "Müller",
    "O'Brien",
    "Anne-Marie",
    "Ἀθηνᾶ",
    "Σωκράτης",
    "محمد",
    "अनीता",
    "Łukasz",
    "Saoirse Ní Bhriain",
    "Đặng",
    "田中 太郎",
    "Jose",
    "Zoe",
    "Aero",
]
"""Real names in many scripts (and the plain ASCII names a few of them resemble)."""


# --------------------------------------------------------------------------- normal form


@pytest.mark.parametrize("name", LEGIT)
def test_real_names_pass_unchanged(name):
    assert name_problem(name) is None
    assert normalize_name(name) == name


def test_real_names_do_not_look_alike():
    skeletons = {name: name_skeleton(name) for name in LEGIT}
    assert len(set(skeletons.values())) == len(LEGIT), skeletons
    for a, b in itertools.combinations(LEGIT, 2):
        assert lookalike(a, [b]) is None, (a, b)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("ａｌｉｃｅ", "alice"),  # full-width letters
        ("ﬁona", "fiona"),  # a ligature
        ("𝐚𝐥𝐢𝐜𝐞", "alice"),  # mathematical bold
        ("Jose\u0301", "José"),  # a decomposed accent, composed
        ("  alice  ", "alice"),
        ("alice \t  smith", "alice smith"),
        ("alice\u00a0smith", "alice smith"),  # no-break space
        ("alice\u3000smith", "alice smith"),  # ideographic space
        ("alice\u2003smith", "alice smith"),  # em space
        ("Ann \u2764\ufe0f", "Ann \u2764"),  # a variation selector picks a glyph, not a letter
        ("㈱", "(株)"),
    ],
)
def test_names_are_stored_in_one_written_form(given, stored):
    assert normalize_name(given) == stored
    assert normalize_name(stored) == stored


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("\x1b[31malice", "must not contain control characters (U+001B ESCAPE)"),
        ("ali\x00ce", "must not contain control characters (U+0000 NULL)"),
        ("alice\x07", "must not contain control characters (U+0007 BELL)"),
        ("alice\x08\x08\x08bob", "must not contain control characters (U+0008 BACKSPACE)"),
        ("ali\x7fce", "must not contain control characters (U+007F DELETE)"),
        ("\x9b31malice", "must not contain control characters (U+009B CONTROL SEQUENCE INTRODUCER)"),
        ("ali\nce", "must be on one line, without a line break (U+000A LINE FEED)"),
        ("ali\rce", "must be on one line, without a line break (U+000D CARRIAGE RETURN)"),
        ("ali\x0bce", "must be on one line, without a line break (U+000B LINE TABULATION)"),
        ("ali\x0cce", "must be on one line, without a line break (U+000C FORM FEED)"),
        ("ali\x85ce", "must be on one line, without a line break (U+0085 NEXT LINE)"),
        ("ali\u2028ce", "must be on one line, without a line break (U+2028 LINE SEPARATOR)"),
        ("ali\u2029ce", "must be on one line, without a line break (U+2029 PARAGRAPH SEPARATOR)"),
        ("alice\u200b", "must not contain invisible characters (U+200B ZERO WIDTH SPACE)"),
        ("ali\u200cce", "must not contain invisible characters (U+200C ZERO WIDTH NON-JOINER)"),
        ("ali\u200dce", "must not contain invisible characters (U+200D ZERO WIDTH JOINER)"),
        ("\ufeffalice", "must not contain invisible characters (U+FEFF ZERO WIDTH NO-BREAK SPACE)"),
        ("ali\u2060ce", "must not contain invisible characters (U+2060 WORD JOINER)"),
        ("ali\u00adce", "must not contain invisible characters (U+00AD SOFT HYPHEN)"),
        ("\u202eecila", "must not contain invisible characters (U+202E RIGHT-TO-LEFT OVERRIDE)"),
        ("\u202aalice", "must not contain invisible characters (U+202A LEFT-TO-RIGHT EMBEDDING)"),
        ("\u2067alice\u2069", "must not contain invisible characters (U+2067 RIGHT-TO-LEFT ISOLATE)"),
        ("alice\u200e", "must not contain invisible characters (U+200E LEFT-TO-RIGHT MARK)"),
        ("ali\u061cce", "must not contain invisible characters (U+061C ARABIC LETTER MARK)"),
        ("alice\U000e0041", "must not contain invisible characters (U+E0041 TAG LATIN CAPITAL LETTER A)"),
        ("\u3164", "must not contain invisible characters (U+1160 HANGUL JUNGSEONG FILLER)"),
        ("alice\u115f", "must not contain invisible characters (U+115F HANGUL CHOSEONG FILLER)"),
        ("\u2800", "must not contain invisible characters (U+2800 BRAILLE PATTERN BLANK)"),
        ("ali\u034fce", "must not contain invisible characters (U+034F COMBINING GRAPHEME JOINER)"),
        ("\ud800alice", "must be valid Unicode, without a lone surrogate (U+D800)"),
        ("", "must not be empty"),
        (" \t\u3000 ", "must not be empty"),
    ],
)
def test_what_a_name_may_not_hold_is_refused_with_a_plain_reason(text, reason):
    assert name_problem(text) == reason
    with pytest.raises(ValueError) as refused:
        normalize_name(text, "rater name")
    assert str(refused.value) == f"The rater name {reason}."
    assert printable(str(refused.value)) == str(refused.value)  # the message itself prints safely


def test_a_long_name_is_refused_after_normalizing():
    assert name_problem("x" * 200, max_chars=200) is None
    assert name_problem("x" * 201, max_chars=200) == "must have at most 200 characters"
    assert name_problem(" " * 50 + "x" * 200 + " " * 50, max_chars=200) is None  # trimmed first
    assert name_problem("\ufdfa", max_chars=10) == "must have at most 10 characters"  # NFKC: 18 characters
    with pytest.raises(ValueError, match="The cohort name must have at most 3 characters."):
        normalize_name("abcd", "cohort name", max_chars=3)


def test_only_text_is_a_name():
    assert name_problem(None) == "must be text, not NoneType"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="The name must be text, not int."):
        normalize_name(42)  # type: ignore[arg-type]


@given(st.text(max_size=30))
@settings(max_examples=500, deadline=None)
def test_a_normalized_name_is_stable_and_holds_nothing_hidden(text):
    if name_problem(text) is not None:
        with pytest.raises(ValueError):
            normalize_name(text)
        return
    name = normalize_name(text)
    assert normalize_name(name) == name
    assert name == name.strip() and "  " not in name and name
    hidden = [ch for ch in name if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")]
    assert hidden == [] and printable(name) == name
    assert name_skeletons(text) == name_skeletons(name)


# --------------------------------------------------------------------------- look-alikes


@pytest.mark.parametrize(
    "spoof",
    [
        "\u0430lice",  # Cyrillic a
        "\u0430l\u0456\u0441\u0435",  # Cyrillic a, Ukrainian i, es, ie
        "\u03b1lice",  # Greek alpha
        "ALICE",
        "Alice",
        "a1ice",  # digit one
        "ａｌｉｃｅ",
        "𝐚𝐥𝐢𝐜𝐞",
        "ali\u200bce",  # the invisible character does not count
        " alice ",
    ],
)
def test_look_alikes_of_a_name_have_its_skeleton(spoof):
    assert name_skeleton(spoof) == name_skeleton("alice")


def test_a_capital_i_looks_like_an_l_beside_small_letters_and_like_an_i_among_capitals():
    assert lookalike("aIice", ["alice"]) == "alice"  # sans-serif I and l are drawn alike
    assert lookalike("PaypaI", ["paypal"]) == "paypal"
    assert lookalike("IVAN", ["ivan"]) == lookalike("Ivan", ["ivan"]) == "ivan"
    assert lookalike("ALICE", ["alice"]) == "alice"
    assert name_skeletons("aIice")[1] == name_skeletons("alice")[1]
    assert name_skeletons("Ivan")[0] == name_skeletons("ivan")[0]


def test_other_look_alikes():
    assert name_skeleton("b\u043eb") == name_skeleton("bob") == name_skeleton("b0b")  # Cyrillic o, zero
    assert name_skeleton("\u0440\u0430\u0443\u0440\u0430l") == name_skeleton("paypal")
    assert name_skeleton("Ρ\u0391ULA") == name_skeleton("paula")  # Greek capitals
    assert name_skeleton("rn") == name_skeleton("m")
    assert name_skeleton("ʟ") != name_skeleton("alice")  # a skeleton is compared, never shown


def test_lookalike_names_the_name_taken_and_not_the_same_name():
    taken = ["bob", "alice", "carol"]
    assert lookalike("\u0430lice", taken) == "alice"
    assert lookalike("ALICE", taken) == "alice"
    assert lookalike("alice", taken) is None  # the same name: the caller's uniqueness rule, not a look-alike
    assert lookalike("ａｌｉｃｅ", taken) is None  # the same name once normalized
    assert lookalike("dave", taken) is None
    assert lookalike("alice", []) is None


def test_skeletons_are_computed_from_the_confusables_data():
    # U+0261 LATIN SMALL LETTER SCRIPT G is confusable with g only in Unicode's data (it is no case
    # or compatibility variant), so an equal skeleton shows the data is in use.
    assert unicodedata.normalize("NFKC", "\u0261") != "g" and "\u0261".casefold() != "g"
    assert name_skeleton("\u0261reg") == name_skeleton("greg")


# --------------------------------------------------------------------------- display


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[31malice\x1b[0m", "\\x1b[31malice\\x1b[0m"),
        ("\x9b2J", "\\x9b2J"),
        ("a\u202eb", "a\\u202eb"),
        ("a\u200bb", "a\\u200bb"),
        ("a\nb\rc", "a\\nb\\rc"),
        ("a\u2028b", "a\\u2028b"),
        ("\u3164", "\\u3164"),
        ("\x00", "\\x00"),
        ("\U000e0041", "\\U000e0041"),
        ("\ud800", "\\ud800"),
    ],
)
def test_printable_escapes_what_a_terminal_would_obey_or_hide(text, shown):
    assert printable(text) == shown
    assert printable(shown) == shown


@pytest.mark.parametrize(
    "text", [*LEGIT, "plain ascii", "tab-free: 100 %", "emoji \U0001f600 \u2764\ufe0f", ""]
)
def test_printable_leaves_visible_text_alone(text):
    assert printable(text) == text


def test_printable_keeps_the_line_ends_asked_for():
    assert printable("a\nb\x1b\n", keep="\n") == "a\nb\\x1b\n"
    assert printable("a\r\nb", keep="\n") == "a\\r\nb"


def test_describe_character():
    assert describe_character("\u0430") == "U+0430 CYRILLIC SMALL LETTER A"
    assert describe_character("\x1b") == "U+001B ESCAPE"
    assert describe_character("\U0001f600") == "U+1F600 GRINNING FACE"


def test_printable_output_escapes_everything_printed_and_then_lets_go():
    out, err = io.StringIO(), io.StringIO()
    real = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        with printable_output():
            assert isinstance(sys.stdout, PrintableWriter)
            print("rater \x1b[2Jmallory\u202e")
            print("line 1\nline 2", file=sys.stderr)
        assert (sys.stdout, sys.stderr) == (out, err)
    finally:
        sys.stdout, sys.stderr = real
    assert out.getvalue() == "rater \\x1b[2Jmallory\\u202e\n"
    assert err.getvalue() == "line 1\nline 2\n"
