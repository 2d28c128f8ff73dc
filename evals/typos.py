"""Golden questions as a hurried user types them: ``nhs-assistant eval --typos N`` puts N typos in each.

The golden sets are written with care; staff in a chat box are not. Any question file can be run this way,
so robustness to typos is measured on questions the assistant was never tuned on. A typo is one letter
dropped, two neighbouring letters swapped, or one letter replaced, anywhere in a word of five letters or more
that is not a stopword. The same file and N always give the same questions (the question's id seeds the
choices), so two runs compare.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace

from assistant.query import STOPWORDS
from evals.golden_check import GoldItem

MIN_LETTERS = 5
_WORD = re.compile(rf"[A-Za-z]{{{MIN_LETTERS},}}")
_REPLACEMENTS = "aeiourstnl"


def with_typos(item: GoldItem, count: int) -> GoldItem:
    """``item`` with ``count`` typos in its question (fewer when it has fewer long words); history unchanged."""
    return replace(item, question=mistype(item.question, count, random.Random(item.id)))


def mistype(text: str, count: int, rng: random.Random) -> str:
    words = [match for match in _WORD.finditer(text) if match.group(0).lower() not in STOPWORDS]
    chosen = rng.sample(words, min(count, len(words)))
    for match in sorted(chosen, key=lambda match: -match.start()):
        text = text[: match.start()] + _mistype_word(match.group(0), rng) + text[match.end() :]
    return text


def _mistype_word(word: str, rng: random.Random) -> str:
    at = rng.randrange(len(word) - 1)
    kind = rng.choice(("drop", "swap", "replace"))
    if kind == "drop":
        return word[:at] + word[at + 1 :]
    if kind == "swap":
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    letter = rng.choice([letter for letter in _REPLACEMENTS if letter != word[at].lower()])
    return word[:at] + letter + word[at + 1 :]
