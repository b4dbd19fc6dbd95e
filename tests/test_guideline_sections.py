"""The section of a cohort's guidelines the drill's feedback points to, by the pair's trap kinds."""

from __future__ import annotations

import pandas as pd

from pairs.bank import STARTER_BANK_PATH
from training.guidelines import TRAP_WORDS, section_for, sections

GUIDELINES = """Read the whole prompt first.

# How we rate

## Instructions and constraints
A response that breaks a stated limit loses, however good it reads.

### Word limits
Count them.

## Length
Longer is not better.

```markdown
## Polish (an example inside a code block, not a section)
```

## Formatting
Headers, bold and emoji earn nothing by themselves.
"""


def test_sections_follow_the_heading_levels_and_skip_code_blocks():
    found = sections(GUIDELINES)
    assert [s.heading for s in found] == [
        "How we rate",
        "Instructions and constraints",
        "Word limits",
        "Length",
        "Formatting",
    ]
    constraints = found[1].text
    assert "### Word limits" in constraints and "## Length" not in constraints  # a subsection stays inside
    assert found[3].text.startswith("## Length") and "## Polish (an example" in found[3].text
    assert found[0].text.endswith("emoji earn nothing by themselves.")  # the top level runs to the end


def test_a_trap_kind_finds_the_section_that_names_it_and_the_first_tag_wins():
    assert section_for(GUIDELINES, ["polish"]).heading == "Formatting"
    assert section_for(GUIDELINES, ["length", "polish"]).heading == "Length"
    assert section_for(GUIDELINES, ["constraint"]).heading == "Instructions and constraints"
    assert section_for(GUIDELINES, ["sycophancy"]) is None
    assert section_for("", ["length"]) is None
    assert section_for("## Lengthy discussions\nx", ["length"]) is None  # whole words only


def test_every_trap_kind_of_the_starter_bank_can_be_named():
    kinds = {tag for tags in pd.read_json(STARTER_BANK_PATH, lines=True)["tags"] for tag in tags}
    assert kinds <= set(TRAP_WORDS), kinds - set(TRAP_WORDS)
    for kind in kinds:
        assert section_for(f"## {kind.title()}\ntext", [kind]) is not None
